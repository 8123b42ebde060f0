/**
 * The Redis engine under the interleavings that used to lose or repeat messages, forced with a
 * real redis-server and a proxy in front of node B's connections (./redis-proxy.ts). Node A
 * talks to Redis directly and publishes; SDK clients on the nodes check that they got every
 * message once and in order, or were told explicitly (`recovered: false`).
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sleep } from '../helpers/server.js';
import type { TestRedis } from '../helpers/redis.js';
import type { AirwavesConfig } from '../../src/config.js';
import type { RedisProxy } from './redis-proxy.js';
import { until as untilWithin } from './watchers.js';
import { syncEvent, twoNodesOnRedis, type Node, type TwoNodes } from './two-nodes.js';

const namespaces = [{ name: 'chat', publish: 'anonymous' as const, historySize: 1000, historyTtlSeconds: 600 }] as unknown as AirwavesConfig['namespaces'];

const until = (cond: () => boolean, what: string, timeoutMs = 10_000) => untilWithin(cond, what, timeoutMs);

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('Redis engine: forced interleavings (real Redis, node B behind a proxy)', () => {
  let rig: TwoNodes;
  let redis: TestRedis;
  let proxy: RedisProxy;
  let a: Node;
  let b: Node;

  before(async () => {
    rig = await twoNodesOnRedis('il', { namespaces }, undefined, { proxyB: true });
    ({ redis, a, b } = rig);
    proxy = rig.proxy!;
  });

  after(() => rig?.close());

  const watch = (node: Node, channel: string) => rig.watch(node, channel);

  const publish = (channel: string, n: number) => a.hub.publish(channel, { n });

  test('a PUBLISH held back until after a new subscriber\'s history reply reaches the old subscriber once and the new one not at all', async () => {
    const ch = 'chat:held';
    const early = await watch(b, ch);
    proxy.holdPubSub();
    for (let n = 1; n <= 5; n++) await publish(ch, n);
    // Subscribes while 1..5 are still on their way to node B: its reply says offset 5.
    const late = await watch(b, ch);
    proxy.releasePubSub();
    for (let n = 6; n <= 8; n++) await publish(ch, n);
    await until(() => early.got.length >= 8 && late.got.length >= 3, 'both subscribers caught up');
    await sleep(200);
    assert.deepEqual(early.got, range(1, 8), 'the early subscriber: every message once, in order');
    assert.deepEqual(late.got, range(6, 8), 'the late subscriber: only what came after its reply');
    assert.deepEqual([...early.recovered, ...late.recovered], [], 'no resubscription was needed');
  });

  test('the command connection cut while the subscriber reconnects and another node publishes: the failed fill holds and retries, nothing is lost', async () => {
    const ch = 'chat:cmd-cut';
    const w = await watch(b, ch);
    for (let n = 1; n <= 3; n++) await publish(ch, n);
    await until(() => w.got.length === 3, 'first three');
    const failedBefore = await syncEvent(b, 'fill_failed');
    // No scripts from node B for 1.5 s, and its subscriber drops once (it reconnects at once):
    // what is published in between reaches B only from history, which B cannot read yet.
    proxy.cutCommands(1500);
    proxy.refuseConnections(150);
    const admin = redis.client();
    await admin.client('KILL', 'TYPE', 'pubsub');
    const total = 60;
    for (let n = 4; n <= total; n++) {
      await publish(ch, n);
      await sleep(20);
    }
    await until(() => w.got.length >= total, `all ${total} messages on node B`, 15_000);
    await sleep(200);
    assert.deepEqual(w.got, range(1, total), 'every message once, in order');
    assert.deepEqual(w.recovered, [], 'no loss to report');
    assert.ok((await syncEvent(b, 'fill_failed')) > failedBefore, 'a history read failed while the command connection was cut (the interleaving happened)');
    assert.ok(proxy.scriptRefusals > 0, 'node B tried to run a script while cut off');
  });

  test('CLIENT KILL TYPE pubsub on a quiet channel: the one message published while the subscriber was down still arrives', async () => {
    const ch = 'chat:quiet';
    const w = await watch(b, ch);
    proxy.refuseConnections(700);
    await redis.client().client('KILL', 'TYPE', 'pubsub');
    await until(() => proxy.pubsubConnections === 0, 'node B\'s subscriber is down', 2000);
    await publish(ch, 1);
    await until(() => w.got.length >= 1, 'the message published while node B was not subscribed', 5000);
    await sleep(200);
    assert.deepEqual(w.got, [1]);
  });

  test('a channel\'s epoch key deleted under live subscribers: each is told recovered: false and goes on in the new epoch', async () => {
    const ch = 'chat:epoch';
    const onA = await watch(a, ch);
    const onB = await watch(b, ch);
    for (let n = 1; n <= 3; n++) await publish(ch, n);
    await until(() => onA.got.length === 3 && onB.got.length === 3, 'first three on both nodes');
    await redis.client().del(`aw:{${ch}}:m`);
    const ack = await publish(ch, 4);
    assert.equal('offset' in ack && ack.offset, 1, 'the channel started over under a new epoch');
    await until(() => onA.recovered.length > 0 && onB.recovered.length > 0, 'both subscribers resubscribed');
    assert.deepEqual(onA.recovered, [false]);
    assert.deepEqual(onB.recovered, [false]);
    await publish(ch, 5);
    await until(() => onA.got.includes(5) && onB.got.includes(5), 'the next message on both nodes');
    await sleep(200);
    for (const w of [onA, onB]) {
      assert.deepEqual(w.got.slice(0, 3), [1, 2, 3]);
      assert.equal(w.got.at(-1), 5);
      assert.equal(new Set(w.got).size, w.got.length, 'nothing twice');
      assert.ok(w.got.length <= 5);
    }
  });

  test('mixed traffic through both nodes with the pub/sub connection held and released at random: no loss, no duplicate, no reorder', async () => {
    const ch = 'chat:mixed';
    const onB = await watch(b, ch);
    const onA = await watch(a, ch);
    const hubRejected = async (node: Node) =>
      (await node.metrics.getSingleMetric('hub_rejected_total')!.get()).values.filter((v) => v.labels.reason === 'insufficient_state').reduce((sum, v) => sum + v.value, 0);
    const rejectedBefore = await hubRejected(b);
    const total = 300;
    const acks: Promise<unknown>[] = [];
    for (let n = 1; n <= total; n++) {
      acks.push((n % 2 ? a : b).hub.publish(ch, { n }).then(() => undefined));
      if (n % 50 === 10) proxy.holdPubSub();
      if (n % 50 === 30) proxy.releasePubSub();
      if (n % 25 === 0) await sleep(5);
    }
    proxy.releasePubSub();
    await Promise.all(acks);
    // Offsets are the order: both subscribers must see exactly 1..total by offset.
    await until(() => onA.offsets.length >= total && onB.offsets.length >= total, 'all messages on both nodes', 15_000);
    await sleep(200);
    assert.deepEqual(onA.offsets, range(1, total));
    assert.deepEqual(onB.offsets, range(1, total));
    assert.deepEqual([...onA.recovered, ...onB.recovered], []);
    assert.equal(await hubRejected(b), rejectedBefore, 'no subscription on B lost continuity');
  });
});
