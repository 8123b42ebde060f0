/**
 * @module core/redis-options
 * What every Airwaves Redis connection shares (hub engine, event log, flag store): connect on
 * demand, give up a connection attempt after 2 s, and retry quickly but capped, so a Redis restart
 * costs at most half a second of reconnect delay; where the connection goes (a URL, or the master
 * that Redis Sentinel names); and one latency histogram for their commands.
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

/** One Redis Sentinel (`AIRWAVES_REDIS_SENTINELS=host:port,host:port`). */
export interface SentinelAddress {
  host: string;
  port: number;
}

/**
 * How to reach the Sentinels: their addresses, and the credentials and TLS of the connections
 * to the Sentinels themselves (`AIRWAVES_REDIS_SENTINEL_*`). The master's own password and TLS
 * come from the URL as without Sentinel (`rediss://:password@mymaster`).
 */
export interface SentinelConfig {
  addresses: readonly SentinelAddress[];
  username?: string;
  password?: string;
  /** TLS to the Sentinels. */
  tls?: boolean;
  /** PEM of the authority that signed the Sentinels' (and a rediss:// master's) certificates; default: the system's. */
  ca?: string;
}

/**
 * The options that send a connection for `url` to its Redis. Without Sentinels: `options`
 * unchanged (the URL says where). With Sentinels: ioredis asks them for the current master of
 * the group named by the URL's host (`redis://:password@mymaster/0`, as redis-rb and Sidekiq
 * name it; each shard URL can name its own group), checks on every connect that it is a master,
 * and asks again on every reconnect, which is how a failover is followed. A write answered
 * READONLY (the old master came back as a replica under a still-open connection) reconnects,
 * and so finds the new master.
 */
export function redisTarget(url: string, options: RedisOptions, sentinels?: SentinelConfig): RedisOptions {
  if (!sentinels?.addresses.length) return options;
  const masterTls = new URL(url).protocol === 'rediss:';
  return {
    ...options,
    sentinels: sentinels.addresses.map((s) => ({ ...s })),
    ...(sentinels.username !== undefined ? { sentinelUsername: sentinels.username } : {}),
    ...(sentinels.password !== undefined ? { sentinelPassword: sentinels.password } : {}),
    ...(sentinels.tls ? { sentinelTLS: sentinels.ca ? { ca: sentinels.ca } : {} } : {}),
    // rediss:// names a master reached over TLS: ioredis applies the URL's TLS to the master
    // Sentinel names only when told to.
    ...(masterTls ? { enableTLSForSentinelMode: true, ...(sentinels.ca ? { tls: { ca: sentinels.ca } } : {}) } : {}),
    name: decodeURIComponent(new URL(url).hostname),
    role: 'master',
    // Capped like the connection's own retries: a failover is followed within half a second of
    // Sentinel announcing it.
    sentinelRetryStrategy: (times) => Math.min(50 * times, 500),
    reconnectOnError: (err) => (err.message.startsWith('READONLY') ? 2 : false),
  };
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
