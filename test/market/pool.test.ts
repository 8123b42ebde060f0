/**
 * Object pools: capacity is a semaphore, acquire times out into a backpressure error, reset()
 * clears every field of each pooled type, a double release fails loudly (with both stacks in debug
 * mode), released objects are poisoned in debug mode, and PoolManager reports leaks on drain.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BackpressureError, BoundedPool, DoubleReleaseError, PoolManager } from '../../src/apps/market/pool.js';
import { BookMessage } from '../../src/apps/market/pipeline/messages.js';
import { BinanceScan } from '../../src/apps/market/venues/binance/parse.js';

test('BookMessage.reset() clears every field', () => {
  const fresh = new BookMessage();
  const m = new BookMessage();
  Object.assign(m, { t: 'snapshot', seq: 9, vseq: 8, te: 7, tr: 6 });
  m.b.push(1, 2);
  m.a.push(3, 4);
  m.reset();
  assert.deepEqual({ ...m }, { ...fresh });
  assert.deepEqual(Object.keys(m).sort(), ['a', 'b', 'seq', 't', 'te', 'tr', 'vseq'], 'a new field needs a reset line and this list');
});

test('BinanceScan.reset() clears every field (level arrays keep their storage; their counts go to 0)', () => {
  const fresh = new BinanceScan();
  const s = new BinanceScan();
  for (const key of Object.keys(s) as (keyof BinanceScan)[]) {
    const v = s[key];
    if (typeof v === 'number') (s as unknown as Record<string, unknown>)[key] = 42;
    else if (typeof v === 'string') (s as unknown as Record<string, unknown>)[key] = 'x';
    else if (typeof v === 'boolean') (s as unknown as Record<string, unknown>)[key] = true;
    else if (Array.isArray(v)) v.push(1, 2);
  }
  const scalars = (x: BinanceScan) => Object.fromEntries(Object.entries(x).filter(([, v]) => !Array.isArray(v)));
  assert.notDeepEqual(scalars(s), scalars(fresh));
  s.reset();
  assert.deepEqual(scalars(s), scalars(fresh));
  assert.equal(s.bidCount, 0);
  assert.equal(s.askCount, 0);
  assert.equal(s.bids.length, 2, 'storage kept: no allocation on the next message');
});

test('capacity bounds objects out; acquire waits for a release, then times out with a backpressure error', async () => {
  const pool = new BoundedPool({ name: 't', capacity: 2, create: () => new BookMessage(), acquireTimeoutMs: 100 });
  const a = pool.tryAcquire()!;
  const b = pool.tryAcquire()!;
  assert.ok(a && b && a !== b);
  assert.equal(pool.tryAcquire(), null);
  assert.equal(pool.utilisation, 1);
  const waiting = pool.acquire();
  pool.release(a);
  assert.equal(await waiting, a, 'a waiter gets the released object');
  const started = performance.now();
  await assert.rejects(pool.acquire(), (err) => err instanceof BackpressureError && err.code === 'market_backpressure');
  assert.ok(performance.now() - started >= 95, 'waited for the timeout');
  assert.equal(pool.timeouts, 1);
  pool.release(a);
  pool.release(b);
  assert.equal(pool.acquired, 0);
});

test('released objects are reset before reuse', () => {
  const pool = new BoundedPool({ name: 't', capacity: 1, create: () => new BookMessage() });
  const m = pool.tryAcquire()!;
  m.seq = 5;
  m.b.push(1, 2);
  pool.release(m);
  const again = pool.tryAcquire()!;
  assert.equal(again, m);
  assert.equal(again.seq, 0);
  assert.equal(again.b.length, 0);
});

test('double release fails loudly; in debug mode with both release stacks, and released objects are poisoned', () => {
  const plain = new BoundedPool({ name: 'plain', capacity: 1, create: () => new BookMessage() });
  const p = plain.tryAcquire()!;
  plain.release(p);
  assert.throws(() => plain.release(p), DoubleReleaseError);
  assert.throws(() => plain.release(new BookMessage()), /never handed out/);

  const debug = new BoundedPool({ name: 'debug', capacity: 1, create: () => new BookMessage(), debug: true });
  const m = debug.tryAcquire()!;
  (function firstReleaser() {
    debug.release(m);
  })();
  assert.ok(Number.isNaN(m.seq) && m.t === ('<released>' as string), 'poisoned after release');
  assert.throws(
    () =>
      (function secondReleaser() {
        debug.release(m);
      })(),
    (err: Error) => err instanceof DoubleReleaseError && /first release:[\s\S]*firstReleaser/.test(err.message) && /second release:[\s\S]*secondReleaser/.test(err.message),
  );
  const again = debug.tryAcquire()!;
  assert.equal(again, m);
});

test('PoolManager drains when everything comes back and names the pools that leak', async () => {
  const manager = new PoolManager();
  const a = manager.add(new BoundedPool({ name: 'a', capacity: 4, create: () => new BookMessage() }));
  const b = manager.add(new BoundedPool({ name: 'b', capacity: 4, create: () => new BookMessage() }));
  const held = a.tryAcquire()!;
  b.tryAcquire();
  setTimeout(() => a.release(held), 50);
  const started = performance.now();
  const result = await manager.drain(300);
  assert.equal(result.drained, false);
  assert.deepEqual(result.leaked, [{ pool: 'b', acquired: 1 }]);
  assert.ok(performance.now() - started < 1000);
  const c = new PoolManager();
  const pool = c.add(new BoundedPool({ name: 'c', capacity: 1, create: () => new BookMessage() }));
  const x = pool.tryAcquire()!;
  setTimeout(() => pool.release(x), 30);
  assert.deepEqual(await c.drain(5000), { drained: true, leaked: [] });
});
