/**
 * @module test/events/orphan-groups
 * The consumer groups of gone nodes are deleted, on a real redis-server: a stopped node's group
 * (and one that never had a consumer) is deleted by a live node once idle past the orphan time,
 * counted in `events_orphaned_groups_deleted_total{stream}`; the live node's own group and groups
 * that are not the hub's are kept. A node whose group was deleted while it was away recreates it
 * after the last entry it handled: new events arrive, old ones are not consumed again.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startServer, RawClient, sleep, until } from '../helpers/server.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import type { AirwavesServer } from '../../src/server.js';
import type { AirwavesConfig } from '../../src/config.js';
import { MemoryEventLog } from '../../src/events/memory-event-log.js';
import { RedisStreamsEventLog } from '../../src/events/redis-streams-event-log.js';
import { isNoGroupError, type EventLog } from '../../src/events/event-log.js';

type Node = AirwavesServer & { wsUrl: string };
const namespaces = [{ name: 'chat', publish: 'anonymous', historySize: 1000 }] as unknown as AirwavesConfig['namespaces'];
const STREAMS = ['events:chat', 'events:ticket', 'events:remote'];
const ORPHAN_AFTER_MS = 4000;

async function metric(server: AirwavesServer, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = server.metrics.getSingleMetric(name);
  if (!m) return 0;
  return (await m.get()).values.filter((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val)).reduce((sum, v) => sum + v.value, 0);
}

describe('consumers() and deleteGroup(), memory and Redis alike', () => {
  let redis: TestRedis;
  const logs: EventLog[] = [];
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    for (const l of logs) await l.close();
    await redis?.close();
  });

  for (const kind of ['memory', 'redis'] as const) {
    test(`${kind}: a group lists its consumers with pending and idle time; deleting it leaves the stream and other groups`, async () => {
      const log: EventLog = kind === 'memory' ? new MemoryEventLog() : new RedisStreamsEventLog({ url: redis.url });
      logs.push(log);
      const stream = `s-${kind}-${randomUUID()}`;
      await log.ensureGroup(stream, 'g1', '0');
      await log.ensureGroup(stream, 'g2', '0');
      assert.deepEqual(await log.consumers(stream, 'g1'), []);
      await log.append(stream, { n: '1' });
      await log.append(stream, { n: '2' });
      assert.equal((await log.readGroup(stream, 'g1', 'c1', { count: 1 })).length, 1);
      await sleep(300);
      await log.readGroup(stream, 'g1', 'c2', { count: 10 });
      const consumers = await log.consumers(stream, 'g1');
      const c1 = consumers.find((c) => c.name === 'c1');
      const c2 = consumers.find((c) => c.name === 'c2');
      assert.equal(c1?.pending, 1);
      assert.equal(c2?.pending, 1);
      assert.ok(c1!.idleMs >= 250 && c2!.idleMs < c1!.idleMs, JSON.stringify(consumers));

      assert.equal(await log.deleteGroup(stream, 'g1'), true);
      assert.equal(await log.deleteGroup(stream, 'g1'), false);
      assert.equal(await log.deleteGroup(`missing-${stream}`, 'g1'), false);
      await assert.rejects(log.consumers(stream, 'g1'), isNoGroupError);
      await assert.rejects(log.consumers(`missing-${stream}`, 'g1'), isNoGroupError);
      await assert.rejects(log.readGroup(stream, 'g1', 'c1'), isNoGroupError);
      assert.deepEqual((await log.groups(stream)).map((g) => g.name), ['g2']);
      assert.equal(await log.length(stream), 2);
      assert.equal((await log.readGroup(stream, 'g2', 'c1', { count: 10 })).length, 2);
    });
  }
});

describe('orphaned consumer groups on a real Redis', () => {
  let redis: TestRedis;
  let a: Node | undefined;
  let b: Node | undefined;
  const clients: RawClient[] = [];
  const node = (id: string) => startServer({ redisUrl: redis.url, nodeId: id, namespaces, eventOrphanGroupIdleMs: ORPHAN_AFTER_MS });
  const groupsOf = async (stream: string) => ((await redis.client().xinfo('GROUPS', stream).catch(() => [])) as unknown[][]).map((g) => String(g[1]));

  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    for (const c of clients) c.close();
    await Promise.all([a?.close(), b?.close()]);
    await redis?.close();
  });

  test('a stopped node\'s group, and one that never had a consumer, are deleted and counted; live and foreign groups stay', { timeout: 120_000 }, async () => {
    a = await node('orph-a');
    b = await node('orph-b');
    for (const stream of STREAMS) await until(`both groups on ${stream}`, async () => (await groupsOf(stream)).length >= 2);
    const probe = redis.client();
    await probe.xgroup('CREATE', 'events:chat', 'hub-never-read', '$');
    await probe.xgroup('CREATE', 'events:chat', 'analytics', '$');
    // Entries the stopped node never reads: its group's lag, which the trim guard would dead-letter.
    for (let i = 0; i < 5; i++) await probe.xadd('events:chat', '*', 'id', randomUUID(), 'ch', 'chat:x', 'room', 'r', 'type', 't', 'body', '{}');

    await b.close();
    b = undefined;
    const stoppedAt = Date.now();
    await until('the stopped node\'s groups deleted', async () => {
      for (const stream of STREAMS) if ((await groupsOf(stream)).includes('hub-orph-b')) return false;
      return !(await groupsOf('events:chat')).includes('hub-never-read');
    }, 60_000);
    assert.ok(Date.now() - stoppedAt >= ORPHAN_AFTER_MS - 500, 'not before the orphan time');

    for (const stream of STREAMS) assert.ok((await groupsOf(stream)).includes('hub-orph-a'), `the live node keeps its group on ${stream}`);
    assert.ok((await groupsOf('events:chat')).includes('analytics'), 'a group that is not the hub\'s is never touched');
    assert.equal(await metric(a, 'events_orphaned_groups_deleted_total', { stream: 'events:chat' }), 2);
    assert.equal(await metric(a, 'events_orphaned_groups_deleted_total', { stream: 'events:ticket' }), 1);
    assert.equal(await metric(a, 'events_orphaned_groups_deleted_total', { stream: 'events:remote' }), 1);

    // The live node keeps being live: a few more sweeps do not touch its group.
    await sleep(ORPHAN_AFTER_MS + 1500);
    for (const stream of STREAMS) assert.ok((await groupsOf(stream)).includes('hub-orph-a'));
  });

  test('a node whose group was deleted recreates it after the last entry it handled: new events arrive, old ones are not consumed again', { timeout: 120_000 }, async () => {
    a ??= await node('orph-a');
    await until('the group exists', async () => (await groupsOf('events:chat')).includes('hub-orph-a'));
    const client = await RawClient.open(a.wsUrl);
    clients.push(client);
    assert.equal((await client.request('subscribe', { channel: 'chat:recreate' })).ok, true);
    const probe = redis.client();
    const append = (n: number) => probe.xadd('events:chat', '*', 'id', randomUUID(), 'ch', 'chat:recreate', 'room', 'r', 'type', 'message.created', 'body', JSON.stringify({ n }));
    const consumedBefore = await metric(a, 'events_consumed_total', { stream: 'events:chat' });
    for (let n = 1; n <= 3; n++) await append(n);
    await client.waitFor(() => client.publications('chat:recreate').length >= 3, 15_000);

    await probe.xgroup('DESTROY', 'events:chat', 'hub-orph-a');
    for (let n = 4; n <= 5; n++) await append(n);
    await client.waitFor(() => client.publications('chat:recreate').length >= 5, 20_000);
    await sleep(500);
    assert.deepEqual(client.publications('chat:recreate').map((f) => (f.data as { n: number }).n), [1, 2, 3, 4, 5]);
    assert.equal(await metric(a, 'events_consumed_total', { stream: 'events:chat' }) - consumedBefore, 5, 'nothing consumed twice');
  });
});
