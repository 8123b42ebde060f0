/**
 * @module client
 * The Airwaves client SDK (protocol v1) for browsers and Node: its public API.
 * Files, one noun each: client (the public face, composing the rest), connection (connect,
 * reconnect, close: its state machine), commands (in flight, matched to their replies),
 * subscription-registry (the subscriptions by channel, resubscribed after a reconnect),
 * subscription (one channel's delivery order), presence-sync, frames (reading server messages),
 * codes (errors), retry (what a starting app refused), types, emitter, backoff.
 *
 * Browsers use the global `WebSocket`; Node 20 has none, so pass the `ws` package's class:
 *
 * ```ts
 * import WebSocket from 'ws';
 * const client = new AirwavesClient({ url: 'ws://localhost:8080/ws', token: () => getToken(), WebSocket });
 * await client.connect();
 * const sub = client.subscribe('chat:lobby', { publication: (p) => console.log(p.offset, p.data) });
 * await sub.ready;
 * await client.publish('chat:lobby', { text: 'hi' });
 * ```
 *
 * Guarantees and behaviour:
 * - Every command gets a unique id, increasing in the order frames are written, and its promise
 *   settles with the reply, or rejects with an {@link AirwavesClientError} whose `code` is the
 *   server's error code, `timeout` (no reply within `commandTimeoutMs`), `disconnected` (the socket
 *   closed with the command in flight) or `closed` (after {@link AirwavesClient.close}).
 * - Commands issued while the client is not connected (connect() not yet called, handshake in
 *   progress, or waiting to reconnect) wait for the connection, bounded by their timeout.
 * - A subscription delivers each offset at most once and in increasing order. Pushes that arrive
 *   before a (re)subscribe reply are held back and released, de-duplicated, after the reply and
 *   the replay it announces, so a replay always fills a hole in order.
 * - After an unexpected close the client reconnects with jittered exponential backoff (not after
 *   `close()`, and not after close codes 4001/4003), re-sends connect (re-evaluating a token
 *   function) and resubscribes every subscription with `since: {offset: lastOffset, epoch}`. The
 *   subscription emits `recovered` with the server's verdict; on `recovered: false` messages
 *   were lost (or the stream was reset) and the app should refetch its state.
 * - A `gap` notice (the hub dropped messages for this slow client) resubscribes that channel
 *   from `lastOffset`, so the replay fills the gap.
 * - Live media wants the live edge, not the past: a subscription with `recoverable: false` skips
 *   a gap (it re-attaches at the live edge, keeping what was already on its way) and starts
 *   afresh after a reconnect; with `rewind: n` every fresh start begins n publications behind the
 *   live edge, so a player rejoins with a buffer (offsets already delivered are not repeated).
 * - Presence after a reconnect: join/leave pushes sent while the client was away are lost with
 *   the socket. A subscription with presence interest (`{ presence: true }`, or a channel read
 *   with `client.presence()`) re-reads `presence` after every resubscription and tells what
 *   changed as `join`/`leave` events with `resync: true`, then `presenceSync` with the full set
 *   (./presence-sync.ts).
 * - Binary frames (media namespaces, src/protocol/binary-frame.ts) arrive as `binary` events
 *   whose `payload` is a Uint8Array view into the frame's ArrayBuffer, in offset order like JSON.
 * - A refusal by a starting app (`app_starting`: nothing was done) is not final. The subscribe,
 *   publish, history or presence is sent again after the server's `retryAfterMs` hint (plus
 *   jitter), or after jittered backoff without one. Each try has its own timeout. After
 *   `startingRetry.maxWaitMs` (default 30 s) it rejects with `app_starting`, as it did at once
 *   before; `startingRetry: false` restores that.
 * - The first connect() rejects when that attempt fails; automatic reconnection starts only once a
 *   connection has been established. A client that gave up (4001/4003, or `reconnect: false`)
 *   can be revived by calling connect() again; its subscriptions resume from their positions.
 *
 * No Node-only modules are used: the emitter is a small typed one (not node:events), binary frames
 * are read as ArrayBuffer/Uint8Array.
 */
export { AirwavesClient } from './client.js';
export { AirwavesClientError } from './codes.js';
export { Subscription } from './subscription.js';
export { TypedEmitter } from './emitter.js';
export { backoffDelay, DEFAULT_RECONNECT } from './backoff.js';
export { retryDelay, DEFAULT_STARTING_RETRY } from './retry.js';
export type {
  AirwavesClientOptions,
  BinaryPublication,
  ClientEvents,
  ClientState,
  HistoryOptions,
  HistoryResult,
  PresenceEvent,
  PresenceResult,
  PresenceSyncEvent,
  Publication,
  PublishOptions,
  ReconnectOptions,
  RecoveredEvent,
  ServerClock,
  StartingRetryOptions,
  SubscribeOptions,
  SubscriptionEvents,
  SubscriptionHandlers,
  SubscriptionState,
  TokenSource,
  WebSocketConstructor,
  WebSocketLike,
} from './types.js';
export { PROTOCOL_VERSION, WS_PATH } from '../protocol/index.js';
export type { ConnectResult, PresenceEntry, PublishResult, StreamPosition, SubscribeResult } from '../protocol/index.js';
