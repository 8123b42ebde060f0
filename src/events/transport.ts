/**
 * @module events/transport
 * What a node's event transport is (the log, the publisher apps use, this node's consumer into
 * its hub) and the pieces every transport derives from config. The memory transport
 * (events/publisher-factory) and the Redis one (events/redis-transport) both build on these.
 */
import type { CoreConfig } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import type { Registry } from '../core/metrics.js';
import type { EventLog } from './event-log.js';
import { EventConsumer, type EventSink } from './event-consumer.js';
import { createTransportMetrics, type TransportMetrics } from './publisher-metrics.js';
import type { EventPublisher } from './publisher.js';
import type { EventTransportFlags } from './flags.js';

/** Where each effective flag came from, for the admin endpoint and the start-up log. */
export interface FlagsOrigin {
  /** `redis`: set at runtime and stored for the cluster; `config`: this node's environment. */
  sources: Record<keyof EventTransportFlags, 'config' | 'redis'>;
  /** Version of the stored flags (0: none stored yet, or Redis not read yet). */
  version: number;
  updatedBy: string | null;
  updatedAt: string | null;
}

/** What the server builds from config: the log, the publisher apps use, and this node's consumer. */
export interface EventTransport {
  readonly kind: 'memory' | 'redis';
  readonly publisher: EventPublisher;
  readonly log: EventLog;
  readonly consumer: EventConsumer;
  /** Current flags and whether the HTTP fallback is active (redis only). */
  state(): { kind: 'memory' | 'redis'; flags: EventTransportFlags | null; flagsOrigin: FlagsOrigin | null; fallbackActive: boolean; families: Record<string, number> };
  /**
   * Changes flags at runtime for the whole cluster (redis only; the memory transport has none):
   * stored in Redis, applied here before it resolves, and on the other nodes when they hear of it.
   */
  setFlags(patch: Partial<EventTransportFlags>): Promise<EventTransportFlags>;
  /** Removes the flags stored at runtime: every node returns to its configured flags (redis only). */
  clearFlags(): Promise<EventTransportFlags>;
  /** Starts consuming and, with Redis, loads the stored flags over the configured ones (bounded wait). */
  start(): Promise<void>;
  close(): Promise<void>;
}

export interface EventTransportDeps {
  config: CoreConfig;
  hub: EventSink;
  nodeId: string;
  logger: Logger;
  metrics?: Registry;
  /** This node's base URL (known once listening): the default target of the HTTP publisher. */
  selfUrl: () => string;
}

/** What every transport derives from config: the families, their stream bounds and the metrics. */
export function transportSetup(deps: EventTransportDeps): { streams: Record<string, number>; families: Set<string>; maxLenOf: (family: string) => number | undefined; metrics?: TransportMetrics } {
  const streams = deps.config.eventStreams;
  return { streams, families: new Set(Object.keys(streams)), maxLenOf: (family) => streams[family], metrics: deps.metrics ? createTransportMetrics(deps.metrics) : undefined };
}

/** This node's consumer of `log` into its hub. */
export function nodeConsumer(deps: EventTransportDeps, log: EventLog, families: ReadonlySet<string>): EventConsumer {
  return new EventConsumer({ log, hub: deps.hub, nodeId: deps.nodeId, families: [...families], logger: deps.logger, metrics: deps.metrics, maxDeliveries: deps.config.eventMaxDeliveries });
}
