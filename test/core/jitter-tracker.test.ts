import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { JitterTracker } from '../../src/core/jitter-tracker.js';

describe('JitterTracker', () => {
  test('perfectly regular arrivals have zero jitter', () => {
    const j = new JitterTracker({ expectedIntervalMs: 20 });
    for (let i = 0; i < 50; i++) j.record(i * 20);
    assert.equal(j.jitterMs, 0);
    assert.equal(j.sampleCount, 49);
  });

  test('irregular arrivals raise jitter towards the mean deviation', () => {
    const j = new JitterTracker({ expectedIntervalMs: 20, alpha: 0.5 });
    let t = 0;
    for (let i = 0; i < 200; i++) {
      t += i % 2 === 0 ? 10 : 30; // deviation of 10 ms every time
      j.record(t);
    }
    assert.ok(Math.abs(j.jitterMs - 10) < 0.01, `jitter ${j.jitterMs}`);
    assert.equal(j.maxDeviationMs, 10);
  });

  test('uses send times when given, so a constant network delay is not jitter', () => {
    const j = new JitterTracker();
    for (let i = 0; i < 20; i++) j.record(i * 25 + 100, i * 25);
    assert.equal(j.jitterMs, 0);
    j.record(20 * 25 + 160, 20 * 25); // 60 ms late
    assert.ok(j.jitterMs > 3);
  });

  test('reset forgets everything', () => {
    const j = new JitterTracker({ expectedIntervalMs: 10 });
    j.record(0);
    j.record(50);
    assert.ok(j.jitterMs > 0);
    j.reset();
    assert.equal(j.jitterMs, 0);
    assert.equal(j.sampleCount, 0);
  });
});
