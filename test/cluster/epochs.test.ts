/**
 * Channel epochs in the Redis engine, with two nodes on one real Redis and a short channel TTL
 * (AIRWAVES_REDIS_CHANNEL_TTL_MS=3000, so nodes refresh listened channels every second):
 * - a quiet channel's epoch key kept alive while it is listened (and one nobody listens to expires);
 * - an epoch change on a quiet channel pushed to its subscribers at once, not learned from the
 *   next publish;
 * - a fork, as a Sentinel failover to a replica that missed the last writes leaves it (the tail
 *   lost, and maybe its offsets given to new messages): subscribers are told `recovered: false`
 *   and never take a different message for one they have.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sleep } from '../helpers/server.js';
import type { AirwavesConfig } from '../../src/config.js';
import { until, type Watcher } from './watchers.js';
import { syncEvent, twoNodesOnRedis, type TwoNodes } from './two-nodes.js';

// No history TTL (0): the channel's epoch key lives exactly the channel TTL after the last touch.
const namespaces = [{ name: 'chat', publish: 'anonymous' as const, historySize: 1000, historyTtlSeconds: 0 }] as unknown as AirwavesConfig['namespaces'];
const TTL_MS = 3000;


describe('Redis engine: epochs kept alive, changes pushed, forks reported', () => {
  let rig: TwoNodes;

  before(async () => {
    rig = await twoNodesOnRedis('ep', { namespaces, redisChannelTtlMs: TTL_MS });
  });

  after(() => rig?.close());

  const watchBoth = async (channel: string): Promise<Watcher[]> => [await rig.watch(rig.a, channel), await rig.watch(rig.b, channel)];
  const publish = (channel: string, n: number) => rig.a.hub.publish(channel, { n });

  test('a listened channel keeps its epoch through many TTLs without a publish; an unlistened one expires', async () => {
    const admin = rig.redis.client();
    const ch = 'chat:kept';
    const [onA, onB] = await watchBoth(ch);
    await publish(ch, 1);
    await publish('chat:unlistened', 1);
    const epoch = await admin.hget(`aw:{${ch}}:m`, 'e');
    assert.ok(epoch, 'the channel has an epoch');
    await sleep(4 * TTL_MS);
    assert.equal(await admin.exists('aw:{chat:unlistened}:m'), 0, 'a channel nobody listens to expired after its TTL (the TTL is really short)');
    assert.equal(await admin.hget(`aw:{${ch}}:m`, 'e'), epoch, 'the listened channel kept its epoch');
    const ttl = await admin.pttl(`aw:{${ch}}:m`);
    assert.ok(ttl > 0 && ttl <= TTL_MS, `and its key is being refreshed (PTTL ${ttl} ms)`);
    const ack = await publish(ch, 2);
    assert.equal('offset' in ack && ack.offset, 2, 'offsets go on in the same epoch');
    await until(() => onA.got.length === 2 && onB.got.length === 2, 'the second message on both nodes', 10_000);
    assert.deepEqual(onA.got, [1, 2]);
    assert.deepEqual(onB.got, [1, 2]);
    assert.deepEqual([...onA.recovered, ...onB.recovered], [], 'nobody lost continuity');
  });

  test('an epoch change on a quiet channel reaches its subscribers on both nodes without any publish', async () => {
    const ch = 'chat:quiet-epoch';
    const ws = await watchBoth(ch);
    await publish(ch, 1);
    await until(() => ws.every((w) => w.got.length === 1), 'the first message on both nodes', 10_000);
    const changes = [await syncEvent(rig.a, 'epoch_change'), await syncEvent(rig.b, 'epoch_change')];
    await rig.redis.client().del(`aw:{${ch}}:m`);
    // Nothing is published: the nodes' refresh finds the new epoch and tells the subscribers.
    await until(() => ws.every((w) => w.recovered.length > 0), 'both subscribers told of the new epoch', 20_000);
    for (const w of ws) assert.deepEqual(w.recovered, [false], 'told once, recovered: false');
    assert.ok((await syncEvent(rig.a, 'epoch_change')) > changes[0] && (await syncEvent(rig.b, 'epoch_change')) > changes[1], 'each node saw the epoch change');
    await publish(ch, 2);
    await until(() => ws.every((w) => w.got.at(-1) === 2), 'the next message on both nodes', 10_000);
    for (const w of ws) assert.deepEqual(w.got, [1, 2]);
  });

  test('a fork with the tail lost (top below what the nodes delivered) is reported as recovered: false on the reconnect', async () => {
    const admin = rig.redis.client();
    const ch = 'chat:fork-lost';
    const ws = await watchBoth(ch);
    for (let n = 1; n <= 5; n++) await publish(ch, n);
    await until(() => ws.every((w) => w.got.length === 5), 'five messages on both nodes', 10_000);
    const forks = await syncEvent(rig.a, 'fork');
    // What a promoted replica that missed offsets 4 and 5 holds; the subscribers reconnect to it.
    await admin.hset(`aw:{${ch}}:m`, 't', 3);
    await admin.lpop(`aw:{${ch}}:h`, 2);
    await admin.client('KILL', 'TYPE', 'pubsub');
    await until(() => ws.every((w) => w.recovered.length > 0), 'both subscribers told', 20_000);
    for (const w of ws) assert.deepEqual(w.recovered, [false]);
    assert.ok((await syncEvent(rig.a, 'fork')) + (await syncEvent(rig.b, 'fork')) > forks, 'a fork was detected');
    await publish(ch, 6);
    await until(() => ws.every((w) => w.got.at(-1) === 6), 'the next message on both nodes', 10_000);
    for (const w of ws) assert.deepEqual(w.got, [1, 2, 3, 4, 5, 6], 'nothing twice, nothing out of order');
  });

  test('a fork whose offsets were given to new messages: no subscriber takes them for the ones it has', async () => {
    const admin = rig.redis.client();
    const ch = 'chat:fork-reused';
    const ws = await watchBoth(ch);
    for (let n = 1; n <= 5; n++) await publish(ch, n);
    await until(() => ws.every((w) => w.got.length === 5), 'five messages on both nodes', 10_000);
    await admin.hset(`aw:{${ch}}:m`, 't', 3);
    await admin.lpop(`aw:{${ch}}:h`, 2);
    // 6 and 7 get offsets 4 and 5 again, in the same epoch.
    const reused = [await publish(ch, 6), await publish(ch, 7)];
    assert.deepEqual(
      reused.map((r) => 'offset' in r && r.offset),
      [4, 5],
      'the offsets were reused',
    );
    await until(() => ws.every((w) => w.recovered.length > 0), 'both subscribers told', 20_000);
    for (const w of ws) assert.deepEqual(w.recovered, [false]);
    await publish(ch, 8);
    await until(() => ws.every((w) => w.got.at(-1) === 8), 'the next message on both nodes', 10_000);
    for (const w of ws) assert.deepEqual(w.got, [1, 2, 3, 4, 5, 8], 'the messages at reused offsets were never taken for 4 and 5');
  });
});
