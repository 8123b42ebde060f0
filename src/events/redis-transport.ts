/**
 * @module events/redis-transport
 * The event transport of a node with Redis: the Redis Streams log, the routing publisher over
 * Redis and HTTP (events/publisher-factory), the cluster-wide flags stored in Redis and the
 * sweeper of groups left by departed nodes. Loaded by `createEventTransport` only when
 * `AIRWAVES_REDIS_URL` is set, so a node without Redis never loads ioredis.
 */
import { primaryRedisUrl, sentinelsOf } from '../core/config.js';
import { HttpEventPublisher } from './http-publisher.js';
import { RedisStreamsPublisher } from './redis-publisher.js';
import { RedisStreamsEventLog } from './redis-streams-event-log.js';
import { OrphanGroupSweeper } from './orphan-groups.js';
import { RedisFlagStore, type StoredFlags } from './redis-flags.js';
import { flagsFromConfig, type EventTransportFlags } from './flags.js';
import { streamOf } from './publisher.js';
import { RoutingEventPublisher } from './routing-publisher.js';
import { nodeConsumer, transportSetup, type EventTransport, type EventTransportDeps, type FlagsOrigin } from './transport.js';

export function createRedisEventTransport(deps: EventTransportDeps): EventTransport {
  const { config, logger } = deps;
  const { streams, families, maxLenOf, metrics } = transportSetup(deps);
  const redisUrl = primaryRedisUrl(config.redisUrl!);
  const log = new RedisStreamsEventLog({ url: redisUrl, logger, metrics: deps.metrics, connectionName: `airwaves-events-${deps.nodeId}`, sentinels: sentinelsOf(config) });
  const configured = config.eventTransportHttpUrls?.split(',').map((u) => u.trim().replace(/\/$/, '')).filter(Boolean);
  const http = new HttpEventPublisher({ urls: () => (configured?.length ? configured : [deps.selfUrl()]), apiKey: config.apiKey, metrics });
  const configuredFlags = flagsFromConfig(config);
  const routing = new RoutingEventPublisher({ redis: new RedisStreamsPublisher(log, maxLenOf, metrics), http, flags: configuredFlags, families, logger, metrics });

  let stored: StoredFlags = { flags: {}, version: 0, updatedBy: null, updatedAt: null };
  const origin = (): FlagsOrigin => ({
    sources: Object.fromEntries(Object.keys(configuredFlags).map((k) => [k, k in stored.flags ? 'redis' : 'config'])) as FlagsOrigin['sources'],
    version: stored.version,
    updatedBy: stored.updatedBy,
    updatedAt: stored.updatedAt,
  });
  const flagLog = logger.child({ module: 'event-transport-flags' });
  const flagStore = new RedisFlagStore({
    url: redisUrl,
    sentinels: sentinelsOf(config),
    nodeId: deps.nodeId,
    logger,
    onChange: (next) => {
      stored = next;
      routing.setFlags({ ...configuredFlags, ...next.flags });
    },
  });
  const startFlags = async (): Promise<void> => {
    const loaded = await flagStore.start();
    if (!loaded) return;
    const overridden = Object.fromEntries(Object.entries(loaded.flags).map(([k, v]) => [k, { stored: v, configured: configuredFlags[k as keyof EventTransportFlags] }]));
    if (loaded.version === 0) flagLog.info({ flags: routing.flags }, 'no event transport flags stored in Redis; configured flags apply');
    else flagLog.info({ flags: routing.flags, overridden, version: loaded.version, updatedBy: loaded.updatedBy }, 'event transport flags stored in Redis override configured ones');
  };

  const consumer = nodeConsumer(deps, log, families);
  // With Redis, nodes come and go and their groups stay behind.
  const sweeper = new OrphanGroupSweeper({ log, streams: [...families].map(streamOf), ownGroup: consumer.group, orphanAfterMs: config.eventOrphanGroupIdleMs, logger, metrics: deps.metrics });

  return {
    kind: 'redis',
    publisher: routing,
    log,
    consumer,
    state: () => ({ kind: 'redis', flags: { ...routing.flags }, flagsOrigin: origin(), fallbackActive: routing.fallbackActive, families: { ...streams } }),
    async setFlags(patch) {
      // The store applies the saved state through onChange before this resolves.
      await flagStore.save(patch);
      return { ...routing.flags };
    },
    async clearFlags() {
      await flagStore.clear();
      return { ...routing.flags };
    },
    async start() {
      consumer.start();
      sweeper.start();
      await startFlags();
    },
    async close() {
      await sweeper.stop();
      await flagStore.close();
      const stopping = consumer.stop();
      await log.close();
      await stopping;
    },
  };
}
