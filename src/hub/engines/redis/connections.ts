/**
 * @module hub/engines/redis/connections
 * Where the engine's and presence's connections go: one Redis (its URL, maybe behind Sentinels),
 * or a Redis Cluster (`AIRWAVES_REDIS_CLUSTER=true`: the URLs are seeds, ioredis discovers the
 * rest and sends each command to the master of its keys' slot). Every key of a channel carries
 * the hash tag `{<channel>}` (./wire.ts), so each script runs on one master with no CROSSSLOT.
 *
 * Pub/sub on a Cluster is plain pub/sub: a script's PUBLISH on any master is broadcast over the
 * cluster bus to every node, and ioredis' cluster subscriber (one connection, to one node it
 * picks, moved elsewhere if that node fails) hears every channel. Sharded pub/sub (SPUBLISH and
 * SSUBSCRIBE, one subscriber per master, messages kept on their slot's master) would spare the
 * bus but needs the pub/sub channel in the slot's hash tag and SPUBLISH in the scripts; not done.
 */
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { redisTarget, type SentinelConfig } from '../../../core/redis-options.js';

/** One Redis (`url`, optionally through Sentinels), or a Cluster reached through `clusterSeeds`. */
export interface RedisLocation {
  url: string;
  sentinels?: SentinelConfig;
  /** Seed URLs of a Redis Cluster; when set, `url` and `sentinels` are not used. */
  clusterSeeds?: readonly string[];
}

/** A connection of either kind: both answer the same commands, scripts and pub/sub events. */
export type RedisConnection = Redis | Cluster;

/** A Cluster seed from its URL: address, credentials and TLS go to every node's connection. */
function seedOf(url: string): { host: string; port: number; username?: string; password?: string; tls: boolean } {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    tls: u.protocol === 'rediss:',
  };
}

/**
 * The Cluster version of a connection's options: the offline queue and lazy connect are the
 * cluster's own; the rest applies to each node's connection. Per-request retries stay off for a
 * command connection (`maxRetriesPerRequest: 0`): a publish is never resent blindly.
 */
function clusterOptions(seeds: readonly string[], options: RedisOptions): ClusterOptions {
  // A node's own reconnects are the cluster's business (clusterRetryStrategy, slot refreshes).
  const { lazyConnect, enableOfflineQueue, retryStrategy: _perNodeRetry, ...perNode } = options;
  const first = seedOf(seeds[0]);
  return {
    lazyConnect,
    enableOfflineQueue: enableOfflineQueue ?? true,
    // Capped like a single connection's: a cluster that went away is found again within half a second.
    clusterRetryStrategy: (times) => Math.min(50 * times, 500),
    retryDelayOnFailover: 100,
    redisOptions: {
      ...perNode,
      ...(first.username ? { username: first.username } : {}),
      ...(first.password ? { password: first.password } : {}),
      ...(first.tls ? { tls: {} } : {}),
    },
  };
}

/** Opens (lazily, per `options.lazyConnect`) a connection to `where` with `options`. */
export function redisConnection(where: RedisLocation, options: RedisOptions): RedisConnection {
  if (where.clusterSeeds?.length) {
    const seeds = where.clusterSeeds.map(seedOf).map(({ host, port }) => ({ host, port }));
    return new Cluster(seeds, clusterOptions(where.clusterSeeds, options));
  }
  return new Redis(where.url, redisTarget(where.url, options, where.sentinels));
}
