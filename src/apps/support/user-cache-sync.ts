/**
 * @module apps/support/user-cache-sync
 * Every node keeps a cache of help desk users (read on every request and subscribe). A user or
 * role change is announced with PostgreSQL NOTIFY in the transaction that writes it (delivered on
 * commit, to every node sharing the database), and each node LISTENs and drops the user from its
 * cache at once, so a demoted agent loses agent rights on every node together. Nodes share
 * state only through PostgreSQL (an embedded PGlite directory has a single process: db/data-dir-lock),
 * so on PGlite the local cache drop in the desk is the whole story.
 */
import { sql, type Kysely } from 'kysely';
import type pg from 'pg';
import type { Logger } from '../../core/logger.js';
import type { Database } from '../../db/database.js';
import type { SupportDB } from './schema.js';

export const USER_CHANGES_CHANNEL = 'airwaves_support_users';

/** Announces that user `id` changed; call inside the transaction that changed it. */
export async function announceUserChange(db: Kysely<SupportDB>, id: string): Promise<void> {
  await sql`select pg_notify(${USER_CHANGES_CHANNEL}, ${id})`.execute(db);
}

/**
 * Listens for user changes on PostgreSQL and calls `forget(id)` for each; `forgetAll()` after a
 * lost connection (changes may have been missed meanwhile). Returns a function that stops.
 */
export async function listenForUserChanges(database: Database, handlers: { forget(id: string): void; forgetAll(): void }, log: Logger): Promise<() => Promise<void>> {
  const pool = database.pool;
  if (database.engine !== 'postgres' || !pool) return async () => {};
  let stopped = false;
  let client: pg.PoolClient | undefined;
  /** Releases `c` once: after release the pool owns it, and a late error must not release it again. */
  const releaser = (c: pg.PoolClient, onError: (err: Error) => void) => {
    let released = false;
    return (err?: Error) => {
      if (released) return;
      released = true;
      c.removeListener('error', onError);
      c.removeAllListeners('notification');
      c.release(err);
    };
  };
  const releases = new WeakMap<pg.PoolClient, (err?: Error) => void>();
  const connect = async (): Promise<void> => {
    let c: pg.PoolClient | undefined;
    try {
      c = await pool.connect();
      const conn = c;
      const onError = (err: Error) => {
        log.warn({ err }, 'user change listener lost its connection; reconnecting');
        releases.get(conn)?.(err);
        if (client === conn) client = undefined;
        handlers.forgetAll();
        if (!stopped) setTimeout(() => void connect(), 1000).unref();
      };
      releases.set(conn, releaser(conn, onError));
      conn.on('notification', (msg) => {
        if (msg.channel === USER_CHANGES_CHANNEL && msg.payload) handlers.forget(msg.payload);
      });
      conn.on('error', onError);
      await conn.query(`listen ${USER_CHANGES_CHANNEL}`);
      client = conn;
      if (stopped) releases.get(conn)?.();
    } catch (err) {
      if (c) releases.get(c)?.(err as Error);
      log.warn({ err }, 'could not listen for user changes; retrying');
      handlers.forgetAll();
      if (!stopped) setTimeout(() => void connect(), 1000).unref();
    }
  };
  await connect();
  return async () => {
    stopped = true;
    const c = client;
    client = undefined;
    if (c) {
      await c.query(`unlisten ${USER_CHANGES_CHANNEL}`).catch(() => {});
      releases.get(c)?.();
    }
  };
}
