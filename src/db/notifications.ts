/**
 * @module db/notifications
 * PostgreSQL LISTEN on one channel, held on a dedicated pooled connection for as long as the
 * caller wants it: each NOTIFY payload goes to `onNotification`; a lost connection is replaced
 * (after a second) and `onReconnect` runs, since notifications sent meanwhile were missed and the
 * caller must look for itself. On PGlite there is nothing to listen to (one process owns the
 * data directory, db/data-dir-lock) and the returned stop function does nothing.
 */
import type pg from 'pg';
import type { Logger } from '../core/logger.js';
import type { Database } from './database.js';

export interface NotificationHandlers {
  onNotification(payload: string): void;
  /** The connection was replaced (or never came up): notifications may have been missed. */
  onReconnect(): void;
}

/** A channel name is an SQL identifier here (LISTEN takes no parameter): letters, digits, underscores. */
const CHANNEL_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** LISTENs on `channel` until the returned function is called. */
export async function listenForNotifications(database: Pick<Database, 'engine' | 'pool'>, channel: string, handlers: NotificationHandlers, log: Logger): Promise<() => Promise<void>> {
  const pool = database.pool;
  if (database.engine !== 'postgres' || !pool) return async () => {};
  if (!CHANNEL_NAME.test(channel)) throw new Error(`invalid notification channel name "${channel}"`);
  let stopped = false;
  let client: pg.PoolClient | undefined;
  // Each client is released exactly once: after release the pool owns it, and a late error on it
  // must not release it again. Our listeners go with it: a pooled client serves other queries
  // afterwards, and their errors are not this listener's (the pool puts its own error listener back).
  const released = new WeakSet<pg.PoolClient>();
  const errorListeners = new WeakMap<pg.PoolClient, (err: Error) => void>();
  const release = (c: pg.PoolClient, err?: Error) => {
    if (released.has(c)) return;
    released.add(c);
    const onError = errorListeners.get(c);
    if (onError) c.removeListener('error', onError);
    c.removeAllListeners('notification');
    c.release(err);
  };
  const retry = () => {
    if (!stopped) setTimeout(() => void connect(), 1000).unref();
  };
  const connect = async (): Promise<void> => {
    let c: pg.PoolClient | undefined;
    try {
      c = await pool.connect();
      const conn = c;
      const onError = (err: Error) => {
        log.warn({ err, channel }, 'notification listener lost its connection; reconnecting');
        release(conn, err);
        if (client === conn) client = undefined;
        handlers.onReconnect();
        retry();
      };
      errorListeners.set(conn, onError);
      conn.on('error', onError);
      conn.on('notification', (msg) => {
        if (msg.channel === channel) handlers.onNotification(msg.payload ?? '');
      });
      await conn.query(`listen ${channel}`);
      client = conn;
      if (stopped) release(conn);
    } catch (err) {
      if (c) release(c, err as Error);
      log.warn({ err, channel }, 'could not listen for notifications; retrying');
      handlers.onReconnect();
      retry();
    }
  };
  await connect();
  return async () => {
    stopped = true;
    const c = client;
    client = undefined;
    if (c) {
      await c.query(`unlisten ${channel}`).catch(() => {});
      release(c);
    }
  };
}
