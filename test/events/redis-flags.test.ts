/**
 * @module test/events/redis-flags
 * The cluster-wide flag store on a real redis-server: versioned writes, stale or corrupt stored
 * values, and a node that starts while Redis is away catching up once it answers.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sleep } from '../helpers/server.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { RedisFlagStore, FLAGS_KEY, type StoredFlags } from '../../src/events/redis-flags.js';
import { createLogger } from '../../src/core/logger.js';

const silent = createLogger('silent');

describe('event transport flag store on Redis', () => {
  let redis: TestRedis;
  const stores: RedisFlagStore[] = [];
  const store = (nodeId: string, seen: StoredFlags[] = []) => {
    const s = new RedisFlagStore({ url: redis.url, nodeId, logger: silent, onChange: (x) => seen.push(x), timeoutMs: 1000 });
    stores.push(s);
    return s;
  };
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    for (const s of stores) await s.close();
    await redis?.close();
  });

  test('saves accumulate patches under a rising version; every store hears each newer version once', async () => {
    const seenA: StoredFlags[] = [];
    const seenB: StoredFlags[] = [];
    const a = store('a', seenA);
    const b = store('b', seenB);
    assert.equal((await a.start())?.version, 0);
    await b.start();
    const first = await a.save({ redisPercentage: 30 });
    const second = await a.save({ dualWrite: true });
    assert.deepEqual([first.version, second.version], [1, 2]);
    assert.deepEqual(second.flags, { redisPercentage: 30, dualWrite: true });
    assert.equal(second.updatedBy, 'a');
    const deadline = Date.now() + 2000;
    while (seenB.at(-1)?.version !== 2) {
      assert.ok(Date.now() < deadline, 'store B heard version 2');
      await sleep(20);
    }
    await sleep(100);
    const versions = (seen: StoredFlags[]) => seen.map((s) => s.version);
    assert.deepEqual(versions(seenA), [0, 1, 2], 'no version applied twice or out of order');
    assert.ok(versions(seenB).every((v, i, all) => i === 0 || v > all[i - 1]), `B's versions rise: ${versions(seenB).join(',')}`);
  });

  test('clearing removes every stored flag under a new version, and the other stores hear it', async () => {
    const seenD: StoredFlags[] = [];
    const d = store('d', seenD);
    await d.start();
    const [e, f] = [store('e'), store('f')];
    await Promise.all([e.start(), f.start()]);
    await e.save({ fallbackToHttp: false });
    const cleared = await f.clear();
    assert.deepEqual(cleared.flags, {});
    assert.equal(cleared.updatedBy, 'f');
    const deadline = Date.now() + 2000;
    while (seenD.at(-1)?.version !== cleared.version) {
      assert.ok(Date.now() < deadline, `store D heard the clear (version ${cleared.version})`);
      await sleep(20);
    }
    assert.deepEqual(seenD.at(-1)?.flags, {});
    // Changes after a clear build on nothing: only what is set now is stored.
    assert.deepEqual((await d.save({ dualWrite: true })).flags, { dualWrite: true });
  });

  test('a stored value that is not a valid flag is skipped, the valid ones still load', async () => {
    await redis.client().hset(FLAGS_KEY, 'redisPercentage', '250', 'fallbackToHttp', 'maybe', 'version', '9');
    const loaded = await store('c').start();
    assert.deepEqual(loaded?.flags, { dualWrite: true });
    assert.equal(loaded?.version, 9);
  });

  test('a store started while Redis is down returns null, then picks up a change once Redis answers', async () => {
    await redis.stop();
    const seen: StoredFlags[] = [];
    const late = store('late', seen);
    assert.equal(await late.start(), null);
    await redis.start();
    const writer = store('writer');
    await writer.start();
    const saved = await writer.save({ useRedisStreams: false });
    const deadline = Date.now() + 5000;
    while (seen.at(-1)?.version !== saved.version) {
      assert.ok(Date.now() < deadline, `the late store applied version ${saved.version} (has ${seen.map((s) => s.version).join(',')})`);
      await sleep(25);
    }
    assert.deepEqual(seen.at(-1)?.flags, { useRedisStreams: false });
  });

  test('a save while Redis is down fails with engine_unavailable', async () => {
    const s = store('down');
    await s.start();
    await redis.stop();
    try {
      await assert.rejects(s.save({ dualWrite: false }), (err: Error & { code?: string }) => err.code === 'engine_unavailable' && /no node changed/.test(err.message));
    } finally {
      await redis.start();
    }
  });
});
