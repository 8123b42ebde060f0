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
import type { Logger } from '../../core/logger.js';
import type { Database } from '../../db/database.js';
import { listenForNotifications } from '../../db/notifications.js';
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
export function listenForUserChanges(database: Database, handlers: { forget(id: string): void; forgetAll(): void }, log: Logger): Promise<() => Promise<void>> {
  return listenForNotifications(
    database,
    USER_CHANGES_CHANNEL,
    {
      onNotification: (id) => {
        if (id) handlers.forget(id);
      },
      onReconnect: () => handlers.forgetAll(),
    },
    log,
  );
}
