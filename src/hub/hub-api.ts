/**
 * @module hub/hub-api
 * What an app may ask of the hub (AppContext.hub): register its namespaces, publish, read
 * history, count subscribers, read presence. Apps get this narrow interface, not the Hub class:
 * connections, commands and shutdown belong to the server.
 */
import type { NamespaceConfigInput } from '../core/config.js';
import type { PresenceEntry } from '../protocol/index.js';
import type { PublishAck } from './engines/engine.js';
import type { Namespace, NamespaceHooks } from './namespace.js';

export interface ServerPublishOptions {
  /** Coalescing key (in a coalescing namespace, the newest publication per key wins its window). */
  key?: string;
  /** A second publish with the same key on the same channel is not published again (event-log dedupe). */
  idempotencyKey?: string;
  /** Every node publishes this message itself (see PublishPayload.eachNodePublishes). */
  eachNodePublishes?: boolean;
}

export interface HistoryPage {
  epoch: string;
  /** Offset of the newest message in the channel. */
  top: number;
  messages: { offset: number; ts: number; data: unknown }[];
}

export interface HubApi {
  /** This node's id (in connect replies and logs). */
  readonly nodeId: string;
  /** Registers an app's namespace; an app calls this once per namespace at start. */
  registerNamespace(config: NamespaceConfigInput, hooks?: NamespaceHooks): Namespace;
  /** Publishes JSON data from server code (trusted: no client access checks, limits or hooks). */
  publish(channel: string, data: unknown, options?: ServerPublishOptions): Promise<PublishAck | { coalesced: true }>;
  /** Publishes a binary payload on a binary namespace (media). */
  publishBinary(channel: string, payload: Uint8Array): Promise<PublishAck>;
  /**
   * True when this node's engine publishes synchronously (memory): {@link publishSync} and
   * {@link publishBinarySync} work. False with Redis: use the async calls.
   */
  readonly publishesSynchronously: boolean;
  /**
   * `publish` without a promise, for in-process publishers at high rates: the same checks, the
   * offset (or `{coalesced: true}`) returned in the call, refusals thrown as AirwavesError
   * (`bad_channel`, `unknown_namespace`, `bad_request`, `message_too_big`). On an engine that is
   * not synchronous it throws `sync_publish_unsupported` and publishes nothing.
   */
  publishSync(channel: string, data: unknown, options?: ServerPublishOptions): PublishAck | { coalesced: true };
  /** `publishBinary` without a promise (see {@link publishSync}). */
  publishBinarySync(channel: string, payload: Uint8Array): PublishAck;
  /** Recent history: the newest `limit` messages after `afterOffset`. */
  history(channel: string, afterOffset?: number, limit?: number): Promise<HistoryPage>;
  /** Subscribers of a channel on this node. */
  subscriberCount(channel: string): number;
  /** Clients present on a presence channel (per node until presence has a cluster store). */
  presenceOf(channel: string): PresenceEntry[] | Promise<PresenceEntry[]>;
}
