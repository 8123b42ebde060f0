import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RingBuffer } from '../../src/core/ring-buffer.js';

describe('RingBuffer', () => {
  test('keeps items oldest first and evicts the oldest when full', () => {
    const ring = new RingBuffer<number>(3);
    assert.equal(ring.push(1), undefined);
    ring.push(2);
    ring.push(3);
    assert.equal(ring.push(4), 1);
    assert.deepEqual(ring.toArray(), [2, 3, 4]);
    assert.equal(ring.peekOldest(), 2);
    assert.equal(ring.peekNewest(), 4);
    assert.equal(ring.at(1), 3);
    assert.equal(ring.at(3), undefined);
  });

  test('shift removes from the oldest end', () => {
    const ring = new RingBuffer<string>(2);
    ring.push('a');
    ring.push('b');
    ring.push('c');
    assert.equal(ring.shift(), 'b');
    assert.equal(ring.size, 1);
    assert.deepEqual(ring.toArray(), ['c']);
    ring.clear();
    assert.equal(ring.shift(), undefined);
  });

  test('rejects a capacity that is not a positive integer', () => {
    assert.throws(() => new RingBuffer(0), RangeError);
    assert.throws(() => new RingBuffer(1.5), RangeError);
  });

  test('always holds the last `capacity` pushes, in order (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.array(fc.integer(), { maxLength: 100 }), (capacity, values) => {
        const ring = new RingBuffer<number>(capacity);
        for (const v of values) ring.push(v);
        assert.deepEqual(ring.toArray(), values.slice(Math.max(0, values.length - capacity)));
      }),
    );
  });
});
