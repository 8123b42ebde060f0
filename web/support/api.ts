/**
 * @module web/support/api
 * The help desk's REST calls and the shapes the UI keeps: what the desk's API returns (types
 * from the app's browser-shared src/apps/support/shared/types, erased from the bundle) and the room events pushed on the hub.
 */
import type { ChatMessage, ControlMode, Role, SupportUser, Ticket, TicketStatus } from '../../src/apps/support/shared/types.js';
import { ApiError } from '../shared/api-error.js';

export type { ControlMode, Role, TicketStatus, SupportUser as User, Ticket };
export type { RemoteSession } from '../../src/apps/support/shared/types.js';

/** A chat line as the UI keeps it: built from REST pages and from live events, which carry these fields. */
export type Message = Pick<ChatMessage, 'id' | 'authorId' | 'authorName' | 'body' | 'createdAt'>;
export interface StreamEvent {
  eventId: string;
  type: string;
  roomId: string;
  timestamp: number;
  payload: Record<string, unknown>;
  metadata: { actorId: string; actorRole: Role; ticket?: Ticket };
}
export interface Session {
  token: string;
  user: SupportUser;
}

export const API = '/api/v1/support';
export const STATUSES: TicketStatus[] = ['open', 'pending', 'solved', 'closed'];
export const MODE_LABEL: Record<ControlMode, string> = { view_only: 'view only', full_control: 'full control' };
/** The longest chat message the desk accepts (the composer says so and stops there). */
export const MAX_MESSAGE_CHARS = 4000;

/** Statuses that mean "the server may not have finished it": a keyed request is sent again. */
const RETRY_STATUSES = new Set([502, 503, 504]);
const RETRY_DELAYS_MS = [300, 1000];

/**
 * One REST call. With `idempotencyKey` (requests that create something), the key goes in the
 * Idempotency-Key header and a network failure or a 502/503/504 is retried with the same key:
 * if the first attempt was stored and only its answer was lost, the retry returns that one.
 */
export async function api<T>(token: string | null, method: string, path: string, body?: unknown, options: { idempotencyKey?: string } = {}): Promise<T> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
  const init = { method, headers, body: body === undefined ? undefined : JSON.stringify(body) };
  for (let attempt = 0; ; attempt++) {
    const retryable = options.idempotencyKey !== undefined && attempt < RETRY_DELAYS_MS.length;
    let res: Response;
    try {
      res = await fetch(`${API}${path}`, init);
    } catch (err) {
      if (!retryable) throw err;
      await new Promise((r) => setTimeout(r, RETRY_DELAYS_MS[attempt]));
      continue;
    }
    if (retryable && RETRY_STATUSES.has(res.status)) {
      await new Promise((r) => setTimeout(r, RETRY_DELAYS_MS[attempt]));
      continue;
    }
    const json = (await res.json().catch(() => ({}))) as T & { error?: { code: string; message: string } };
    if (!res.ok) throw new ApiError(res.status, json.error?.code ?? 'error', json.error?.message ?? res.statusText);
    return json;
  }
}

/** A fresh random key (getRandomValues also works where randomUUID does not: plain http on a LAN). */
export function newIdempotencyKey(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * One idempotency key per user action. The same action (same target, same text) tried again
 * after a failure, automatically or by pressing Send again, reuses its key, so it is stored
 * once; once it succeeded, the next action, even with the same text, gets a fresh key.
 */
export class ActionKeys {
  private readonly pending = new Map<string, string>();

  keyFor(action: string): string {
    let key = this.pending.get(action);
    if (!key) {
      // Bounded: only failed actions stay, and an old failure is not retried any more.
      if (this.pending.size >= 100) this.pending.delete(this.pending.keys().next().value!);
      key = newIdempotencyKey();
      this.pending.set(action, key);
    }
    return key;
  }

  succeeded(action: string): void {
    this.pending.delete(action);
  }
}

/** The page's keys: one user, one tab. */
export const actionKeys = new ActionKeys();

/** Names for ids: agents know every user; a customer knows herself (and agents by the events they send). */
export type Names = Map<string, string>;
export const nameOf = (names: Names, id: string | null, fallback = 'someone') => (id ? (names.get(id) ?? fallback) : fallback);
