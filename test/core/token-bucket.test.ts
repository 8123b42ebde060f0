import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { TokenBucket } from '../../src/core/token-bucket.js';

describe('TokenBucket', () => {
  test('allows a burst up to capacity, then refuses until refilled', () => {
    let now = 0;
    const bucket = new TokenBucket({ capacity: 3, refillPerSecond: 10, now: () => now });
    assert.equal(bucket.take(), true);
    assert.equal(bucket.take(), true);
    assert.equal(bucket.take(), true);
    assert.equal(bucket.take(), false);
    now += 100; // 10/s → one token per 100 ms
    assert.equal(bucket.take(), true);
    assert.equal(bucket.take(), false);
  });

  test('never refills above capacity', () => {
    let now = 0;
    const bucket = new TokenBucket({ capacity: 5, refillPerSecond: 1000, now: () => now });
    now += 60_000;
    assert.equal(bucket.available(), 5);
  });

  test('a take larger than what is available takes nothing', () => {
    const now = 0;
    const bucket = new TokenBucket({ capacity: 10, refillPerSecond: 1, now: () => now });
    assert.equal(bucket.take(11), false);
    assert.equal(bucket.available(), 10);
    assert.equal(bucket.take(7), true);
    assert.equal(bucket.available(), 3);
  });

  test('rejects nonsense options', () => {
    assert.throws(() => new TokenBucket({ capacity: 0, refillPerSecond: 1 }), RangeError);
    assert.throws(() => new TokenBucket({ capacity: 1, refillPerSecond: -1 }), RangeError);
  });
});
