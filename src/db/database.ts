/**
 * @module db/database
 * The shared database: embedded PGlite by default (files under the data directory), PostgreSQL
 * when DATABASE_URL is a postgres:// URL. Both speak PostgreSQL, so every query is written once
 * with Kysely. `pglite://memory` gives an in-memory PGlite (tests).
 *
 * Each app owns its migrations and its own migration table, so apps stay independent.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Kysely, Migrator, PostgresDialect, sql, type Migration, type MigrationProvider } from 'kysely';
import { PGlite } from '@electric-sql/pglite';
import { PGliteDialect } from 'kysely-pglite-dialect';
import pg from 'pg';

export type DatabaseEngine = 'pglite' | 'postgres';

/** A unique constraint refused the row (SQLSTATE 23505), on PostgreSQL and PGlite alike. */
export function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: string }).code === '23505';
}

export interface DatabaseOptions {
  /** postgres://… for PostgreSQL, pglite://memory for in-memory PGlite, unset for PGlite files. */
  url?: string;
  dataDir: string;
  /** PostgreSQL pool size. */
  poolSize?: number;
}

export type QueryListener = (durationMs: number, sqlText: string, failed: boolean) => void;

export interface Database<DB = unknown> {
  readonly engine: DatabaseEngine;
  readonly db: Kysely<DB>;
  /** The PostgreSQL pool (stats for metrics); null on PGlite. */
  readonly pool: pg.Pool | null;
  /**
   * Adds a listener called after every query with its duration (ms) and SQL (metrics, slow-query
   * log). Several apps may listen on the shared database; returns a function that removes it.
   */
  onQuery(listener: QueryListener): () => void;
  /** Runs an app's migrations (in name order) in its own migration table. */
  migrate(app: string, migrations: Record<string, Migration>): Promise<void>;
  close(): Promise<void>;
}

class StaticMigrations implements MigrationProvider {
  constructor(private readonly migrations: Record<string, Migration>) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    return this.migrations;
  }
}

export async function openDatabase<DB = unknown>(options: DatabaseOptions): Promise<Database<DB>> {
  const url = options.url;
  let engine: DatabaseEngine;
  let pool: pg.Pool | null = null;
  let dialect;
  if (url && /^postgres(ql)?:\/\//.test(url)) {
    engine = 'postgres';
    pool = new pg.Pool({ connectionString: url, max: options.poolSize ?? 10 });
    // An idle client whose server went away emits 'error' on the pool; unhandled, it would end the process.
    pool.on('error', () => {});
    dialect = new PostgresDialect({ pool });
  } else {
    engine = 'pglite';
    let dir: string | undefined;
    if (url === 'pglite://memory') dir = undefined;
    else if (url && url.startsWith('pglite://')) dir = resolve(url.slice('pglite://'.length));
    else if (url) throw new Error(`DATABASE_URL must be postgres://… or pglite://…; got "${url.split('@').pop()}"`);
    else dir = resolve(join(options.dataDir, 'pglite'));
    if (dir) mkdirSync(dir, { recursive: true });
    const pglite = dir ? new PGlite(dir) : new PGlite();
    await pglite.waitReady;
    dialect = new PGliteDialect(pglite);
  }
  const listeners = new Set<QueryListener>();
  const db = new Kysely<DB>({
    dialect,
    log: (event) => {
      if (listeners.size === 0) return;
      const failed = event.level === 'error';
      for (const listener of listeners) listener(event.queryDurationMillis, event.query.sql, failed);
    },
  });
  await sql`select 1`.execute(db);

  return {
    engine,
    db,
    pool,
    onQuery(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async migrate(app, migrations) {
      const migrator = new Migrator({
        db,
        provider: new StaticMigrations(migrations),
        migrationTableName: `airwaves_migrations_${app}`,
        migrationLockTableName: `airwaves_migrations_${app}_lock`,
      });
      const { error, results } = await migrator.migrateToLatest();
      if (error) {
        const failed = results?.find((r) => r.status === 'Error')?.migrationName;
        throw new Error(`migration ${app}/${failed ?? '?'} failed: ${(error as Error).message}`);
      }
    },
    async close() {
      await db.destroy();
    },
  };
}
