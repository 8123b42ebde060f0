/**
 * @module core/redis-close
 * Closing an ioredis connection in bounded time, for every Airwaves Redis connection (hub
 * engine, presence, event log). `quit()` waits for the replies to everything sent and queued:
 * while Redis is unreachable a connection with an offline queue (the pub/sub ones) holds its
 * QUIT behind the (UN)SUBSCRIBEs queued during the outage until Redis comes back, so a node told
 * to stop during an outage did not stop (more than 80 s, until its forced exit). Here a ready
 * connection gets QUIT and a short grace to answer; otherwise, or after the grace, `disconnect()`
 * ends it at once and rejects what was still waiting ("Connection is closed."; every caller
 * handles its rejections). What was abandoned is returned for the caller to log and counted.
 *
 * Nothing stored is lost this way: what waits on a connection is a command, not data; an event
 * not yet appended stays in its app's outbox, and a publish not acknowledged was refused to its
 * publisher.
 */
import type { Cluster, Redis } from 'ioredis';
import type { Logger } from './logger.js';
import { prom, sharedMetric, type Registry } from './metrics.js';

/** How long a ready connection's QUIT may take before the connection is cut. */
export const REDIS_QUIT_GRACE_MS = 1000;

export interface RedisClosed {
  /** True when QUIT was answered: nothing was abandoned. */
  graceful: boolean;
  /** Commands sent or queued on the connection that got no reply (QUIT itself not counted). */
  abandoned: number;
}

/** ioredis' queue of commands waiting for a connection (a private field in its typings). */
function offlineQueued(conn: Redis | Cluster): number {
  const queue = (conn as unknown as { offlineQueue?: { length?: unknown } }).offlineQueue;
  return typeof queue?.length === 'number' ? queue.length : 0;
}

function awaitingReply(conn: Redis | Cluster): number {
  // A Cluster keeps its replies waiting per node connection, not in one queue: not counted.
  if (!('commandQueue' in conn)) return 0;
  let n = 0;
  for (const item of conn.commandQueue.toArray()) if (item.command.name !== 'quit') n++;
  return n;
}

/**
 * Closes `conn` within about `graceMs`: QUIT when it is ready, then (or at once when it is not)
 * disconnect. Resolves, never rejects.
 */
export async function closeRedis(conn: Redis | Cluster, graceMs = REDIS_QUIT_GRACE_MS): Promise<RedisClosed> {
  if (conn.status === 'end') return { graceful: true, abandoned: 0 };
  if (conn.status === 'ready') {
    let timer: NodeJS.Timeout | undefined;
    const answered = await Promise.race([
      conn.quit().then(
        () => true,
        () => false,
      ),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), graceMs))),
    ]);
    clearTimeout(timer);
    if (answered) return { graceful: true, abandoned: 0 };
  }
  const abandoned = offlineQueued(conn) + awaitingReply(conn);
  conn.disconnect();
  return { graceful: false, abandoned };
}

/** `redis_close_abandoned_commands_total{connection}`: commands cut by closing a node's Redis connections. */
export function redisAbandonedCommands(registry: Registry): prom.Counter<'connection'> {
  return sharedMetric(
    registry,
    'redis_close_abandoned_commands_total',
    (registers) =>
      new prom.Counter({
        name: 'redis_close_abandoned_commands_total',
        help: 'Commands left without a reply when a Redis connection was closed (node shutdown while Redis was unreachable or slow), by connection',
        labelNames: ['connection'] as const,
        registers,
      }),
  );
}

/**
 * Closes a component's connections together (see {@link closeRedis}); when one had to be cut,
 * logs what it abandoned and counts it under its name.
 */
export async function closeRedisConnections(connections: Record<string, Redis | Cluster>, log: Logger | undefined, abandonedTotal?: prom.Counter<'connection'>): Promise<void> {
  await Promise.all(
    Object.entries(connections).map(async ([connection, conn]) => {
      const { graceful, abandoned } = await closeRedis(conn);
      if (graceful) return;
      abandonedTotal?.inc({ connection }, abandoned);
      log?.warn({ connection, abandoned }, 'Redis connection cut at close (Redis unreachable or slow): its queued commands got no reply; nothing stored is lost');
    }),
  );
}
