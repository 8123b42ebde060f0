/**
 * @module apps/support/idempotency
 * Client retries without duplicates: a post or a new ticket may carry an `Idempotency-Key`
 * (a fresh key per user action, sent again unchanged on a retry). The key is stored on the
 * message it created (unique per author), so a retry finds what the first attempt stored.
 */
import type { Kysely } from 'kysely';
import { AirwavesError, Errors } from '../../core/errors.js';
import { isUniqueViolation } from '../../db/database.js';
import type { SupportDB } from './schema.js';

/** The visible-ASCII shape of a key; the route schemas declare the same pattern. */
export const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,200}$/;

/**
 * The `Idempotency-Key` header of a request: 1–200 visible ASCII characters, or absent. A retry
 * with the same key returns what the first attempt stored.
 */
export function parseIdempotencyKey(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  const value = Array.isArray(header) ? header[0] : header;
  if (!IDEMPOTENCY_KEY_PATTERN.test(value ?? '')) throw new AirwavesError(Errors.badRequest, 'Idempotency-Key: must be 1 to 200 visible ASCII characters');
  return value;
}

/** The message an author stored under `key`, and whether it opened its ticket. */
export interface KeyedMessage {
  id: number;
  ticketId: string;
  body: string;
  eventId: string;
  createdAt: Date;
  /** True when it is its ticket's first message (the key was given when opening the ticket). */
  openedTicket: boolean;
}

export async function keyedMessage(db: Kysely<SupportDB>, authorId: string, key: string): Promise<KeyedMessage | null> {
  const row = await db.selectFrom('support_messages').selectAll().where('author_id', '=', authorId).where('client_key', '=', key).executeTakeFirst();
  if (!row) return null;
  const first = await db.selectFrom('support_messages').select('id').where('ticket_id', '=', row.ticket_id).orderBy('id').limit(1).executeTakeFirstOrThrow();
  return { id: Number(row.id), ticketId: row.ticket_id, body: row.body, eventId: row.event_id, createdAt: row.created_at as Date, openedTicket: String(first.id) === String(row.id) };
}

/**
 * Runs `write` once per key: without a key, always; with one, unless `earlier` finds what an
 * earlier attempt stored under it. Two retries racing each other: the loser's insert breaks the
 * unique key, and it answers with what the winner stored.
 */
export async function onceByKey<T>(key: string | null, earlier: (key: string) => Promise<T | null>, write: () => Promise<T>): Promise<T> {
  if (key === null) return write();
  const stored = await earlier(key);
  if (stored) return stored;
  try {
    return await write();
  } catch (err) {
    const winner = isUniqueViolation(err) ? await earlier(key) : null;
    if (winner) return winner;
    throw err;
  }
}
