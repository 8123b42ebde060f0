/**
 * @module client/types
 * The SDK's public types: options, events, what a subscription delivers, command results, and
 * the subset of the WebSocket API it needs. The protocol's own shapes come from src/protocol.
 */
import type { ConnectResult, PresenceEntry } from '../protocol/index.js';
import type { AirwavesClientError } from './codes.js';
import type { Listener } from './emitter.js';

export interface ReconnectOptions {
  /** Delay before the first reconnection attempt (before jitter). Default 250. */
  initialDelayMs?: number;
  /** Upper bound of every delay. Default 10 000. */
  maxDelayMs?: number;
  /** Growth per attempt. Default 2. */
  factor?: number;
  /** Fraction (0..1) of the delay that is randomised away. Default 0.5. */
  jitter?: number;
}

/**
 * Retrying what a starting app refused (`app_starting`): subscribe, publish, history and presence
 * are sent again after the server's `retryAfterMs` hint (spread upward by `jitter`), or after
 * jittered exponential backoff when there is none.
 */
export interface StartingRetryOptions extends ReconnectOptions {
  /** Give up after this long since the first refusal and surface `app_starting` as before. Default 30 000. */
  maxWaitMs?: number;
}

/** A callback type that accepts both the DOM's and the `ws` package's event objects. */
type Handler<E> = { bivarianceHack(event: E): void }['bivarianceHack'];

/** The subset of the WebSocket API the client uses; the DOM WebSocket and `ws` both satisfy it. */
export interface WebSocketLike {
  readonly readyState: number;
  binaryType: string;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: Handler<unknown> | null;
  onmessage: Handler<{ data: unknown }> | null;
  onclose: Handler<{ code: number; reason: string }> | null;
  onerror: Handler<unknown> | null;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

export type TokenSource = string | (() => Promise<string | undefined> | string | undefined);

export interface AirwavesClientOptions {
  /** Full WebSocket URL of the hub, e.g. `wss://example.com/ws`. */
  url: string;
  /** Token sent with the connect command; a function is called again on every (re)connection. */
  token?: TokenSource;
  /** WebSocket implementation; defaults to the global `WebSocket` (pass `ws`'s class in Node 20). */
  WebSocket?: WebSocketConstructor;
  /** Per-command timeout, also bounding the connect handshake and `sub.ready`. Default 10 000. */
  commandTimeoutMs?: number;
  /** Backoff settings, or `false` to never reconnect automatically. */
  reconnect?: ReconnectOptions | false;
  /**
   * How long and how often to retry commands and subscriptions a starting app refused
   * (`app_starting`), or `false` to surface that refusal at once. Defaults: up to 30 s, the
   * server's hint or 500 ms doubling to 4 s, jitter 0.5.
   */
  startingRetry?: StartingRetryOptions | false;
}

export type ClientState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'closed';

export interface ClientEvents {
  /** A connection (first or re-established) completed its handshake. */
  connected: ConnectResult;
  /** An established connection closed. */
  disconnected: { code: number; reason: string };
  /** A reconnection attempt is scheduled in `delayMs`. */
  reconnecting: { attempt: number; delayMs: number };
  /** Errors without a promise to reject: unparseable frames, errors without an id, failed reconnects. */
  error: AirwavesClientError;
}

/** A JSON message on a channel. */
export interface Publication {
  channel: string;
  offset: number;
  ts: number;
  data: unknown;
  key?: string;
}

/**
 * A binary message on a media channel (a binary frame, src/protocol/binary-frame.ts); `payload`
 * is a Uint8Array view into the received frame's ArrayBuffer (no copy).
 */
export interface BinaryPublication {
  channel: string;
  offset: number;
  ts: number;
  payload: Uint8Array;
}

export interface PresenceEvent {
  channel: string;
  info: PresenceEntry;
  /**
   * True when the SDK made this event up from a `presence` re-read after a resubscription: the
   * join or leave happened while the client was away (./presence-sync.ts).
   */
  resync?: boolean;
}

/** The full member set after a `presence` re-read (./presence-sync.ts), and what changed. */
export interface PresenceSyncEvent {
  channel: string;
  /** Every member, in join order. */
  clients: PresenceEntry[];
  /** Members the app had not been told of (each also told as a `join` with `resync: true`). */
  joined: PresenceEntry[];
  /** Members the app had been told of that are gone (each also told as a `leave` with `resync: true`). */
  left: PresenceEntry[];
}

export interface RecoveredEvent {
  /** True when every message missed since `lastOffset` is replayed right after this event. */
  recovered: boolean;
  /** Number of messages being replayed. */
  replayed: number;
}

export interface SubscriptionEvents {
  publication: Publication;
  binary: BinaryPublication;
  join: PresenceEvent;
  leave: PresenceEvent;
  /**
   * After every resubscription (reconnect or gap). `recovered: false` means messages were missed
   * (or skipped, for a subscription that is not `recoverable`): refetch state.
   */
  recovered: RecoveredEvent;
  /**
   * After each `presence` re-read of a subscription with presence interest (see
   * SubscribeOptions.presence): the full member set, once the differences were told as events.
   */
  presenceSync: PresenceSyncEvent;
  /** The server ended the subscription. */
  unsubscribed: { reason: string };
  /** The subscription failed (it is then closed), a resubscription timed out, or a presence re-read failed. */
  error: AirwavesClientError;
}

/** How a subscription starts and resumes; fixed when the subscription is created. */
export interface SubscribeOptions {
  /**
   * Re-read what was missed after a reconnect or a `gap` (default true): the subscription resumes
   * from its last offset and the replay fills the hole. `false` suits live media, which wants the
   * live edge rather than the past: after a reconnect the subscription starts afresh (at the live
   * edge, or `rewind` publications behind it), and after a gap it re-attaches at the live edge,
   * still delivering what was already on its way. Either way `recovered` then says `false`.
   */
  recoverable?: boolean;
  /**
   * Whenever the subscription starts afresh (the first subscribe, and each resubscribe after a
   * reconnect when not `recoverable`), begin this many publications behind the live edge: they are
   * replayed first, so a player has a buffer at once. Offsets already delivered are not delivered
   * again. Costs one `history` round trip before the subscribe. Default 0 (the live edge).
   */
  rewind?: number;
  /**
   * Keep this subscription's member list right (namespaces with presence): read `presence` once
   * subscribed and after every resubscription, and tell what changed while the client was away
   * as `join`/`leave` events with `resync: true`, then `presenceSync` with the full set. Reading
   * the channel with `client.presence()` while subscribed turns this on too. Default false.
   */
  presence?: boolean;
}

export type SubscriptionHandlers = { [K in keyof SubscriptionEvents]?: Listener<SubscriptionEvents[K]> };

export type SubscriptionState = 'pending' | 'subscribing' | 'subscribed' | 'closed';

export interface PresenceResult {
  channel: string;
  clients: PresenceEntry[];
}

export interface HistoryResult {
  channel: string;
  epoch: string;
  /** Newest offset in the channel. */
  offset: number;
  /** Oldest first. */
  publications: Publication[];
}

/** A clock sample from {@link AirwavesClient.serverClock}. */
export interface ServerClock {
  /** The hub's clock minus this one, in milliseconds. */
  offsetMs: number;
  /** The sample's round trip, in milliseconds. */
  rttMs: number;
}

export interface HistoryOptions {
  limit?: number;
}

export interface PublishOptions {
  /** Conflation key: under load the hub may keep only the newest message per key. */
  key?: string;
}
