/**
 * @module test/studio/shared-reads
 * Identical reads in flight share one database round trip, and a write detaches them: the
 * contract that keeps the studio's single-flight reads from ever serving an answer older than a
 * write the caller could have seen.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { SharedReads } from '../../src/apps/studio/cache.js';

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

describe('shared reads', () => {
  test('concurrent identical reads run once; a different key runs its own read', async () => {
    const counts = { hit: 0, miss: 0 };
    const shared = new SharedReads('t', { hit: () => counts.hit++, miss: () => counts.miss++ });
    let runs = 0;
    const gate = deferred<string>();
    const read = () => (runs++, gate.promise);
    const a = shared.run('/x', read);
    const b = shared.run('/x', read);
    const c = shared.run('/y', () => Promise.resolve('y'));
    gate.resolve('x');
    assert.deepEqual(await Promise.all([a, b, c]), ['x', 'x', 'y']);
    assert.equal(runs, 1);
    assert.deepEqual(counts, { hit: 1, miss: 2 });
  });

  test('nothing is kept once a read finishes: the next request reads again', async () => {
    const shared = new SharedReads('t');
    let runs = 0;
    await shared.run('/x', async () => ++runs);
    assert.equal(await shared.run('/x', async () => ++runs), 2);
    assert.equal(shared.size, 0);
  });

  test('after a write, a request does not join a read that started before it', async () => {
    const shared = new SharedReads('t');
    const before = deferred<string>();
    const first = shared.run('/x', () => before.promise);
    shared.invalidate();
    const second = shared.run('/x', async () => 'after the write');
    before.resolve('before the write');
    assert.equal(await first, 'before the write');
    assert.equal(await second, 'after the write');
  });

  test('a failed read fails every caller sharing it and is not reused', async () => {
    const shared = new SharedReads('t');
    const gate = deferred<string>();
    const a = shared.run('/x', () => gate.promise);
    const b = shared.run('/x', () => gate.promise);
    gate.reject(new Error('connection lost'));
    await assert.rejects(a, /connection lost/);
    await assert.rejects(b, /connection lost/);
    assert.equal(await shared.run('/x', async () => 'retried'), 'retried');
  });
});
