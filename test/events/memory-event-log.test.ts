/**
 * MemoryEventLog: the shared scenarios (event-log-spec.ts, also run on Redis) and what only the
 * memory log shows: exact trims, idle times on a manual clock, its waits and signals.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { compareIds } from '../../src/events/event-log.js';
import { MemoryEventLog } from '../../src/events/memory-event-log.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { track } from '../helpers/settled.js';
import { defineEventLogSpecs } from './event-log-spec.js';

/** A controllable clock for ids and idle times. */
function manualClock(start = 1_000) {
  let t = start;
  return {
    now: () => t,
    advance(ms: number) {
      t += ms;
    },
    set(ms: number) {
      t = ms;
    },
  };
}

describe('compareIds', () => {
  test('orders ids numerically by ms, then seq', () => {
    assert.ok(compareIds('9-0', '10-0') < 0, "'9-0' is older than '10-0' although it sorts later as a string");
    assert.ok(compareIds('5-10', '5-9') > 0);
    assert.equal(compareIds('5-3', '5-3'), 0);
    assert.equal(compareIds('5', '5-0'), 0, 'a bare ms means seq 0');
    assert.ok(compareIds('18446744073709551615-0', '18446744073709551614-99') > 0, 'exact beyond 2^53');
  });

  test('rejects malformed ids', () => {
    assert.throws(() => compareIds('abc', '1-0'), /Invalid stream ID/);
    assert.throws(() => compareIds('1-0', '1-'), /Invalid stream ID/);
  });
});

describe('MemoryEventLog', () => {
  defineEventLogSpecs(() => new MemoryEventLog());

  test('reports kind memory', () => {
    assert.equal(new MemoryEventLog().kind, 'memory');
  });

  test('ids increase monotonically even within the same millisecond', async () => {
    const clock = manualClock(5_000);
    const log = new MemoryEventLog({ now: clock.now });
    const a = await log.append('s', { n: '1' });
    const b = await log.append('s', { n: '2' });
    const c = await log.append('s', { n: '3' });
    assert.deepEqual([a, b, c], ['5000-0', '5000-1', '5000-2']);
    clock.advance(1);
    assert.equal(await log.append('s', { n: '4' }), '5001-0', 'a new millisecond restarts the sequence');
    clock.set(4_000); // clock steps backwards
    const d = await log.append('s', { n: '5' });
    assert.equal(d, '5001-1', 'a clock stepping back never produces an older id');
    const ids = (await log.range('s')).map((e) => e.id);
    assert.deepEqual(ids, [a, b, c, '5001-0', d]);
    for (let i = 1; i < ids.length; i++) assert.ok(compareIds(ids[i - 1], ids[i]) < 0);
  });

  test('ids are per stream', async () => {
    const log = new MemoryEventLog({ now: manualClock(7).now });
    assert.equal(await log.append('a', { x: '1' }), '7-0');
    assert.equal(await log.append('b', { x: '1' }), '7-0');
    assert.equal(await log.append('a', { x: '2' }), '7-1');
  });

  test('append copies fields and refuses an empty entry', async () => {
    const log = new MemoryEventLog();
    const fields = { msg: 'hello' };
    await log.append('s', fields);
    fields.msg = 'changed';
    assert.deepEqual((await log.range('s'))[0].fields, { msg: 'hello' });
    await assert.rejects(log.append('s', {}), RangeError);
    assert.equal(await log.length('s'), 1);
  });

  test('an unacked entry is reclaimed by claimStale after the idle time and its delivery count grows', async () => {
    const clock = manualClock();
    const log = new MemoryEventLog({ now: clock.now });
    await log.ensureGroup('s', 'g');
    const a = await log.append('s', { n: 'a' });
    const b = await log.append('s', { n: 'b' });
    await log.readGroup('s', 'g', 'dead');

    clock.advance(999);
    assert.deepEqual(await log.claimStale('s', 'g', 'rescuer', 1_000), [], 'not idle long enough yet');

    await log.ack('s', 'g', [b]);
    clock.advance(1);
    const claimed = await log.claimStale('s', 'g', 'rescuer', 1_000);
    assert.deepEqual(claimed, [{ id: a, fields: { n: 'a' }, deliveries: 2 }], 'only the unacked entry, delivered twice now');

    assert.deepEqual(await log.claimStale('s', 'g', 'other', 1_000), [], 'claiming restarts the idle time');
    clock.advance(1_000);
    const again = await log.claimStale('s', 'g', 'other', 1_000);
    assert.equal(again[0].deliveries, 3);
    const info = (await log.groups('s'))[0];
    assert.equal(info.pending, 1);
    assert.equal(info.consumers, 3, 'dead, rescuer and other');
  });

  test('claimStale takes the oldest idle entries first, up to count', async () => {
    const clock = manualClock();
    const log = new MemoryEventLog({ now: clock.now });
    await log.ensureGroup('s', 'g');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await log.append('s', { i: String(i) }));
    await log.readGroup('s', 'g', 'c', { count: 3 });
    clock.advance(50);
    await log.readGroup('s', 'g', 'c'); // ids[3], ids[4] delivered later
    clock.advance(50);
    const claimed = await log.claimStale('s', 'g', 'd', 100, 2);
    assert.deepEqual(claimed.map((e) => e.id), ids.slice(0, 2));
    const rest = await log.claimStale('s', 'g', 'd', 100);
    assert.deepEqual(rest.map((e) => e.id), [ids[2]], 'entries delivered 50ms ago are not idle enough');
  });

  test('readGroup blocks until an append and wakes at once', async () => {
    const log = new MemoryEventLog();
    await log.ensureGroup('s', 'g');
    const started = performance.now();
    const pending = log.readGroup('s', 'g', 'c', { blockMs: 5_000 });
    const state = track(pending);
    await sleep(30);
    assert.equal(state.settled, false, 'still blocked while the stream has nothing new');
    const id = await log.append('s', { hello: 'world' });
    const got = await pending;
    const elapsed = performance.now() - started;
    assert.deepEqual(got, [{ id, fields: { hello: 'world' }, deliveries: 1 }]);
    assert.ok(elapsed < 1_000, `woke after ${elapsed.toFixed(0)}ms, long before blockMs`);
    assert.equal((await log.groups('s'))[0].pending, 1, 'a woken read leaves the entry pending');
    await log.close();
  });

  test('one append wakes one blocked consumer per group; the others keep waiting', async () => {
    const log = new MemoryEventLog();
    await log.ensureGroup('s', 'g');
    await log.ensureGroup('s', 'h');
    const g1 = log.readGroup('s', 'g', 'c1', { blockMs: 5_000 });
    const g2 = log.readGroup('s', 'g', 'c2', { blockMs: 5_000 });
    const h1 = log.readGroup('s', 'h', 'c1', { blockMs: 5_000 });
    const g2state = track(g2);
    const first = await log.append('s', { n: '1' });
    assert.deepEqual((await g1).map((e) => e.id), [first], 'first come, first served');
    assert.deepEqual((await h1).map((e) => e.id), [first], 'another group gets the same entry');
    await sleep(10);
    assert.equal(g2state.settled, false, 'the second consumer of g got nothing and keeps waiting');
    const second = await log.append('s', { n: '2' });
    assert.deepEqual((await g2).map((e) => e.id), [second]);
    await log.close();
  });

  test('readGroup resolves empty after blockMs', async () => {
    const log = new MemoryEventLog();
    await log.ensureGroup('s', 'g');
    const started = performance.now();
    const got = await log.readGroup('s', 'g', 'c', { blockMs: 60 });
    const elapsed = performance.now() - started;
    assert.deepEqual(got, []);
    assert.ok(elapsed >= 50, `waited ${elapsed.toFixed(0)}ms`);
    assert.ok(elapsed < 1_000, `waited ${elapsed.toFixed(0)}ms`);
    // The timed-out reader must not swallow a later entry.
    const id = await log.append('s', { n: '1' });
    assert.deepEqual((await log.readGroup('s', 'g', 'c')).map((e) => e.id), [id]);
  });

  test('readGroup without blockMs returns at once when there is nothing', async () => {
    const log = new MemoryEventLog();
    await log.ensureGroup('s', 'g');
    const started = performance.now();
    assert.deepEqual(await log.readGroup('s', 'g', 'c'), []);
    assert.ok(performance.now() - started < 50);
  });

  test('append with maxLen trims the oldest', async () => {
    const log = new MemoryEventLog();
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push(await log.append('s', { i: String(i) }, { maxLen: 4 }));
    assert.equal(await log.length('s'), 4);
    assert.deepEqual((await log.range('s')).map((e) => e.id), ids.slice(6));
  });

  test('every stream is bounded by defaultMaxLen, and ids keep growing past trimmed ones', async () => {
    const log = new MemoryEventLog({ defaultMaxLen: 50, now: manualClock().now });
    let last = '';
    for (let i = 0; i < 5_000; i++) last = await log.append('s', { i: String(i) });
    assert.equal(await log.length('s'), 50);
    const kept = await log.range('s');
    assert.equal(kept[0].fields.i, '4950');
    assert.equal(kept[49].id, last);
    assert.equal(await log.append('s', { i: 'x' }, { maxLen: 1_000 }), '1000-5000', 'maxLen on append overrides the default');
    assert.equal(await log.length('s'), 51);
    assert.throws(() => new MemoryEventLog({ defaultMaxLen: 0 }), RangeError);
  });

  test('trim removes the oldest, reports how many, and drops them from pending lists', async () => {
    const clock = manualClock();
    const log = new MemoryEventLog({ now: clock.now });
    await log.ensureGroup('s', 'g');
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push(await log.append('s', { i: String(i) }));
    await log.readGroup('s', 'g', 'c');
    assert.equal(await log.trim('s', 2), 4);
    assert.equal(await log.trim('s', 2), 0);
    assert.equal(await log.trim('missing', 2), 0);
    assert.equal(await log.length('s'), 2);
    assert.equal((await log.groups('s'))[0].pending, 2, 'trimmed entries are no longer pending');
    clock.advance(10_000);
    const claimed = await log.claimStale('s', 'g', 'd', 0);
    assert.deepEqual(claimed.map((e) => e.id), ids.slice(4), 'a trimmed entry is never handed out again');
    assert.equal(await log.ack('s', 'g', [ids[0]]), 0);
  });

  test('trimming undelivered entries skips them for the group and lowers its lag', async () => {
    const log = new MemoryEventLog();
    await log.ensureGroup('s', 'g');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await log.append('s', { i: String(i) }));
    assert.equal((await log.groups('s'))[0].lag, 5);
    await log.trim('s', 2);
    assert.equal((await log.groups('s'))[0].lag, 2);
    assert.deepEqual((await log.readGroup('s', 'g', 'c')).map((e) => e.id), ids.slice(3));
  });

  test('ack removes from pending and groups() reports pending and lag', async () => {
    const log = new MemoryEventLog();
    await log.ensureGroup('s', 'g');
    await log.ensureGroup('s', 'idle');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await log.append('s', { i: String(i) }));
    await log.readGroup('s', 'g', 'c', { count: 3 });

    const [g, idle] = await log.groups('s');
    assert.deepEqual(g, { name: 'g', consumers: 1, pending: 3, lastDeliveredId: ids[2], lag: 2 });
    assert.deepEqual(idle, { name: 'idle', consumers: 0, pending: 0, lastDeliveredId: '0-0', lag: 5 });

    assert.equal(await log.ack('s', 'g', [ids[0], ids[1], ids[0], ids[4], '999-9']), 2, 'only ids that were pending count');
    assert.equal((await log.groups('s'))[0].pending, 1);
    assert.equal(await log.ack('s', 'g', [ids[2]]), 1);
    assert.equal((await log.groups('s'))[0].pending, 0);
    assert.deepEqual(await log.groups('missing'), []);
  });

  test('close releases blocked readers', async () => {
    const log = new MemoryEventLog();
    await log.ensureGroup('a', 'g');
    await log.ensureGroup('b', 'g');
    const forever = log.readGroup('a', 'g', 'c', { blockMs: 0 });
    const long = log.readGroup('b', 'g', 'c', { blockMs: 60_000 });
    const foreverState = track(forever);
    await sleep(10);
    assert.equal(foreverState.settled, false, 'blockMs 0 waits with no time limit');
    const started = performance.now();
    await log.close();
    assert.deepEqual(await forever, []);
    assert.deepEqual(await long, []);
    assert.ok(performance.now() - started < 1_000);
    await assert.rejects(log.append('a', { x: '1' }), /closed/);
    await assert.rejects(log.readGroup('a', 'g', 'c'), /closed/);
    await log.close(); // idempotent
  });

  test('an aborted signal ends a wait with no time limit; reads that end otherwise leave no listener on it', async () => {
    const log = new MemoryEventLog();
    await log.ensureGroup('s', 'g');
    const stop = new AbortController();
    const waiting = log.readGroup('s', 'g', 'c', { blockMs: 0, signal: stop.signal });
    const state = track(waiting);
    await sleep(10);
    assert.equal(state.settled, false, 'still waiting');
    stop.abort();
    assert.deepEqual(await waiting, []);
    assert.deepEqual(await log.readGroup('s', 'g', 'c', { blockMs: 0, signal: stop.signal }), [], 'already aborted: at once');
    // An append, a timeout and a deleted group each end a read: none leaves its listener behind.
    const kept = new AbortController();
    const served = log.readGroup('s', 'g', 'c', { blockMs: 0, signal: kept.signal });
    await log.append('s', { n: '1' });
    assert.equal((await served).length, 1);
    assert.deepEqual(await log.readGroup('s', 'g', 'c', { blockMs: 20, signal: kept.signal }), []);
    const dropped = log.readGroup('s', 'g', 'c', { blockMs: 0, signal: kept.signal });
    await log.deleteGroup('s', 'g');
    assert.deepEqual(await dropped, []);
    assert.equal(getEventListeners(kept.signal, 'abort').length, 0);
    await log.close();
  });

  test('rejects invalid numeric options', async () => {
    const log = new MemoryEventLog();
    await log.ensureGroup('s', 'g');
    await assert.rejects(log.readGroup('s', 'g', 'c', { count: 0 }), RangeError);
    await assert.rejects(log.readGroup('s', 'g', 'c', { blockMs: -1 }), RangeError);
    await assert.rejects(log.append('s', { a: '1' }, { maxLen: 1.5 }), RangeError);
    await assert.rejects(log.claimStale('s', 'g', 'c', -5), RangeError);
  });
});
