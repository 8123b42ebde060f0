/**
 * @module protocol/messages
 * Airwaves protocol v1: the shape of every frame a client sends and the server answers or pushes,
 * and the protocol's own error. Documented in docs/protocol.md. Shared by the server, the SDK,
 * the browser and the transports, so nothing here needs Node.
 *
 * Text frames from the server carry one or more JSON values separated by "\n" (see ./batch.ts).
 * Replies have an `id`; pushes do not.
 */

export const PROTOCOL_VERSION = 1;
export const WS_PATH = '/ws';

export interface StreamPosition {
  offset: number;
  epoch: string;
}

export type ClientCommand =
  | { id: number; op: 'connect'; token?: string }
  | { id: number; op: 'subscribe'; channel: string; since?: StreamPosition }
  | { id: number; op: 'unsubscribe'; channel: string }
  | { id: number; op: 'publish'; channel: string; data: unknown; key?: string }
  | { id: number; op: 'send'; channel: string; data: unknown }
  | { id: number; op: 'presence'; channel: string }
  | { id: number; op: 'history'; channel: string; limit?: number }
  | { id: number; op: 'ping' };

export type ClientOp = ClientCommand['op'];
export const CLIENT_OPS: readonly ClientOp[] = ['connect', 'subscribe', 'unsubscribe', 'publish', 'send', 'presence', 'history', 'ping'];

export interface ErrorBody {
  code: string;
  message: string;
  /** A temporary refusal (`app_starting`): the server's hint for how long to wait before retrying, ms. */
  retryAfterMs?: number;
}

export type Reply<R = unknown> = { id: number; ok: true; result: R } | { id: number; ok: false; error: ErrorBody };

export interface ConnectResult {
  client: string;
  user: string | null;
  version: number;
  node: string;
}

export interface SubscribeResult {
  channel: string;
  epoch: string;
  /** Offset of the newest message in the channel when the subscription started. */
  offset: number;
  /** Present when `since` was given: whether every missed message follows this reply. */
  recovered?: boolean;
  /** Number of missed messages replayed after this reply. */
  replayed?: number;
}

/**
 * The reply to `publish`: the offset the publication got; or `coalesced` when a coalescing
 * namespace folded it into its key's window (the offset comes with the push); or `consumed` when
 * an input-only namespace (nobody subscribes, no history) handed it to the app's hook.
 */
export type PublishResult = { offset: number; epoch: string } | { coalesced: true } | { consumed: true };

export interface PresenceEntry {
  client: string;
  user: string | null;
}

/** A message pushed on a channel. */
export interface PublicationPush {
  channel: string;
  offset: number;
  epoch?: string;
  ts: number;
  data: unknown;
  key?: string;
}

/** Non-publication pushes: presence joins and leaves, gap notices, server notices. */
export type EventPush =
  | { channel: string; event: 'join' | 'leave'; info: PresenceEntry }
  | { channel: string; event: 'gap'; from: number; to: number }
  | { channel: string; event: 'unsubscribed'; reason: string }
  | { event: 'disconnect'; code: number; reason: string };

export type ServerPush = PublicationPush | EventPush;

export class ProtocolError extends Error {
  constructor(
    readonly code: 'bad_json' | 'bad_frame' | 'unknown_op',
    message: string,
    readonly id?: number,
  ) {
    super(message);
  }
}
