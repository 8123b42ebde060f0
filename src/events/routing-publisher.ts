/**
 * @module events/routing-publisher
 * The publisher of a node with Redis: chooses how each event travels, from flags that can change
 * at runtime (see events/flags):
 *
 * - `useRedisStreams` off: every event goes over HTTP to a hub node (the pre-Redis path).
 * - `redisPercentage`: the share of rooms on Redis Streams. A room's bucket is a hash of its id,
 *   so a room is wholly on one transport and its events never race each other across paths.
 * - `dualWrite`: every event goes both ways (for the cut-over); the hub dedupes by event id, so
 *   clients get it once.
 * - `fallbackToHttp`: while Redis fails, a circuit breaker sends events over HTTP instead, and
 *   lets a probe through now and then to return to Redis once it answers.
 */
import { CircuitBreaker, type BreakerState } from '../core/circuit-breaker.js';
import { AirwavesError, Errors, isAirwavesError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { TransportMetrics } from './publisher-metrics.js';
import { validateEvent, type EventPublisher, type TransportEvent, type TransportName } from './publisher.js';
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
