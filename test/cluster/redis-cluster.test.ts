/**
 * @module test/cluster/redis-cluster
 * The engine's data model on a real Redis Cluster (three masters, `redis-cli --cluster create`):
 * every key of a channel shares the hash tag `{<channel>}`, so each of the engine's Lua scripts
 * (publish, history, restart, presence add/list/leave) runs on the one master that owns the
 * channel's slot, with no CROSSSLOT error, and channels spread over all masters. A PUBLISH from a
 * script on any master reaches a subscriber connected to another (the cluster bus broadcasts it).
 *
 * This is the proof that sharding by hash tag carries over to Redis Cluster; the engine on a
 * Cluster (AIRWAVES_REDIS_CLUSTER) is tested in ./redis-cluster-engine.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, Redis } from 'ioredis';
import { startRedisCluster, waitFor } from './redis-cluster-rig.js';
import { engineScripts, presenceScripts } from '../../src/hub/engines/redis/scripts.js';
import { channelKeys, pubSubChannelOf } from '../../src/hub/engines/redis/wire.js';

interface ScriptedCluster extends Cluster {
  awPublish(meta: string, hist: string, idem: string, ...argv: (string | number)[]): Promise<string>;
  awHistory(meta: string, hist: string, after: number, limit: number, epoch: string, ttl: number): Promise<[number, string, string[]]>;
  awRestart(meta: string, hist: string, seen: string, next: string, ttl: number): Promise<number>;
  awPresenceAdd(...keysThenArgv: (string | number)[]): Promise<number>;
  awPresenceList(...keysThenArgv: (string | number)[]): Promise<string[]>;
  awPresenceLeave(...keysThenArgv: (string | number)[]): Promise<number>;
}

// Names with the characters a hash tag could trip on: a '}' or '{' inside the channel name.
const CHANNELS = [...Array.from({ length: 24 }, (_, i) => `chat:room-${i}`), 'odd}name', 'a{b}c', 'bench:{x}', 'support:ticket/42'];

test('the engine scripts run on a three-master Redis Cluster: one slot per channel, channels on every master, pub/sub across masters', { timeout: 180_000 }, async (t) => {
  const redis = await startRedisCluster(3);
  t.after(() => redis.close());
  const { masters } = redis;

  // 1. Every key of a channel is in the channel's one slot (asked of Redis, not computed here).
  const probe = masters[0].client();
  const slotOf = new Map<string, number>();
  for (const channel of CHANNELS) {
    const k = channelKeys(channel);
    const slots = new Set<number>();
    for (const key of [k.meta, k.history, k.idempotency('retry-1'), ...k.presence]) slots.add(Number(await probe.cluster('KEYSLOT', key)));
    assert.equal(slots.size, 1, `keys of ${channel} span slots ${[...slots].join(', ')}`);
    slotOf.set(channel, [...slots][0]);
  }

  const cluster = new Cluster(
    masters.map((m) => ({ host: '127.0.0.1', port: m.port })),
    { redisOptions: { maxRetriesPerRequest: 3 } },
  ) as ScriptedCluster;
  cluster.on('error', () => {});
  const scripts = engineScripts();
  const presence = presenceScripts();
  cluster.defineCommand('awPublish', { numberOfKeys: 3, lua: scripts.publish });
  cluster.defineCommand('awHistory', { numberOfKeys: 2, lua: scripts.history });
  cluster.defineCommand('awRestart', { numberOfKeys: 2, lua: scripts.restart });
  cluster.defineCommand('awPresenceAdd', { numberOfKeys: 4, lua: presence.add });
  cluster.defineCommand('awPresenceList', { numberOfKeys: 4, lua: presence.list });
  cluster.defineCommand('awPresenceLeave', { numberOfKeys: 4, lua: presence.leave });
  // A plain subscriber on the first master only: publications from scripts on the others must reach it too.
  const sub = new Redis({ host: '127.0.0.1', port: masters[0].port });
  sub.on('error', () => {});
  t.after(async () => {
    sub.disconnect();
    cluster.disconnect();
  });
  const heard = new Map<string, string[]>();
  sub.on('message', (ch: string, msg: string) => heard.set(ch, [...(heard.get(ch) ?? []), msg]));
  await sub.subscribe(...CHANNELS.map(pubSubChannelOf));
  await waitFor('cluster client ready', async () => cluster.status === 'ready' || (await cluster.ping()) === 'PONG');

  // 2. Three publications per channel, one of them retried under the same idempotency key.
  const ttl = 60_000;
  const publish = (channel: string, data: string, idem?: string) => {
    const k = channelKeys(channel);
    return cluster.awPublish(k.meta, k.history, idem ? k.idempotency(idem) : k.meta, pubSubChannelOf(channel), 'j', '', data, 100, ttl, ttl, `e-${channel}`, Date.now(), idem ? ttl : 0, '0');
  };
  for (const channel of CHANNELS) {
    const first = await publish(channel, '"one"');
    assert.match(first, /^1 e-/);
    const second = await publish(channel, '"two"', 'retry-1');
    assert.equal(await publish(channel, '"two"', 'retry-1'), second, 'a retried idempotent publish returns the first ack');
    assert.match(await publish(channel, '"three"'), /^3 /);
  }

  // Channels landed on every master: each master's own keyspace holds some channels' meta keys.
  const owners = await Promise.all(masters.map((m) => m.client().dbsize()));
  assert.ok(owners.every((n) => n > 0), `every master holds channel keys (keys per master: ${owners.join(', ')})`);
  assert.ok(new Set(slotOf.values()).size > 3);

  // 3. History and restart on the owning master.
  for (const channel of CHANNELS) {
    const k = channelKeys(channel);
    const [top, epoch, items] = await cluster.awHistory(k.meta, k.history, 0, 10, 'unused', ttl);
    assert.equal(Number(top), 3);
    assert.equal(epoch, `e-${channel}`);
    assert.deepEqual(
      items.map((m) => m.slice(m.lastIndexOf('|') + 1)),
      ['"three"', '"two"', '"one"'],
    );
  }
  const k0 = channelKeys(CHANNELS[0]);
  assert.equal(await cluster.awRestart(k0.meta, k0.history, `e-${CHANNELS[0]}`, 'e-new', ttl), 1);
  const [topAfter, epochAfter] = await cluster.awHistory(k0.meta, k0.history, 0, 10, 'unused', ttl);
  assert.deepEqual([Number(topAfter), epochAfter], [0, 'e-new']);

  // 4. Pub/sub: every channel's three publications reached the subscriber on master 0, in offset order.
  await waitFor('every publication heard', async () => CHANNELS.every((c) => (heard.get(pubSubChannelOf(c))?.length ?? 0) === 3), 30_000);
  for (const channel of CHANNELS) assert.deepEqual(heard.get(pubSubChannelOf(channel))!.map((m) => Number(m.split('|')[0])), [1, 2, 3]);

  // 5. Presence: add two clients, list, leave one; the notices are published across masters too.
  const channel = CHANNELS[1];
  const keys = channelKeys(channel).presence;
  const now = Date.now();
  await cluster.awPresenceAdd(...keys, now + 15_000, 30_000, now, pubSubChannelOf(channel), 'node-a', 100, 'c1', '{"client":"c1"}', 'c2', '{"client":"c2"}');
  const listed = await cluster.awPresenceList(...keys, Date.now(), pubSubChannelOf(channel), 30_000, 100);
  assert.deepEqual(listed.filter((_, i) => i % 2 === 0).sort(), ['c1', 'c2']);
  await cluster.awPresenceLeave(...keys, pubSubChannelOf(channel), 'node-a', 30_000, 100, 'c1');
  const after = await cluster.awPresenceList(...keys, Date.now(), pubSubChannelOf(channel), 30_000, 100);
  assert.deepEqual(after.filter((_, i) => i % 2 === 0), ['c2']);
  await waitFor('presence notices heard', async () => (heard.get(pubSubChannelOf(channel)) ?? []).filter((m) => /^[JL]\|/.test(m)).length === 3, 30_000);
});
