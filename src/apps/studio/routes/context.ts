/**
 * @module apps/studio/routes/context
 * What the studio's route groups share: the database, the read caches and the job runner.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../../db/database.js';
import type { SharedReads, TtlCache } from '../cache.js';
import type { JobRunner } from '../jobs.js';
import type { StudioDB } from '../types.js';

export interface StudioRouteContext {
  database: Database<StudioDB>;
  db: Kysely<StudioDB>;
  jobs: JobRunner;
  generatorName: string;
  templatesCache: TtlCache<unknown>;
  scenariosCache: TtlCache<unknown>;
  statsCache: TtlCache<unknown>;
  /** Identical conversation reads in flight share one query (see SharedReads). */
  shared: SharedReads;
}
