/**
 * Channels sharded over two real redis-server processes (`AIRWAVES_REDIS_URL=<a>,<b>`): two
 * nodes agree on each channel's shard, each channel's offsets and history live only on its
 * shard, delivery across nodes stays in order on every channel, and losing one shard stops only
 * its own channels.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, RawClient, sleep, type Frame } from '../helpers/server.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import type { AirwavesConfig } from '../../src/config.js';
import { shardOf } from '../../src/hub/engines/redis/shards.js';

type Node = Awaited<ReturnType<typeof startServer>>;
const namespaces = [{ name: 'chat', publish: 'anonymous' as const, historySize: 100 }] as unknown as AirwavesConfig['namespaces'];
const CHANNELS = Array.from({ length: 24 }, (_, i) => `chat:s${i}`);

describe('channels sharded over two Redis processes', () => {
  let shards: TestRedis[];
  let urls: string[];
  let a: Node;
  let b: Node;
  const clients: RawClient[] = [];

  before(async () => {
    shards = await Promise.all([startRedis(), startRedis()]);
    urls = shards.map((s) => s.url);
    a = await startServer({ redisUrl: urls.join(','), nodeId: 'shard-a', namespaces });
    b = await startServer({ redisUrl: urls.join(', '), nodeId: 'shard-b', namespaces });
  });

  after(async () => {
    for (const c of clients) c.close();
    await Promise.all([a?.close(), b?.close()]);
    await Promise.all(shards.map((s) => s.close()));
  });

  test('each channel lives on one shard, both shards are used, and delivery across nodes is in order on every channel', async () => {
    const c = await RawClient.open(b.wsUrl);
    clients.push(c);
    for (const ch of CHANNELS) assert.equal((await c.request('subscribe', { channel: ch })).ok, true);
    const perChannel = 20;
    for (let n = 1; n <= perChannel; n++) await Promise.all(CHANNELS.map((ch) => a.hub.publish(ch, { n })));
    await c.waitFor(() => CHANNELS.every((ch) => c.publications(ch).length >= perChannel), 10_000);
    for (const ch of CHANNELS) {
      assert.deepEqual(
        c.publications(ch).map((f: Frame) => f.offset),
        Array.from({ length: perChannel }, (_, i) => i + 1),
        `${ch}: offsets 1..${perChannel} once, in order`,
      );
    }
    const counts = [0, 0];
    for (const ch of CHANNELS) {
      const home = shardOf(ch, urls);
      counts[home]++;
      assert.equal(await shards[home].client().exists(`aw:{${ch}}:m`), 1, `${ch} is on shard ${home}`);
      assert.equal(await shards[1 - home].client().exists(`aw:{${ch}}:m`), 0, `${ch} is not on the other shard`);
    }
    assert.ok(counts[0] > 0 && counts[1] > 0, `both shards hold channels (${counts.join(' / ')})`);
  });

  test('losing one shard stops only its channels: the others keep publishing and delivering', async () => {
    const lost = CHANNELS.find((ch) => shardOf(ch, urls) === 1)!;
    const kept = CHANNELS.find((ch) => shardOf(ch, urls) === 0)!;
    const c = await RawClient.open(b.wsUrl);
    clients.push(c);
    await c.request('subscribe', { channel: kept });
    await shards[1].stop();
    await sleep(100);
    await assert.rejects(Promise.resolve(a.hub.publish(lost, { n: 'x' })), (err: Error & { code?: string }) => err.code === 'engine_unavailable');
    const ack = await a.hub.publish(kept, { n: 'still' });
    assert.ok('offset' in ack);
    await c.waitPush((f) => f.channel === kept && (f.data as { n?: string } | undefined)?.n === 'still');
    await shards[1].start();
  });
});
