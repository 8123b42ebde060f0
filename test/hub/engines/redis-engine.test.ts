/**
 * The Redis hub engine with a real redis-server and several Airwaves servers in this process:
 * cross-node delivery and order, recovery on another node, idempotent publishes, binary
 * payloads, epochs across restarts, bounded history, and behaviour when Redis goes away.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, RawClient, sleep, TEST_API_KEY, type Frame } from '../../helpers/server.js';
import { startRedis, type TestRedis } from '../../helpers/redis.js';
import type { AirwavesServer } from '../../../src/server.js';
import type { AirwavesConfig } from '../../../src/config.js';
import { encodeWire, decodeWire } from '../../../src/hub/engines/redis/wire.js';
import { encodeBinaryFrame } from '../../../src/hub/frame-encoding.js';
import { decodeBinaryFrame } from '../../../src/protocol/index.js';

type Node = AirwavesServer & { wsUrl: string };

const namespaces = [
  { name: 'chat', publish: 'anonymous' as const, historySize: 1000, historyTtlSeconds: 600 },
  { name: 'small', publish: 'anonymous' as const, historySize: 5 },
  { name: 'media', publish: 'anonymous' as const, binary: true, historySize: 10 },
] as unknown as AirwavesConfig['namespaces'];

describe('RedisEngine (real Redis, two nodes in one process)', () => {
  let redis: TestRedis;
  let a: Node;
  let b: Node;
  const clients: RawClient[] = [];

  const node = (id: string) => startServer({ redisUrl: redis.url, nodeId: id, namespaces });
  const open = async (n: Node) => {
    const c = await RawClient.open(n.wsUrl);
    clients.push(c);
    return c;
  };
  const dataOf = (f: Frame) => (f.data as { n: number }).n;

  before(async () => {
    redis = await startRedis();
    a = await node('node-a');
    b = await node('node-b');
  });

  after(async () => {
    for (const c of clients) c.close();
    await Promise.all([a?.close(), b?.close()]);
    await redis?.close();
  });

  test('wire messages round-trip text, keys with separators and binary payloads', () => {
    const text = decodeWire('chat:x', encodeWire(7, 'ep1', 123, { json: '{"a":"|x|"}', key: 'k|ü' }));
    assert.deepEqual([text.offset, text.epoch, text.ts, text.json, text.key], [7, 'ep1', 123, '{"a":"|x|"}', 'k|ü']);
    const bin = decodeWire('media:x', encodeWire(1, 'e', 5, { binary: new Uint8Array([0x7c, 0, 255]) }));
    assert.deepEqual([...bin.binary!], [0x7c, 0, 255]);
    assert.equal(bin.json, undefined);
  });

  test('both nodes report the redis engine and are ready', async () => {
    for (const n of [a, b]) {
      const res = await fetch(`${n.url}/readyz`);
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { status: 'ready', engine: 'redis' });
    }
  });

  test('a client on node A receives what is published through node B, in order', async () => {
    const c = await open(a);
    const reply = await c.request('subscribe', { channel: 'chat:cross' });
    assert.equal(reply.ok, true);
    const total = 300;
    const acks = [];
    for (let i = 1; i <= total; i++) acks.push(b.hub.publish('chat:cross', { n: i }));
    const offsets = (await Promise.all(acks)).map((ack) => ('offset' in ack ? ack.offset : -1));
    assert.deepEqual(offsets, Array.from({ length: total }, (_, i) => i + 1), 'offsets are assigned in publish order');
    await c.waitFor(() => c.publications('chat:cross').length >= total);
    const got = c.publications('chat:cross');
    assert.deepEqual(got.map(dataOf), Array.from({ length: total }, (_, i) => i + 1));
    assert.deepEqual(got.map((f) => f.offset), offsets);
  });

  test('publishers on both nodes at once: subscribers on both nodes see one identical order', async () => {
    const ca = await open(a);
    const cb = await open(b);
    await ca.request('subscribe', { channel: 'chat:race' });
    await cb.request('subscribe', { channel: 'chat:race' });
    const per = 200;
    const pubs: Promise<unknown>[] = [];
    for (let i = 0; i < per; i++) {
      pubs.push(a.hub.publish('chat:race', { n: i, from: 'a' }));
      pubs.push(b.hub.publish('chat:race', { n: i, from: 'b' }));
    }
    await Promise.all(pubs);
    await ca.waitFor(() => ca.publications('chat:race').length >= 2 * per);
    await cb.waitFor(() => cb.publications('chat:race').length >= 2 * per);
    const seqA = ca.publications('chat:race').map((f) => `${f.offset}:${JSON.stringify(f.data)}`);
    const seqB = cb.publications('chat:race').map((f) => `${f.offset}:${JSON.stringify(f.data)}`);
    assert.equal(seqA.length, 2 * per, 'no duplicates on A');
    assert.deepEqual(seqA, seqB, 'same messages, same offsets, same order on both nodes');
    const offsets = ca.publications('chat:race').map((f) => f.offset as number);
    assert.deepEqual(offsets, Array.from({ length: 2 * per }, (_, i) => i + 1));
    for (const from of ['a', 'b']) {
      const ns = ca.publications('chat:race').map((f) => f.data as { n: number; from: string }).filter((d) => d.from === from).map((d) => d.n);
      assert.deepEqual(ns, Array.from({ length: per }, (_, i) => i), `each publisher's own order is kept (${from})`);
    }
  });

  test('a client that leaves node A and resubscribes on node B with its last offset recovers every missed message', async () => {
    const first = await open(a);
    const sub = await first.request('subscribe', { channel: 'chat:recover' });
    const epoch = (sub.result as { epoch: string }).epoch;
    for (let i = 1; i <= 20; i++) await a.hub.publish('chat:recover', { n: i });
    await first.waitFor(() => first.publications('chat:recover').length === 20);
    const last = first.publications('chat:recover').at(-1)!.offset as number;
    first.close();
    await first.closed;

    for (let i = 21; i <= 50; i++) await a.hub.publish('chat:recover', { n: i });
    const second = await open(b);
    const reply = await second.request('subscribe', { channel: 'chat:recover', since: { offset: last, epoch } });
    assert.equal(reply.ok, true);
    const result = reply.result as { recovered: boolean; replayed: number; epoch: string; offset: number };
    assert.equal(result.epoch, epoch, 'the epoch is shared by the nodes');
    assert.equal(result.recovered, true);
    assert.equal(result.replayed, 30);
    for (let i = 51; i <= 60; i++) await b.hub.publish('chat:recover', { n: i });
    await second.waitFor(() => second.publications('chat:recover').length >= 40);
    await sleep(50);
    assert.deepEqual(second.publications('chat:recover').map(dataOf), Array.from({ length: 40 }, (_, i) => i + 21), 'missed then live, once each, in order');
  });

  test('an idempotency key publishes once cluster-wide and returns the first ack to every node', async () => {
    const c = await open(a);
    await c.request('subscribe', { channel: 'chat:idem' });
    const [x, y, z] = await Promise.all([
      a.hub.publish('chat:idem', { n: 1 }, { idempotencyKey: 'evt-1' }),
      b.hub.publish('chat:idem', { n: 1 }, { idempotencyKey: 'evt-1' }),
      b.hub.publish('chat:idem', { n: 2 }, { idempotencyKey: 'evt-2' }),
    ]);
    assert.deepEqual(x, y);
    assert.notDeepEqual(x, z);
    await c.waitFor(() => c.publications('chat:idem').length >= 2);
    await sleep(100);
    assert.deepEqual(c.publications('chat:idem').map(dataOf), [1, 2]);
  });

  test('a message every node publishes itself reaches each node from its own publish, once, with one offset and time, in order with the usual publishes', async () => {
    const onA = await open(a);
    const onB = await open(b);
    for (const c of [onA, onB]) assert.equal((await c.request('subscribe', { channel: 'chat:each' })).ok, true);
    const each = { eachNodePublishes: true };
    await a.hub.publish('chat:each', { n: 1 }, { idempotencyKey: 'each-1', ...each });
    await onA.waitFor(() => onA.publications('chat:each').length >= 1);
    await sleep(150);
    assert.equal(onB.publications('chat:each').length, 0, 'not carried over pub/sub: node B has not published it yet');
    await b.hub.publish('chat:each', { n: 1 }, { idempotencyKey: 'each-1', ...each });
    await onB.waitFor(() => onB.publications('chat:each').length >= 1);
    // A usual publish in between, then more published by every node: B sees the usual one over
    // pub/sub (or as a gap filled from history) and everything in offset order.
    await a.hub.publish('chat:each', { n: 2 });
    for (const n of [3, 4]) for (const node of [a, b]) await node.hub.publish('chat:each', { n }, { idempotencyKey: `each-${n}`, ...each });
    for (const c of [onA, onB]) await c.waitFor(() => c.publications('chat:each').length >= 4);
    await sleep(100);
    const [fromA, fromB] = [onA, onB].map((c) => c.publications('chat:each'));
    assert.deepEqual(fromA.map(dataOf), [1, 2, 3, 4]);
    assert.deepEqual(fromB.map(dataOf), [1, 2, 3, 4], 'once each, in order');
    assert.deepEqual(fromB.map((f) => f.offset), fromA.map((f) => f.offset), 'one offset per message on both nodes');
    assert.deepEqual(fromB.map((f) => f.ts), fromA.map((f) => f.ts), 'the first publisher’s time on both nodes');
  });

  test('a node catching up on old events (a restarted consumer) does not hand them to subscribers who joined after them', async () => {
    const each = { eachNodePublishes: true };
    for (const n of [1, 2, 3]) await a.hub.publish('chat:late', { n }, { idempotencyKey: `late-${n}`, ...each });
    const late = await open(b);
    const reply = await late.request('subscribe', { channel: 'chat:late' });
    assert.equal((reply.result as { offset: number }).offset, 3, 'the subscriber starts after the three');
    // Node B's consumer now reaches those three events, then a new one.
    for (const n of [1, 2, 3, 4]) await b.hub.publish('chat:late', { n }, { idempotencyKey: `late-${n}`, ...each });
    await late.waitFor(() => late.publications('chat:late').length >= 1);
    await sleep(100);
    assert.deepEqual(late.publications('chat:late').map(dataOf), [4]);
  });

  test('binary namespaces carry raw bytes across nodes', async () => {
    const c = await open(b);
    await c.request('subscribe', { channel: 'media:cam' });
    const payload = new Uint8Array([0xa1, 0x7c, 0x00, 0xff, 0x10]);
    await a.hub.publishBinary('media:cam', payload);
    const sender = await open(a);
    sender.sendRaw(encodeBinaryFrame('media:cam', 0, 0, new Uint8Array([1, 2, 3])), true);
    await c.waitFor(() => c.binaries.length >= 2);
    const frames = c.binaries.map((buf) => decodeBinaryFrame(buf));
    assert.deepEqual(frames.map((f) => [f.channel, f.offset, [...f.payload]]), [
      ['media:cam', 1, [...payload]],
      ['media:cam', 2, [1, 2, 3]],
    ]);
  });

  test('history is kept in Redis, bounded by the namespace, and shared by the nodes', async () => {
    for (let i = 1; i <= 12; i++) await a.hub.publish('small:h', { n: i });
    const fromB = await b.hub.history('small:h', 0, 100);
    assert.equal(fromB.top, 12);
    assert.deepEqual(fromB.messages.map((m) => (m.data as { n: number }).n), [8, 9, 10, 11, 12]);
    const c = await open(b);
    const reply = await c.request('subscribe', { channel: 'small:h', since: { offset: 2, epoch: fromB.epoch } });
    const result = reply.result as { recovered: boolean; replayed: number };
    assert.equal(result.recovered, false, 'offsets 3..7 were trimmed: recovery is reported incomplete');
    assert.equal(result.replayed, 5);
  });

  test('the epoch survives a node restart', async () => {
    await a.hub.publish('chat:epoch', { n: 1 });
    const before = await a.hub.history('chat:epoch', 0, 10);
    const again = await node('node-a2');
    try {
      const after = await again.hub.history('chat:epoch', 0, 10);
      assert.equal(after.epoch, before.epoch);
      assert.equal(after.top, 1);
      const ack = await again.hub.publish('chat:epoch', { n: 2 });
      assert.deepEqual(ack, { offset: 2, epoch: before.epoch });
    } finally {
      await again.close();
    }
  });

  test('a subscriber connection that drops loses nothing: the gap is filled from history', async () => {
    const c = await open(a);
    await c.request('subscribe', { channel: 'chat:gap' });
    await b.hub.publish('chat:gap', { n: 1 });
    await c.waitFor(() => c.publications('chat:gap').length === 1);
    const admin = redis.client();
    // Kill every pub/sub connection (both nodes' subscribers), then publish while they reconnect.
    await admin.client('KILL', 'TYPE', 'pubsub');
    for (let i = 2; i <= 40; i++) {
      await b.hub.publish('chat:gap', { n: i });
      if (i % 10 === 0) await sleep(20);
    }
    await c.waitFor(() => c.publications('chat:gap').length >= 40, 5000);
    await sleep(100);
    assert.deepEqual(c.publications('chat:gap').map(dataOf), Array.from({ length: 40 }, (_, i) => i + 1));
    const fills = await a.metrics.getSingleMetric('redis_engine_sync_events_total')!.get();
    assert.ok((fills.values.find((v) => v.labels.event === 'fill')?.value ?? 0) >= 1, 'the missed messages came from a history read');
  });

  test('while Redis is down: /readyz is 503 and publishes fail with engine_unavailable; afterwards delivery resumes', async () => {
    const c = await open(a);
    const first = await c.request('subscribe', { channel: 'chat:outage' });
    const oldEpoch = (first.result as { epoch: string }).epoch;
    await b.hub.publish('chat:outage', { n: 1 });
    await c.waitFor(() => c.publications('chat:outage').length === 1);

    await redis.stop();
    await sleep(100);
    const ready = await fetch(`${a.url}/readyz`);
    assert.equal(ready.status, 503);
    const res = await fetch(`${b.url}/api/v1/publish`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_API_KEY}` },
      body: JSON.stringify({ channel: 'chat:outage', data: { n: 2 } }),
    });
    assert.equal(res.status, 503);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'engine_unavailable');

    await redis.start();
    const deadline = Date.now() + 5000;
    while ((await fetch(`${a.url}/readyz`)).status !== 200 || (await fetch(`${b.url}/readyz`)).status !== 200) {
      assert.ok(Date.now() < deadline, 'nodes become ready again after Redis returns');
      await sleep(50);
    }
    await sleep(100);
    // Redis restarted without persistence: the channel starts over under a new epoch. The
    // subscriber is told it lost continuity (a gap notice), and resubscribing from its position
    // answers recovered: false, then delivery goes on in the new epoch.
    const before = c.publications('chat:outage')[0];
    await b.hub.publish('chat:outage', { n: 3 });
    const gap = await c.waitPush((f) => f.channel === 'chat:outage' && f.event === 'gap');
    assert.equal(gap.from, 2);
    assert.equal(c.publications('chat:outage').length, 1, 'nothing of the new epoch is handed over the old position');
    await c.request('unsubscribe', { channel: 'chat:outage' });
    const again = await c.request('subscribe', { channel: 'chat:outage', since: { offset: before.offset, epoch: oldEpoch } });
    assert.equal((again.result as { recovered: boolean }).recovered, false);
    await b.hub.publish('chat:outage', { n: 4 });
    const pushed = await c.waitPush((f) => f.channel === 'chat:outage' && f.data !== undefined && (f.data as { n: number }).n === 4);
    assert.equal((pushed.data as { n: number }).n, 4, 'the subscriber was re-subscribed after the outage');
  });
});
