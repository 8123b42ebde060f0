/**
 * @module test/core/memory-monitor
 * The memory monitor's regression and alarm, on synthetic series with an injected clock.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryMonitor, linearSlope } from '../../src/core/memory-monitor.js';
import { createRegistry } from '../../src/core/metrics.js';

const MB = 1024 * 1024;

function series(bytesPerHour: number, noise = 0) {
  let t = 0;
  let i = 0;
  const now = () => t;
  const sample = () => {
    const heapUsed = 50 * MB + (bytesPerHour * t) / 3_600_000 + (i++ % 2 ? noise : -noise);
    return { heapUsed, rss: heapUsed * 2, external: 0 };
  };
  return { now, sample, advance: (ms: number) => (t += ms) };
}

describe('memory monitor', () => {
  test('linear regression recovers the slope of a noisy straight line', () => {
    const xs = Array.from({ length: 50 }, (_, i) => i);
    const ys = xs.map((x) => 3 * x + 7 + (x % 2 ? 0.5 : -0.5));
    assert.ok(Math.abs(linearSlope(xs, ys) - 3) < 0.01);
    assert.equal(linearSlope([1], [1]), 0);
    assert.equal(linearSlope([2, 2, 2], [1, 2, 3]), 0);
  });

  test('growth above 20 MB/hour raises the alarm gauge and logs once; steady memory does not', async () => {
    const registry = createRegistry(false);
    const warnings: unknown[] = [];
    const logger = { warn: (o: unknown) => warnings.push(o), info: () => {} } as never;
    const leak = series(60 * MB, 200 * 1024);
    const m = new MemoryMonitor({ registry, logger, sample: leak.sample, now: leak.now, trackGc: false, minSamples: 6 });
    for (let i = 0; i < 30; i++) {
      m.snapshot();
      leak.advance(60_000);
    }
    assert.ok(Math.abs(m.growthBytesPerHour() - 60 * MB) < 2 * MB, `slope ${m.growthBytesPerHour() / MB} MB/h`);
    assert.equal(m.alarmed, true);
    assert.equal(warnings.length, 1, 'one log line per transition, not one per snapshot');
    const text = await registry.metrics();
    assert.match(text, /memory_growth_alarm 1/);
    assert.match(text, /memory_usage_bytes\{type="heap_used"\}/);

    const steady = series(2 * MB, 1 * MB);
    const registry2 = createRegistry(false);
    const quiet = new MemoryMonitor({ registry: registry2, sample: steady.sample, now: steady.now, trackGc: false });
    for (let i = 0; i < 30; i++) {
      quiet.snapshot();
      steady.advance(60_000);
    }
    assert.equal(quiet.alarmed, false);
    assert.match(await registry2.metrics(), /memory_growth_alarm 0/);
  });

  test('GC pauses are recorded in gc_pause_seconds', async () => {
    const registry = createRegistry(false);
    const m = new MemoryMonitor({ registry, trackGc: true });
    const garbage: unknown[] = [];
    for (let round = 0; round < 40; round++) {
      for (let i = 0; i < 20_000; i++) garbage.push({ i, s: 'x'.repeat(20) });
      garbage.length = 0;
      await new Promise((r) => setImmediate(r));
    }
    (globalThis as { gc?: () => void }).gc?.();
    await new Promise((r) => setTimeout(r, 50));
    m.stop();
    const text = await registry.metrics();
    const count = Number(/gc_pause_seconds_count\{kind="\w+"\} (\d+)/.exec(text)?.[1] ?? 0);
    assert.ok(count > 0, 'at least one GC pause observed');
  });
});
