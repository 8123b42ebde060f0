/**
 * While Redis is unreachable a node answers at once and precisely instead of hanging: a
 * subscribe to a channel new to the node, a publish and a history read fail with
 * `engine_unavailable` within the subscribe time limit; once Redis is back the same subscribe
 * succeeds and delivery resumes. (Chosen behaviour: the engine keeps one order per channel
 * cluster-wide, which a node cannot promise alone, so it refuses rather than delivers locally.)
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, RawClient, sleep } from '../helpers/server.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import type { AirwavesConfig } from '../../src/config.js';

type Node = Awaited<ReturnType<typeof startServer>>;
const namespaces = [{ name: 'chat', publish: 'anonymous' as const, historySize: 100 }] as unknown as AirwavesConfig['namespaces'];

describe('Redis unreachable (real Redis stopped and started)', () => {
  let redis: TestRedis;
  let node: Node;
  const clients: RawClient[] = [];

  before(async () => {
    redis = await startRedis();
    node = await startServer({ redisUrl: redis.url, nodeId: 'outage-a', namespaces });
  });

  after(async () => {
    for (const c of clients) c.close();
    await node?.close();
    await redis?.close();
  });

  test('subscribe, publish and history fail fast with engine_unavailable, then work again when Redis returns', async () => {
    const c = await RawClient.open(node.wsUrl);
    clients.push(c);
    await redis.stop();
    await sleep(100);
    for (const [op, body] of [
      ['subscribe', { channel: 'chat:new-to-node' }],
      ['publish', { channel: 'chat:new-to-node', data: { n: 1 } }],
      ['history', { channel: 'chat:new-to-node' }],
    ] as const) {
      const started = Date.now();
      const reply = await c.request(op, body);
      const took = Date.now() - started;
      assert.equal(reply.ok, false, `${op} is refused while Redis is down`);
      assert.equal((reply.error as { code: string }).code, 'engine_unavailable', `${op}: ${JSON.stringify(reply.error)}`);
      assert.ok(took < 3500, `${op} answered within the time limit (${took} ms)`);
    }
    await redis.start();
    const deadline = Date.now() + 10_000;
    let reply = await c.request('subscribe', { channel: 'chat:new-to-node' });
    while (!reply.ok) {
      assert.ok(Date.now() < deadline, `subscribe works again after Redis returns (${JSON.stringify(reply.error)})`);
      await sleep(100);
      reply = await c.request('subscribe', { channel: 'chat:new-to-node' });
    }
    await node.hub.publish('chat:new-to-node', { n: 2 });
    const pushed = await c.waitPush((f) => f.channel === 'chat:new-to-node' && f.data !== undefined);
    assert.deepEqual(pushed.data, { n: 2 });
  });
});
