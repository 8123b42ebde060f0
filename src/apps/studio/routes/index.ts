/**
 * @module apps/studio/routes
 * The studio HTTP API under /api/v1/studio, one module per resource: conversations (browse and
 * review), library (templates and scenarios), jobs (generation), exports. Their SQL is in
 * ../queries.ts, their schemas and auth rules in ./schemas.ts: every route needs a curator (or
 * the admin), checked before the body is read.
 */
import type { FastifyInstance } from 'fastify';
import type { CoreConfig } from '../../../core/config.js';
import type { Database } from '../../../db/database.js';
import { SharedReads, TtlCache } from '../cache.js';
import type { JobRunner } from '../jobs.js';
import { kindOf, type StudioMetrics } from '../observability.js';
import type { StudioDB } from '../types.js';
import type { StudioConfig } from '../settings.js';
import { registerConversationRoutes } from './conversations.js';
import { registerExportRoutes } from './exports.js';
import { registerJobRoutes } from './jobs.js';
import { registerLibraryRoutes } from './library.js';
import { CACHE_TTL_MS } from './schemas.js';

export interface StudioRouteDeps {
  database: Database<StudioDB>;
  config: CoreConfig & StudioConfig;
  metrics: StudioMetrics;
  jobs: JobRunner;
  generatorName: string;
}

export function registerStudioRoutes(http: FastifyInstance, deps: StudioRouteDeps): void {
  const { database, metrics } = deps;
  const shared = new SharedReads('shared_reads', metrics.cache);
  // Stats are aggregates over the whole table: a few seconds stale is fine, a scan per page view is not.
  const statsCache = new TtlCache<unknown>('stats', 5_000, metrics.cache);
  // Any statement that is not a plain read (insert, update, delete, begin/commit) detaches the
  // shared reads in flight; one that writes conversations (a job's chunk, a seed, a bulk change,
  // an edit) drops the stats too, so the cards never lag the list after a job.
  const stopWatchingWrites = database.onQuery((_ms, text) => {
    const kind = kindOf(text);
    if (kind === 'select' || kind === 'explain') return;
    shared.invalidate();
    if ((kind === 'insert' || kind === 'update' || kind === 'delete') && /\bstudio_conversations\b/.test(text)) statsCache.invalidate();
  });
  http.addHook('onClose', async () => void stopWatchingWrites());
  const ctx = {
    database,
    db: database.db,
    jobs: deps.jobs,
    generatorName: deps.generatorName,
    templatesCache: new TtlCache<unknown>('templates', CACHE_TTL_MS, metrics.cache),
    scenariosCache: new TtlCache<unknown>('scenarios', CACHE_TTL_MS, metrics.cache),
    statsCache,
    shared,
  };
  registerConversationRoutes(http, ctx);
  registerLibraryRoutes(http, ctx);
  registerJobRoutes(http, ctx);
  registerExportRoutes(http, ctx);
}
