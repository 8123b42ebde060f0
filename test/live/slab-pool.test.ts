/**
 * @module test/live/slab-pool
 * Part memory reuse: a slab is written again only after every hold on it (the window's, and
 * each response still sending a part) is released and it is no longer being filled; bytes a
 * viewer is still receiving are never overwritten; a steady stream stops allocating.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SlabPool } from '../../src/apps/live/media/slab-pool.js';

test('a slab is reused only once the window and every response have let go of it', () => {
  const pool = new SlabPool(100, 4);
  const a = pool.allocate(60);
  a.lease.data.fill(1);
  const b = pool.allocate(60); // does not fit: a second slab
  b.lease.data.fill(2);
  assert.equal(pool.allocated, 2);

  const sending = a.lease.hold(); // a response is still sending part a
  a.releaseWindow(); // part a left the window
  const c = pool.allocate(60); // slab 2 is full too: slab 1 is still held, so a third slab
  c.lease.data.fill(3);
  assert.equal(pool.allocated, 3);
  assert.ok(a.lease.data.every((x) => x === 1), 'bytes being sent are not overwritten');

  sending();
  sending(); // releasing twice is harmless
  const d = pool.allocate(60); // slab 1 is free now: reused
  assert.equal(pool.allocated, 3);
  d.lease.data.fill(4);
  assert.ok(a.lease.data.every((x) => x === 4), 'the freed slab is the one written');
  assert.ok(b.lease.data.every((x) => x === 2) && c.lease.data.every((x) => x === 3));
});

test('a steady stream of parts stops allocating once the window is full', () => {
  const pool = new SlabPool(1000, 4);
  const window: (() => void)[] = [];
  for (let i = 0; i < 2000; i++) {
    window.push(pool.allocate(90 + (i % 7)).releaseWindow);
    if (window.length > 40) window.shift()!();
  }
  assert.ok(pool.allocated <= 8, `allocated ${pool.allocated} slabs for a window of ~4 slabs`);
});

test('a part larger than a slab gets its own buffer', () => {
  const pool = new SlabPool(100, 4);
  const big = pool.allocate(500);
  assert.equal(big.lease.data.length, 500);
  big.lease.hold()();
  big.releaseWindow();
  assert.equal(pool.allocated, 0);
});
