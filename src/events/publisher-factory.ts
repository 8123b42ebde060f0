/**
 * @module events/publisher-factory
 * Chooses how each event travels, from flags that can change at runtime:
 *
 * - `useRedisStreams` off: every event goes over HTTP to a hub node (the pre-Redis path).
 * - `redisPercentage`: the share of rooms on Redis Streams. A room's bucket is a hash of its id,
 *   so a room is wholly on one transport and its events never race each other across paths.
 * - `dualWrite`: every event goes both ways (for the cut-over); the hub dedupes by event id, so
 *   clients get it once.
 * - `fallbackToHttp`: while Redis fails, a circuit breaker sends events over HTTP instead, and
 *   lets a probe through now and then to return to Redis once it answers.
 *
 * `createEventTransport` builds what a server runs: without Redis, the memory log and its
 * publisher; with Redis, the Redis Streams log and this routing publisher (events/redis-transport,
 * imported only then: a node without Redis never loads ioredis). Either way the node consumes
 * the log into its hub. With Redis the flags are cluster-wide: a runtime change is stored in
 * Redis and applied by every node (see redis-flags), over each node's configured flags.
 */
import { CircuitBreaker, type BreakerState } from '../core/circuit-breaker.js';
import type { CoreConfig } from '../core/config.js';
import { AirwavesError, Errors, isAirwavesError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Registry } from '../core/metrics.js';
import type { EventLog } from './event-log.js';
import { EventConsumer, type EventSink } from './event-consumer.js';
import { MemoryEventLog } from './memory-event-log.js';
import { createTransportMetrics, type TransportMetrics } from './publisher-metrics.js';
import { LogEventPublisher, validateEvent, type EventPublisher, type TransportEvent, type TransportName } from './publisher.js';
import type { EventTransportFlags } from './flags.js';

/** A room's rollout bucket, 0..99: FNV-1a of its id, stable across nodes and restarts. */
export function rolloutBucket(roomId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < roomId.length; i++) {
    h ^= roomId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % 100;
}

export interface RoutingEventPublisherOptions {
  redis: EventPublisher;
  http: EventPublisher;
  flags: EventTransportFlags;
  families?: ReadonlySet<string>;
  logger: Logger;
  metrics?: TransportMetrics;
  breaker?: { cooldownMs?: number; maxCooldownMs?: number };
}

export class RoutingEventPublisher implements EventPublisher {
  readonly flags: EventTransportFlags;
  private readonly breaker: CircuitBreaker;
  private readonly log: Logger;

  constructor(private readonly options: RoutingEventPublisherOptions) {
    this.flags = { ...options.flags };
    this.log = options.logger.child({ module: 'event-publisher' });
    this.breaker = new CircuitBreaker({
      failureThreshold: 1,
      cooldownMs: options.breaker?.cooldownMs ?? 500,
      maxCooldownMs: options.breaker?.maxCooldownMs ?? 5000,
      onChange: (state, previous) => this.onBreaker(state, previous),
    });
  }

  get fallbackActive(): boolean {
    return this.breaker.state !== 'closed';
  }

  setFlags(patch: Partial<EventTransportFlags>): EventTransportFlags {
    Object.assign(this.flags, patch);
    this.log.info({ flags: this.flags }, 'event transport flags changed');
    return { ...this.flags };
  }

  /** Which transport the flags pick for a room (ignoring the breaker). */
  routeOf(roomId: string): 'redis' | 'http' {
    return this.flags.useRedisStreams && rolloutBucket(roomId) < this.flags.redisPercentage ? 'redis' : 'http';
  }

  /**
   * Publishes over the route the flags pick. A refusal reaches the caller as an AirwavesError
   * (`engine_unavailable` while Redis is away and the fallback is off or failed too) and is
   * counted in `events_publish_failures_total{code}`: never silent.
   */
  async publish(event: TransportEvent): Promise<{ transport: TransportName }> {
    try {
      return await this.route(event);
    } catch (err) {
      this.options.metrics?.publishFailures.inc({ code: isAirwavesError(err) ? err.code : 'internal' });
      throw err;
    }
  }

  private async route(event: TransportEvent): Promise<{ transport: TransportName }> {
    validateEvent(event, this.options.families);
    if (this.flags.dualWrite) return this.publishBoth(event);
    if (this.routeOf(event.roomId) === 'http') return this.options.http.publish(event);
    if (this.breaker.allow()) {
      try {
        const result = await this.options.redis.publish(event);
        this.breaker.success();
        return result;
      } catch (err) {
        if (err instanceof AirwavesError && err.httpStatus < 500) throw err;
        this.breaker.failure();
        if (!this.flags.fallbackToHttp) throw new AirwavesError(Errors.engineUnavailable, `Redis Streams unreachable: ${(err as Error).message}`);
      }
    } else if (!this.flags.fallbackToHttp) {
      throw new AirwavesError(Errors.engineUnavailable, 'Redis Streams unreachable (circuit open) and EVENT_TRANSPORT_FALLBACK_TO_HTTP is off');
    }
    this.options.metrics?.fallbacks.inc();
    return this.options.http.publish(event);
  }

  private async publishBoth(event: TransportEvent): Promise<{ transport: TransportName }> {
    const [viaRedis, viaHttp] = await Promise.allSettled([this.options.redis.publish(event), this.options.http.publish(event)]);
    if (viaRedis.status === 'fulfilled') return viaRedis.value;
    if (viaHttp.status === 'fulfilled') return viaHttp.value;
    throw viaRedis.reason;
  }

  private onBreaker(state: BreakerState, previous: BreakerState): void {
    this.options.metrics?.fallbackActive.set(state === 'closed' ? 0 : 1);
    if (state === 'open' && previous === 'closed') this.log.warn('Redis Streams publishing failed; events go over HTTP until Redis answers again');
    else if (state === 'closed') this.log.info('Redis Streams publishing recovered; events go over Redis again');
  }
}

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

/**
 * The transport config asks for. With Redis its module (and ioredis) is imported here, on
 * demand: a node without Redis, the default, never loads them.
 */
export async function createEventTransport(deps: EventTransportDeps): Promise<EventTransport> {
  if (!deps.config.redisUrl) return createMemoryEventTransport(deps);
  const { createRedisEventTransport } = await import('./redis-transport.js');
  return createRedisEventTransport(deps);
}

/** A single node's transport: the in-process log, its publisher, and the consumer into the hub. */
function createMemoryEventTransport(deps: EventTransportDeps): EventTransport {
  const { streams, families, maxLenOf, metrics } = transportSetup(deps);
  const log = new MemoryEventLog({ metrics: deps.metrics });
  const memory = new LogEventPublisher('memory', log, maxLenOf, metrics);
  const consumer = nodeConsumer(deps, log, families);
  const noFlags = (): never => {
    throw new AirwavesError(Errors.conflict, 'this node runs the in-memory event transport (no AIRWAVES_REDIS_URL): there are no flags to change');
  };
  return {
    kind: 'memory',
    publisher: { publish: async (event) => memory.publish(validateEvent(event, families)) },
    log,
    consumer,
    state: () => ({ kind: 'memory', flags: null, flagsOrigin: null, fallbackActive: false, families: { ...streams } }),
    setFlags: async () => noFlags(),
    clearFlags: async () => noFlags(),
    async start() {
      consumer.start();
    },
    async close() {
      const stopping = consumer.stop();
      await log.close();
      await stopping;
    },
  };
}
