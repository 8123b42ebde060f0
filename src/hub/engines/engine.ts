/**
 * @module hub/engines/engine
 * The hub engine decides offsets, keeps history and carries publications to every node.
 * The memory engine serves one process; the Redis engine (./redis/redis-engine.ts) spreads
 * one hub over many nodes. The hub only talks to this interface.
 */
import type { PresenceEntry } from '../../protocol/index.js';
import { encodeBinaryWire, encodePublicationWire, wsPayloadOf } from '../frame-encoding.js';

/** A publication as it travels through the hub. Encoded once (`frame`), shared by every subscriber. */
export interface HubMessage {
  channel: string;
  offset: number;
  epoch: string;
  /** Publish time, ms since epoch (sent to clients). */
  ts: number;
  /** JSON text of the data (text namespaces). */
  json?: string;
  /** Payload (binary namespaces). */
  binary?: Uint8Array;
  key?: string;
  /** performance.now() at publish on this node; NaN when published on another node. */
  publishedAt: number;
  /** The encoded protocol frame, filled on first use by frameOf(): a view into `wire`. */
  frame?: Buffer;
  /** The same bytes as one complete WebSocket frame, filled with `frame` (encode once, send N times). */
  wire?: Buffer;
}

export interface PublishPayload {
  json?: string;
  binary?: Uint8Array;
  key?: string;
  /**
   * When set, a second publish with the same key on the same channel (within the engine's
   * dedupe window) is not published again; the first one's ack is returned. Event-log consumers
   * on every node publish each event with its event id, so it reaches clients exactly once.
   */
  idempotencyKey?: string;
  /**
   * Every node publishes this message itself (each node's event-log consumer publishes every
   * event, with the event id as idempotency key). An engine that spans nodes then need not carry
   * it between them: each node delivers it to its own listeners from its publish's reply, which
   * saves every node a pub/sub message per event and the event a hop. Requires idempotencyKey.
   */
  eachNodePublishes?: boolean;
}

export interface ChannelRetention {
  historySize: number;
  historyTtlMs: number;
  /** Keep the history as bytes off the V8 heap (the memory engine; see memory/byte-ring.ts). */
  inBuffers?: boolean;
}

export interface PublishAck {
  offset: number;
  epoch: string;
}

export interface HistorySlice {
  epoch: string;
  /** Offset of the newest message in the channel (0 when none was ever published). */
  top: number;
  /** Messages with offset > the requested offset, oldest first. */
  messages: HubMessage[];
  /** True when `messages` starts right after the requested offset (nothing missing). */
  complete: boolean;
}

export type MessageSink = (message: HubMessage) => void;
/** What an engine tells the hub besides publications (a cluster engine: about other nodes' doings). */
export interface EngineNotices {
  /** A listened channel moved to `epoch` without a message (yet) to show it. */
  epochChanged(channel: string, epoch: string): void;
  /** A client joined or left a listened presence channel on another node (or its node died). */
  presence(channel: string, event: 'join' | 'leave', info: PresenceEntry): void;
}

export interface HubEngine {
  readonly name: 'memory' | 'redis';
  /**
   * True when `publish` always returns its ack in the call itself (never a Promise): the hub then
   * offers server code a synchronous publish (HubApi.publishSync). Absent means false.
   */
  readonly publishesSynchronously?: boolean;
  /** Starts the engine; every publication for a channel this node listens to goes to `sink`, in offset order. */
  start(sink: MessageSink, notices?: EngineNotices): Promise<void>;
  publish(channel: string, payload: PublishPayload, retention: ChannelRetention): PublishAck | Promise<PublishAck>;
  /** Messages after `afterOffset` (at most `limit`, the newest ones when more exist). */
  history(channel: string, afterOffset: number, limit: number, retention: ChannelRetention): HistorySlice | Promise<HistorySlice>;
  /** The node starts (true) or stops (false) listening to a channel: first local subscriber in, last out. */
  listen(channel: string, on: boolean): void | Promise<void>;
  /** Reports whether backing services are reachable (for /readyz). */
  ready(): Promise<boolean>;
  close(): Promise<void>;
}

/** Encodes a message's frame once and caches it on the message. */
export function frameOf(message: HubMessage): Buffer {
  return message.frame ?? encodeWire(message).frame!;
}

/** The message as one complete WebSocket frame, shared by every socket it is written to. */
export function wireOf(message: HubMessage): Buffer {
  return message.wire ?? encodeWire(message).wire!;
}

function encodeWire(message: HubMessage): HubMessage {
  const wire = message.binary
    ? encodeBinaryWire(message.channel, message.offset, message.ts, message.binary)
    : encodePublicationWire(message.channel, message.offset, message.ts, message.json ?? 'null', message.key);
  message.wire = wire;
  message.frame = wsPayloadOf(wire);
  return message;
}

/** A fresh epoch: short, random, distinct across restarts. */
export function newEpoch(): string {
  return Math.random().toString(36).slice(2, 10);
}
