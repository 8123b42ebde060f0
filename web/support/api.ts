/**
 * @module web/support/api
 * The help desk's REST calls and the shapes the UI keeps: what the desk's API returns (types
 * imported from the server, erased from the bundle) and the room events pushed on the hub.
 */
import type { ControlMode, Role, TicketStatus } from '../../src/apps/support/events.js';
import type { ChatMessage, SupportUser, Ticket } from '../../src/apps/support/desk.js';

export type { ControlMode, Role, TicketStatus, SupportUser as User, Ticket };
export type { RemoteSession } from '../../src/apps/support/desk.js';

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

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function api<T>(token: string | null, method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${API}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = (await res.json().catch(() => ({}))) as T & { error?: { code: string; message: string } };
  if (!res.ok) throw new ApiError(res.status, json.error?.code ?? 'error', json.error?.message ?? res.statusText);
  return json;
}

/** Names for ids: agents know every user; a customer knows herself (and agents by the events they send). */
export type Names = Map<string, string>;
export const nameOf = (names: Names, id: string | null, fallback = 'someone') => (id ? (names.get(id) ?? fallback) : fallback);
