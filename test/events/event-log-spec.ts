/**
 * @module test/events/event-log-spec
 * The event log's behaviour that holds the same on every engine, run once per engine (the memory
 * log and Redis Streams on a real redis-server): groups, counts, positions, NOGROUP and range.
 * What only one engine can show stays in its own file: the memory log's exact trims and its
 * manual clock (idle times to the millisecond), Redis' approximate trims, another connection's
 * append, an outage.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_READ_COUNT, isNoGroupError, type EventLog } from '../../src/events/event-log.js';

/** Defines the shared scenarios inside the caller's `describe`; `fresh` gives each test an empty log. */
export function defineEventLogSpecs(fresh: () => EventLog): void {
  test('a consumer group sees every entry once; a second group sees them all too', async () => {
    const log = fresh();
    await log.ensureGroup('s', 'g1', '0');
    await log.ensureGroup('s', 'g2', '0');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await log.append('s', { i: String(i) }));

    const first = await log.readGroup('s', 'g1', 'c1', { count: 3 });
    const second = await log.readGroup('s', 'g1', 'c2');
    assert.deepEqual(first.map((e) => e.id), ids.slice(0, 3));
    assert.deepEqual(second.map((e) => e.id), ids.slice(3), 'another consumer of the group gets only the rest');
    assert.deepEqual(first.map((e) => e.fields.i), ['0', '1', '2']);
    assert.ok([...first, ...second].every((e) => e.deliveries === 1));
    assert.deepEqual(await log.readGroup('s', 'g1', 'c1'), [], 'nothing is delivered twice, even unacked');

    const other = await log.readGroup('s', 'g2', 'c1');
    assert.deepEqual(other.map((e) => e.id), ids, 'a second group sees every entry');
  });

  test('readGroup honours count and defaults to DEFAULT_READ_COUNT', async () => {
    const log = fresh();
    await log.ensureGroup('s', 'g');
    for (let i = 0; i < DEFAULT_READ_COUNT + 5; i++) await log.append('s', { i: String(i) });
    assert.equal((await log.readGroup('s', 'g', 'c', { count: 2 })).length, 2);
    assert.equal((await log.readGroup('s', 'g', 'c')).length, DEFAULT_READ_COUNT);
    assert.equal((await log.readGroup('s', 'g', 'c')).length, 3);
  });

  test("ensureGroup is idempotent, creates the stream, and '$' / '0' / an id position the group", async () => {
    const log = fresh();
    await log.ensureGroup('s', 'fresh');
    assert.equal(await log.length('s'), 0);
    assert.deepEqual((await log.groups('s')).map((g) => g.name), ['fresh'], 'MKSTREAM: the stream exists with its group');

    const a = await log.append('s', { n: 'a' });
    const b = await log.append('s', { n: 'b' });
    await log.ensureGroup('s', 'tail', '$');
    await log.ensureGroup('s', 'whole', '0');
    await log.ensureGroup('s', 'after-a', a);
    const c = await log.append('s', { n: 'c' });

    assert.deepEqual((await log.readGroup('s', 'tail', 'x')).map((e) => e.id), [c], "'$' sees only later entries");
    assert.deepEqual((await log.readGroup('s', 'whole', 'x')).map((e) => e.id), [a, b, c], "'0' sees the whole stream");
    assert.deepEqual((await log.readGroup('s', 'after-a', 'x')).map((e) => e.id), [b, c], 'an id sees entries after it');

    await log.ensureGroup('s', 'whole', '0'); // again: must not rewind the group
    assert.deepEqual(await log.readGroup('s', 'whole', 'x'), [], 'ensureGroup again does not rewind');
    assert.equal((await log.groups('s')).length, 4);
    await assert.rejects(log.ensureGroup('s', 'bad', 'nope'), /Invalid stream ID/);
  });

  test('reading or claiming through a missing group rejects with NOGROUP', async () => {
    const log = fresh();
    await log.append('s', { a: '1' });
    await assert.rejects(log.readGroup('s', 'none', 'c'), (err) => isNoGroupError(err));
    await assert.rejects(log.readGroup('missing', 'none', 'c'), (err) => isNoGroupError(err));
    await assert.rejects(log.readGroup('missing', 'none', 'c', { blockMs: 10 }), (err) => isNoGroupError(err), 'a blocking read too');
    await assert.rejects(log.claimStale('s', 'none', 'c', 0), (err) => isNoGroupError(err));
    assert.equal(await log.ack('s', 'none', ['1-0']), 0);
    assert.equal(isNoGroupError(new Error('other')), false);
  });

  test('range reads without touching groups, after an exclusive startId, up to count', async () => {
    const log = fresh();
    await log.ensureGroup('s', 'g');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await log.append('s', { i: String(i) }));
    assert.deepEqual((await log.range('s')).map((e) => e.id), ids);
    assert.deepEqual((await log.range('s', ids[1])).map((e) => e.id), ids.slice(2), 'startId itself is excluded');
    assert.deepEqual((await log.range('s', undefined, 2)).map((e) => e.id), ids.slice(0, 2));
    assert.deepEqual((await log.range('s', ids[1], 2)).map((e) => e.id), ids.slice(2, 4));
    assert.deepEqual(await log.range('s', ids[4]), []);
    assert.ok((await log.range('s')).every((e) => e.deliveries === 0));
    assert.deepEqual(await log.range('missing'), []);
    assert.equal((await log.groups('s'))[0].lag, 5, 'range delivers nothing to groups');
  });
}
