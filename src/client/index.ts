/**
 * @module client/index
 * Public API of the Airwaves client SDK (browser and Node). See ./client.ts for the behaviour.
 */
export {
  AirwavesClient,
  AirwavesClientError,
  Subscription,
  TypedEmitter,
  backoffDelay,
  DEFAULT_RECONNECT,
} from './client.js';
export type {
  AirwavesClientOptions,
  BinaryPublication,
  ClientEvents,
  ClientState,
  HistoryOptions,
  HistoryResult,
  PresenceEvent,
  PresenceResult,
  Publication,
  PublishOptions,
  ReconnectOptions,
  RecoveredEvent,
  SubscriptionEvents,
  SubscriptionHandlers,
  SubscriptionState,
  TokenSource,
  WebSocketConstructor,
  WebSocketLike,
} from './client.js';
export { PROTOCOL_VERSION, WS_PATH } from '../protocol/index.js';
export type { ConnectResult, PresenceEntry, PublishResult, StreamPosition, SubscribeResult } from '../protocol/index.js';
