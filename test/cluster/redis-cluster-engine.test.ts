/**
 * @module test/cluster/redis-cluster-engine
 * The engine on a real three-master Redis Cluster (`AIRWAVES_REDIS_CLUSTER=true`, the masters'
 * URLs as seeds): two nodes, a publication on node A reaches a client on node B once and in
 * order on every channel, the channels spread over the masters (each channel's keys on its
 * slot's master only), and a client moving from A to B recovers what it missed from history.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, type Frame } from '../helpers/server.js';
import type { AirwavesConfig } from '../../src/config.js';
import { twoNodesOnRedis } from './two-nodes.js';
import { startRedisCluster, type TestRedisCluster } from './redis-cluster-rig.js';

const namespaces = [{ name: 'chat', publish: 'anonymous' as const, historySize: 100 }] as unknown as AirwavesConfig['namespaces'];
const CHANNELS = Array.from({ length: 12 }, (_, i) => `chat:rc${i}`);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const nOf = (f: Frame) => (f.data as { n: number }).n;

test('two nodes on a three-master Redis Cluster: in order across nodes on every channel, channels on every master, history recovery on the other node', { timeout: 240_000 }, async (t) => {
  const nodes = await twoNodesOnRedis<TestRedisCluster>('rcluster', { namespaces }, () => startRedisCluster(3));
  t.after(() => nodes.close());
  const { a, b, redis } = nodes;
  const clients: RawClient[] = [];
  t.after(() => clients.forEach((c) => c.close()));

  // 1. Published on A, delivered on B: offsets 1..n once and in order, on every channel.
  const onB = await RawClient.open(b.wsUrl);
  clients.push(onB);
  for (const ch of CHANNELS) assert.equal((await onB.request('subscribe', { channel: ch }, 15_000)).ok, true, `subscribe ${ch} on B`);
  const perChannel = 20;
  for (let n = 1; n <= perChannel; n++) await Promise.all(CHANNELS.map((ch) => a.hub.publish(ch, { n })));
  await onB.waitFor(() => CHANNELS.every((ch) => onB.publications(ch).length >= perChannel), 60_000);
  for (const ch of CHANNELS) {
    assert.deepEqual(onB.publications(ch).map(nOf), range(1, perChannel), `${ch}: every publication once, in order`);
    assert.deepEqual(onB.publications(ch).map((f) => f.offset), range(1, perChannel), `${ch}: offsets 1..${perChannel}`);
  }

  // 2. Each channel's keys are on exactly one master, and every master holds some channel.
  const perMaster = redis.masters.map(() => 0);
  for (const ch of CHANNELS) {
    const holders: number[] = [];
    for (let i = 0; i < redis.masters.length; i++) {
      // A master that does not own the slot answers MOVED: the keys are not there.
      const found = await redis.masters[i]
        .client()
        .exists(`aw:{${ch}}:m`, `aw:{${ch}}:h`)
        .catch((err: Error) => (err.message.startsWith('MOVED') ? 0 : Promise.reject(err)));
      if (found === 2) holders.push(i);
    }
    assert.equal(holders.length, 1, `${ch}: its offset and history keys are on one master (found on ${holders.join(', ') || 'none'})`);
    perMaster[holders[0]]++;
  }
  assert.ok(perMaster.every((n) => n > 0), `channels on every master (${perMaster.join(' / ')})`);

  // 3. A client leaves A after offset 5 and resubscribes on B with its position: it gets the rest, then live.
  const onA = await RawClient.open(a.wsUrl);
  clients.push(onA);
  const reply = await onA.request('subscribe', { channel: 'chat:rc-hop' }, 15_000);
  const epoch = (reply.result as { epoch: string }).epoch;
  for (let n = 1; n <= 5; n++) await a.hub.publish('chat:rc-hop', { n });
  await onA.waitFor(() => onA.publications('chat:rc-hop').length === 5, 30_000);
  onA.close();
  for (let n = 6; n <= 15; n++) await (n % 2 ? a : b).hub.publish('chat:rc-hop', { n });
  const moved = await RawClient.open(b.wsUrl);
  clients.push(moved);
  const again = await moved.request('subscribe', { channel: 'chat:rc-hop', since: { offset: 5, epoch } }, 15_000);
  const result = again.result as { epoch: string; recovered?: boolean; replayed?: number };
  assert.equal(result.epoch, epoch, 'same epoch');
  assert.equal(result.recovered, true, 'recovered from history');
  assert.equal(result.replayed, 10, 'the 10 missed publications replayed');
  await a.hub.publish('chat:rc-hop', { n: 16 });
  await moved.waitFor(() => moved.publications('chat:rc-hop').length >= 11, 30_000);
  assert.deepEqual(moved.publications('chat:rc-hop').map(nOf), range(6, 16), 'missed ones, then live, in order');
});
