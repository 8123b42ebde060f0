/**
 * RedisStreamsEventLog against a real redis-server: the shared scenarios (event-log-spec.ts) and
 * what only Redis shows, with Redis' own clock for ids and real waits for idle times.
 */
import { test, describe, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { compareIds } from '../../src/events/event-log.js';
import { RedisStreamsEventLog } from '../../src/events/redis-streams-event-log.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { track } from '../helpers/settled.js';
import { defineEventLogSpecs } from './event-log-spec.js';

describe('RedisStreamsEventLog (real Redis)', () => {
  let redis: TestRedis;
  let log: RedisStreamsEventLog;
  const logs: RedisStreamsEventLog[] = [];
  const open = () => {
    const l = new RedisStreamsEventLog({ url: redis.url });
    logs.push(l);
    return l;
  };

  before(async () => {
    redis = await startRedis();
  });
  beforeEach(async () => {
    await redis.client().flushall();
    log = open();
  });
  after(async () => {
    for (const l of logs) await l.close();
    await redis?.close();
  });

  defineEventLogSpecs(() => log);

  test('reports kind redis; ids increase monotonically', async () => {
    assert.equal(log.kind, 'redis');
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push(await log.append('s', { n: String(i) }));
    for (let i = 1; i < ids.length; i++) assert.ok(compareIds(ids[i - 1], ids[i]) < 0);
    assert.deepEqual((await log.range('s')).map((e) => e.id), ids);
  });

  test('append refuses an empty entry and non-string values', async () => {
    await assert.rejects(log.append('s', {}), RangeError);
    await assert.rejects(log.append('s', { a: 1 as unknown as string }), TypeError);
    assert.equal(await log.length('s'), 0);
  });

  test('an unacked entry is reclaimed after the idle time and its delivery count grows', async () => {
    await log.ensureGroup('s', 'g');
    const a = await log.append('s', { n: 'a' });
    const b = await log.append('s', { n: 'b' });
    await log.readGroup('s', 'g', 'dead');
    assert.deepEqual(await log.claimStale('s', 'g', 'rescuer', 5_000), [], 'not idle long enough yet');
    await log.ack('s', 'g', [b]);
    await sleep(60);
    const claimed = await log.claimStale('s', 'g', 'rescuer', 50);
    assert.deepEqual(claimed, [{ id: a, fields: { n: 'a' }, deliveries: 2 }]);
    assert.deepEqual(await log.claimStale('s', 'g', 'other', 50), [], 'claiming restarts the idle time');
    await sleep(60);
    assert.equal((await log.claimStale('s', 'g', 'other', 50))[0].deliveries, 3);
    const info = (await log.groups('s'))[0];
    assert.equal(info.pending, 1);
    assert.equal(info.consumers, 3);
  });

  test('claimStale takes the oldest idle entries first, up to count', async () => {
    await log.ensureGroup('s', 'g');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await log.append('s', { i: String(i) }));
    await log.readGroup('s', 'g', 'c', { count: 3 });
    await sleep(150);
    await log.readGroup('s', 'g', 'c');
    const claimed = await log.claimStale('s', 'g', 'd', 100, 2);
    assert.deepEqual(claimed.map((e) => e.id), ids.slice(0, 2));
    assert.deepEqual((await log.claimStale('s', 'g', 'd', 100)).map((e) => e.id), [ids[2]], 'recently delivered entries are not idle enough');
  });

  test('readGroup blocks until an append (from another connection) and wakes at once', async () => {
    await log.ensureGroup('s', 'g');
    const writer = open();
    const started = performance.now();
    const pending = log.readGroup('s', 'g', 'c', { blockMs: 5_000 });
    const state = track(pending);
    await sleep(50);
    assert.equal(state.settled, false);
    const id = await writer.append('s', { hello: 'world' });
    assert.deepEqual(await pending, [{ id, fields: { hello: 'world' }, deliveries: 1 }]);
    assert.ok(performance.now() - started < 1_000);
    assert.equal((await log.groups('s'))[0].pending, 1);
  });

  test('readGroup resolves empty after blockMs and does not swallow a later entry', async () => {
    await log.ensureGroup('s', 'g');
    const started = performance.now();
    assert.deepEqual(await log.readGroup('s', 'g', 'c', { blockMs: 60 }), []);
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 50 && elapsed < 1_000, `waited ${elapsed.toFixed(0)}ms`);
    const id = await log.append('s', { n: '1' });
    assert.deepEqual((await log.readGroup('s', 'g', 'c')).map((e) => e.id), [id]);
  });

  test('append with maxLen trims approximately: never fewer than maxLen, bounded above', async () => {
    for (let i = 0; i < 1000; i++) await log.append('s', { i: String(i) }, { maxLen: 100 });
    const len = await log.length('s');
    assert.ok(len >= 100 && len <= 300, `kept ${len}`);
    const kept = await log.range('s');
    assert.equal(kept.at(-1)!.fields.i, '999');
  });

  test('trim removes the oldest and reports how many; groups() reports pending and lag', async () => {
    await log.ensureGroup('s', 'g');
    await log.ensureGroup('s', 'idle');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await log.append('s', { i: String(i) }));
    await log.readGroup('s', 'g', 'c', { count: 3 });
    const [g, idle] = await log.groups('s');
    assert.deepEqual(g, { name: 'g', consumers: 1, pending: 3, lastDeliveredId: ids[2], lag: 2 });
    assert.deepEqual(idle, { name: 'idle', consumers: 0, pending: 0, lastDeliveredId: '0-0', lag: 5 });
    assert.equal(await log.ack('s', 'g', [ids[0], ids[1], ids[0], '999-9']), 2);
    assert.deepEqual(await log.groups('missing'), []);
    for (let i = 0; i < 995; i++) await log.append('s', { i: String(i + 5) }, { maxLen: 100_000 });
    const removed = await log.trim('s', 100);
    const len = await log.length('s');
    assert.equal(removed, 1000 - len);
    assert.ok(removed > 0 && len >= 100, `removed ${removed}, kept ${len}`);
  });

  test('close releases blocked readers; later calls reject', async () => {
    const own = open();
    await own.ensureGroup('a', 'g');
    const forever = own.readGroup('a', 'g', 'c', { blockMs: 0 });
    const state = track(forever);
    await sleep(30);
    assert.equal(state.settled, false);
    await own.close();
    assert.deepEqual(await forever, []);
    await assert.rejects(own.append('a', { x: '1' }), /closed/);
    await own.close();
  });

  test('while Redis is down calls fail fast, and work again once it is back', async () => {
    const local = await startRedis();
    const l = new RedisStreamsEventLog({ url: local.url });
    try {
      await l.append('s', { n: '1' });
      await local.stop();
      const started = performance.now();
      await assert.rejects(l.append('s', { n: '2' }));
      assert.ok(performance.now() - started < 500, 'no offline queue: the caller hears at once');
      assert.equal(await l.ping(), false);
      await local.start();
      const deadline = Date.now() + 5000;
      while (!(await l.ping())) {
        assert.ok(Date.now() < deadline);
        await sleep(50);
      }
      assert.match(await l.append('s', { n: '3' }), /^\d+-\d+$/);
    } finally {
      await l.close();
      await local.close();
    }
  });
});
