/**
 * @module events/publisher-factory
 * `createEventTransport` builds what a server runs: without Redis, the memory log and its
 * publisher; with Redis, the Redis Streams log and the routing publisher (events/redis-transport,
 * imported only then: a node without Redis never loads ioredis). Either way the node consumes
 * the log into its hub. With Redis the flags are cluster-wide: a runtime change is stored in
 * Redis and applied by every node (see redis-flags), over each node's configured flags.
 */
import { AirwavesError, Errors } from '../core/errors.js';
import { MemoryEventLog } from './memory-event-log.js';
import { LogEventPublisher, validateEvent } from './publisher.js';
import { nodeConsumer, transportSetup, type EventTransport, type EventTransportDeps } from './transport.js';

/**
 * The transport config asks for. With Redis its module (and ioredis) is imported here, on
 * demand: a node without Redis, the default, never loads them.
 */
export async function createEventTransport(deps: EventTransportDeps): Promise<EventTransport> {
  // A Redis Cluster carries the hub (engine, presence) but not the event log: its streams and
  // flags need one plain Redis (docs/cluster.md, "Redis Cluster").
  if (!deps.config.redisUrl || deps.config.redisCluster) return createMemoryEventTransport(deps);
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
    throw new AirwavesError(Errors.conflict, 'this node runs the in-memory event transport (no AIRWAVES_REDIS_URL, or AIRWAVES_REDIS_CLUSTER): there are no flags to change');
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
