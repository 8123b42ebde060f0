/**
 * A node told to stop while its Redis is down stops in bounded time (src/core/redis-close.ts).
 * Before, the engine's subscriber connection held its QUIT behind the SUBSCRIBE/UNSUBSCRIBE that
 * a subscribe during the outage queued, and `server.close()` waited until Redis came back (more
 * than 80 s seen). Here a real redis-server is stopped under a node with a live subscription
 * (presence on), a subscribe to a new channel is refused meanwhile (queueing those commands),
 * and the node must close within CLOSE_LIMIT_MS with no unhandled rejection, counting what its
 * Redis connections abandoned.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, RawClient, sleep } from '../helpers/server.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import type { AirwavesConfig } from '../../src/config.js';

const namespaces = [{ name: 'chat', publish: 'anonymous', historySize: 100, presence: true }] as unknown as AirwavesConfig['namespaces'];
/** QUIT grace (1 s) + client drain (0.5 s) + generous room for a machine at load 20+. */
const CLOSE_LIMIT_MS = 10_000;

/** `promise`, or a rejection naming `what` once `ms` pass. */
async function within<T>(ms: number, promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms)));
  try {
    return await Promise.race([promise, limit]);
  } finally {
    clearTimeout(timer);
  }
}

describe('closing a node while Redis is down (real Redis stopped)', () => {
  let redis: TestRedis | undefined;
  const clients: RawClient[] = [];
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);

  after(async () => {
    process.off('unhandledRejection', onUnhandled);
    for (const c of clients) c.close();
    await redis?.close();
  });

  test('server.close() returns within the limit, abandons only commands, and leaves no unhandled rejection', { timeout: 120_000 }, async () => {
    redis = await startRedis();
    const node = await startServer({ redisUrl: redis.url, nodeId: 'close-outage', namespaces, shutdownDrainMs: 500 });
    let closed = false;
    try {
      const c = await RawClient.open(node.wsUrl);
      clients.push(c);
      assert.equal((await c.request('subscribe', { channel: 'chat:before' })).ok, true);
      await node.hub.publish('chat:before', { n: 1 });
      await c.waitPush((f) => f.channel === 'chat:before' && f.data !== undefined);

      await redis.stop();
      await sleep(200);
      // A channel new to the node: refused, and its SUBSCRIBE/UNSUBSCRIBE wait in ioredis' queue.
      const refused = await c.request('subscribe', { channel: 'chat:during' });
      assert.equal(refused.ok, false);
      assert.equal((refused.error as { code: string }).code, 'engine_unavailable');

      const started = Date.now();
      await within(CLOSE_LIMIT_MS, node.close(), 'server.close() with Redis down');
      closed = true;
      const took = Date.now() - started;
      assert.ok(took < CLOSE_LIMIT_MS, `closed in ${took} ms`);

      const metric = await node.metrics.getSingleMetric('redis_close_abandoned_commands_total')!.get();
      const subscriber = metric.values.find((v) => v.labels.connection === 'engine-subscriber')?.value ?? 0;
      assert.ok(subscriber >= 1, `the queued SUBSCRIBE/UNSUBSCRIBE are counted as abandoned: ${JSON.stringify(metric.values)}`);

      await sleep(500); // rejections of the cut commands surface on later turns
      assert.deepEqual(unhandled.map((r) => (r as Error)?.message ?? String(r)), [], 'no unhandled rejection');
    } finally {
      if (!closed) void node.close().catch(() => undefined); // hung: not awaited, the test has failed already
    }
  });
});
