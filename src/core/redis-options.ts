/**
 * @module core/redis-options
 * What every Airwaves Redis connection shares (hub engine, event log, flag store): connect on
 * demand, give up a connection attempt after 2 s, and retry quickly but capped, so a Redis restart
 * costs at most half a second of reconnect delay; and one latency histogram for their commands.
 */
import type { RedisOptions } from 'ioredis';
import { prom, sharedMetric, type Registry } from './metrics.js';

function redisBaseOptions(connectionName: string): RedisOptions {
  return {
    lazyConnect: true,
    connectTimeout: 2000,
    retryStrategy: (times) => Math.min(50 * times, 500),
    connectionName,
  };
}

/**
 * A connection for commands that fail fast while Redis is away (no offline queue, no resend of
 * in-flight commands): the caller decides whether to retry or fall back, and nothing queues
 * without bound or lands minutes later. No auto-pipelining (docs/cluster.md, "No
 * auto-pipelining").
 */
export function redisCommandOptions(connectionName: string): RedisOptions {
  return { ...redisBaseOptions(connectionName), enableOfflineQueue: false, maxRetriesPerRequest: 0 };
}

/** A pub/sub connection: (un)subscribes queue while disconnected and are redone on reconnect. */
export function redisSubscriberOptions(connectionName: string): RedisOptions {
  return { ...redisBaseOptions(connectionName), maxRetriesPerRequest: null };
}

/** Latency of the Redis commands by `op`: engine scripts (publish, history) and event-log commands. */
export function redisCommandDuration(registry: Registry): prom.Histogram<'op'> {
  return sharedMetric(
    registry,
    'redis_command_duration_seconds',
    (registers) =>
      new prom.Histogram({
        name: 'redis_command_duration_seconds',
        help: 'Latency of the Redis commands: engine scripts (publish, history) and event-log commands',
        labelNames: ['op'] as const,
        buckets: [0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
        registers,
      }),
  );
}
