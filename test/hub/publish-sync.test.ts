/**
 * @module test/hub/publish-sync
 * The synchronous server-side publish (`hub.publishSync`, `hub.publishBinarySync`): on the memory
 * engine it returns the offset in the call (no promise), publishes in order to real WebSocket
 * subscribers and into history, refuses bad publications by throwing the same AirwavesError the
 * async door rejects with, and coalesces keyed publications. On the Redis engine (a real
 * redis-server) it refuses with `sync_publish_unsupported` and publishes nothing. The per-namespace
 * publish and delivery counters, now plain counts read at scrape, still reach /metrics.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, RawClient, adminFetch } from '../helpers/server.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { isAirwavesError } from '../../src/core/errors.js';
import type { AirwavesConfig } from '../../src/config.js';

type Server = Awaited<ReturnType<typeof startServer>>;

const namespaces = [
  { name: 'feed', publish: 'anonymous' as const, historySize: 100, maxMessageBytes: 256 },
  { name: 'media', publish: 'anonymous' as const, binary: true, historySize: 10 },
  { name: 'merged', publish: 'anonymous' as const, coalesceMs: 50 },
] as unknown as AirwavesConfig['namespaces'];

/** The error code `run` throws synchronously (it must throw, not return a promise). */
function codeThrown(run: () => unknown): string {
  try {
    const result = run();
    assert.fail(`expected a throw, got ${JSON.stringify(result)}`);
  } catch (err) {
    assert.ok(isAirwavesError(err), `an AirwavesError (got ${String(err)})`);
    return err.code;
  }
}

/** The value of `name{namespace="ns"}` on /metrics, or 0 when absent. */
async function metricValue(server: Server, name: string, ns: string): Promise<number> {
  const text = await (await adminFetch(`${server.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{namespace="${ns}"}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('hub.publishSync on the memory engine', () => {
  let server: Server;
  const clients: RawClient[] = [];
  before(async () => {
    server = await startServer({ namespaces });
  });
  after(async () => {
    for (const c of clients) c.close();
    await server.close();
  });

  test('returns the offset in the call and delivers in order to subscribers and history', async () => {
    const hub = server.hub;
    assert.equal(hub.publishesSynchronously, true);
    const subscribers = await Promise.all([RawClient.open(server.wsUrl), RawClient.open(server.wsUrl)]);
    clients.push(...subscribers);
    for (const c of subscribers) assert.equal((await c.request('subscribe', { channel: 'feed:a' })).ok, true);
    const offsets: number[] = [];
    let epoch = '';
    for (let i = 0; i < 50; i++) {
      const ack = hub.publishSync('feed:a', { i });
      assert.ok(!('then' in ack), 'no promise');
      assert.ok('offset' in ack, 'published, not coalesced');
      offsets.push(ack.offset);
      epoch ||= ack.epoch;
      assert.equal(ack.epoch, epoch);
    }
    assert.deepEqual(offsets, Array.from({ length: 50 }, (_, i) => i + 1));
    for (const c of subscribers) {
      await c.waitFor(() => c.publications('feed:a').length === 50, 30_000);
      assert.deepEqual(c.publications('feed:a').map((f) => (f.data as { i: number }).i), Array.from({ length: 50 }, (_, i) => i));
      assert.deepEqual(c.publications('feed:a').map((f) => f.offset), offsets);
    }
    const page = await hub.history('feed:a', 45);
    assert.deepEqual(page.messages.map((m) => m.data), [{ i: 45 }, { i: 46 }, { i: 47 }, { i: 48 }, { i: 49 }]);
    // The async door on the same channel continues the same sequence.
    const next = await hub.publish('feed:a', { i: 50 });
    assert.ok('offset' in next && next.offset === 51);
    // Both counters reach /metrics at scrape: 51 publications, each to 2 subscribers.
    assert.equal(await metricValue(server, 'hub_messages_published_total', 'feed'), 51);
    await subscribers[0].waitFor(() => subscribers[0].publications('feed:a').length === 51, 30_000);
    assert.equal(await metricValue(server, 'hub_messages_delivered_total', 'feed'), 102);
    hub.publishSync('feed:a', { i: 51 });
    assert.equal(await metricValue(server, 'hub_messages_published_total', 'feed'), 52, 'a second scrape adds only what is new');
  });

  test('binary payloads get their offset in the call', async () => {
    const first = server.hub.publishBinarySync('media:a', new Uint8Array([1, 2, 3]));
    const second = server.hub.publishBinarySync('media:a', new Uint8Array([4]));
    assert.equal(second.offset, first.offset + 1);
    assert.equal((await server.hub.history('media:a')).top, second.offset);
  });

  test('refusals throw in the call, with the codes of the async door', async () => {
    const hub = server.hub;
    const cases: [string, () => unknown, () => Promise<unknown>][] = [
      ['bad_channel', () => hub.publishSync('nocolon', 1), () => hub.publish('nocolon', 1)],
      ['unknown_namespace', () => hub.publishSync('nope:a', 1), () => hub.publish('nope:a', 1)],
      ['message_too_big', () => hub.publishSync('feed:big', 'x'.repeat(300)), () => hub.publish('feed:big', 'x'.repeat(300))],
      ['bad_request', () => hub.publishSync('media:a', 1), () => hub.publish('media:a', 1)],
      ['binary_not_allowed', () => hub.publishBinarySync('feed:a', new Uint8Array(1)), () => hub.publishBinary('feed:a', new Uint8Array(1))],
      ['bad_request', () => hub.publishSync('feed:a', undefined), () => hub.publish('feed:a', undefined)],
    ];
    for (const [code, sync, async] of cases) {
      assert.equal(codeThrown(sync), code);
      await assert.rejects(async(), (err: unknown) => isAirwavesError(err) && err.code === code);
    }
    assert.equal((await hub.history('feed:big')).top, 0, 'nothing refused was published');
  });

  test('a keyed publication in a coalescing namespace is coalesced, then published once', async () => {
    const c = await RawClient.open(server.wsUrl);
    clients.push(c);
    await c.request('subscribe', { channel: 'merged:a' });
    assert.deepEqual(server.hub.publishSync('merged:a', { v: 1 }, { key: 'k' }), { coalesced: true });
    assert.deepEqual(server.hub.publishSync('merged:a', { v: 2 }, { key: 'k' }), { coalesced: true });
    await c.waitFor(() => c.publications('merged:a').length === 1, 30_000);
    assert.deepEqual(c.publications('merged:a')[0].data, { v: 2 });
  });
});

describe('hub.publishSync on the Redis engine', () => {
  let redis: TestRedis;
  let server: Server;
  before(async () => {
    redis = await startRedis();
    server = await startServer({ redisUrl: redis.url, nodeId: 'sync-redis', namespaces });
  });
  after(async () => {
    await server?.close();
    await redis?.close();
  });

  test('refuses with sync_publish_unsupported and publishes nothing; publish still works', async () => {
    const hub = server.hub;
    assert.equal(hub.publishesSynchronously, false);
    assert.equal(codeThrown(() => hub.publishSync('feed:r', { i: 1 })), 'sync_publish_unsupported');
    assert.equal(codeThrown(() => hub.publishBinarySync('media:r', new Uint8Array(1))), 'sync_publish_unsupported');
    assert.equal((await hub.history('feed:r')).top, 0);
    const ack = await hub.publish('feed:r', { i: 2 });
    assert.ok('offset' in ack && ack.offset === 1);
  });
});
