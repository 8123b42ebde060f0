/**
 * @module db/database
 * The shared database: embedded PGlite by default (files under the data directory), PostgreSQL
 * when DATABASE_URL is a postgres:// URL. Both speak PostgreSQL, so every query is written once
 * with Kysely. `pglite://memory` gives an in-memory PGlite (tests). PGlite runs in a worker thread
 * (db/pglite-thread), so its WebAssembly never holds up the event loop.
 *
 * Each app owns its migrations and its own migration table, so apps stay independent.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { lockDataDir, type DataDirLock } from './data-dir-lock.js';
import { backupBeforeMigration } from './backups.js';
import { DEFAULT_OPEN_TIMEOUT_MS, DataDirUnopenableError, FIRST_OPEN_TIMEOUT_MS, unopenable } from './pglite-open.js';
import { probeDataDir } from './pglite-probe.js';
import { PGliteThread } from './pglite-thread.js';
import { Kysely, Migrator, PostgresDialect, sql, type Migration, type MigrationProvider } from 'kysely';
import type { PGlite } from '@electric-sql/pglite';
import { PGliteDialect } from 'kysely-pglite-dialect';
// Types only here: `pg` (and its pg-protocol, pg-pool… ~0.3 MB of source V8 keeps) is loaded by
// openDatabase when the URL is PostgreSQL's, not by every server that runs on PGlite.
import type pg from 'pg';

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
  /**
   * How long opening an embedded data directory may take before the start fails (ms); by default
   * 60 s, or 300 s for a directory that holds no database yet (initdb runs first).
   */
  openTimeoutMs?: number;
}

export type QueryListener = (durationMs: number, sqlText: string, failed: boolean) => void;

export interface Database<DB = unknown> {
  readonly engine: DatabaseEngine;
  readonly db: Kysely<DB>;
  /** The PostgreSQL pool (stats for metrics); null on PGlite. */
  readonly pool: pg.Pool | null;
  /** The embedded data directory (PGlite files), or null for PostgreSQL and in-memory PGlite. */
  readonly dataDir: string | null;
  /** This process's lock on `dataDir` (db/data-dir-lock), or null when there is no directory. */
  readonly lock: DataDirLock | null;
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

/**
 * The PGlite directory a configuration uses: `pglite://<path>`, else `<dataDir>/pglite`; null for
 * PostgreSQL and in-memory PGlite.
 */
export function embeddedDataDir(url: string | undefined, dataDir: string): string | null {
  if (url && /^postgres(ql)?:\/\//.test(url)) return null;
  if (url === 'pglite://memory') return null;
  if (url && url.startsWith('pglite://')) return resolve(url.slice('pglite://'.length));
  if (url) throw new Error(`DATABASE_URL must be postgres://… or pglite://…; got "${url.split('@').pop()}"`);
  return resolve(join(dataDir, 'pglite'));
}

export async function openDatabase<DB = unknown>(options: DatabaseOptions): Promise<Database<DB>> {
  const url = options.url;
  let engine: DatabaseEngine;
  let pool: pg.Pool | null = null;
  let dialect;
  let dir: string | undefined;
  let lock: DataDirLock | null = null;
  let pglite: PGliteThread | undefined;
  if (url && /^postgres(ql)?:\/\//.test(url)) {
    engine = 'postgres';
    const { default: postgres } = await import('pg');
    pool = new postgres.Pool({ connectionString: url, max: options.poolSize ?? 10 });
    // An idle client whose server went away emits 'error' on the pool; unhandled, it would end the process.
    pool.on('error', () => {});
    dialect = new PostgresDialect({ pool });
  } else {
    engine = 'pglite';
    dir = embeddedDataDir(url, options.dataDir) ?? undefined;
    if (dir) {
      mkdirSync(dir, { recursive: true });
      // Before PGlite touches a file: a second process must never open the directory at all.
      lock = lockDataDir(dir);
      try {
        // The last holder died without closing: the directory may be damaged in a way that spins
        // inside PGlite, where no timer fires. Read it through in a child that can be killed first.
        if (lock.tookOverStale) {
          const probe = await probeDataDir(dir, options.openTimeoutMs ?? 60_000);
          if (!probe.ok) throw new DataDirUnopenableError(dir, probe.error ?? 'unreadable');
        }
        const timeoutMs = options.openTimeoutMs ?? (existsSync(join(dir, 'PG_VERSION')) ? DEFAULT_OPEN_TIMEOUT_MS : FIRST_OPEN_TIMEOUT_MS);
        pglite = await PGliteThread.open({ dir, timeoutMs }).catch((err: unknown) => {
          throw unopenable(dir!, err);
        });
      } catch (err) {
        lock.release();
        throw err;
      }
    } else {
      pglite = await PGliteThread.open({ dir: null, timeoutMs: options.openTimeoutMs ?? FIRST_OPEN_TIMEOUT_MS });
    }
    // The dialect calls query(sql, params) and close() only: the thread's stand-ins for PGlite's.
    dialect = new PGliteDialect(pglite as unknown as PGlite);
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

  let migrating: Promise<unknown> = Promise.resolve();
  const migrateApp = async (app: string, migrations: Record<string, Migration>): Promise<void> => {
    const migrator = new Migrator({
      db,
      provider: new StaticMigrations(migrations),
      migrationTableName: `airwaves_migrations_${app}`,
      migrationLockTableName: `airwaves_migrations_${app}_lock`,
    });
    // A schema change is the moment a directory is most at risk: keep a copy from just before.
    if (dir && pglite && (await migrator.getMigrations()).some((m) => m.executedAt === undefined)) {
      await backupBeforeMigration(pglite, dir, app);
    }
    const { error, results } = await migrator.migrateToLatest();
    if (error) {
      const failed = results?.find((r) => r.status === 'Error')?.migrationName;
      throw new Error(`migration ${app}/${failed ?? '?'} failed: ${(error as Error).message}`);
    }
  };

  return {
    engine,
    db,
    pool,
    dataDir: dir ?? null,
    lock,
    onQuery(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    migrate(app, migrations) {
      // One at a time: apps start concurrently, and a backup copies the directory while no other
      // migration changes it.
      const run = migrating.then(() => migrateApp(app, migrations));
      migrating = run.catch(() => undefined);
      return run;
    },
    async close() {
      try {
        await db.destroy();
      } finally {
        lock?.release();
      }
    },
  };
}
