/**
 * The main thread's wait for a core (bench/market/run-queue.ts), which the market bench reports
 * beside each rung's GC pauses: read from Linux's schedstat for the calling thread.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readRunQueue, runQueueDelta } from '../../bench/market/run-queue.js';

test('a thread that is always runnable is either on a core or waiting: CPU + wait ≈ wall time', () => {
  const a = readRunQueue();
  assert.ok(a, 'this Linux has /proc/thread-self/schedstat');
  const t0 = performance.now();
  let spin = 0;
  while (performance.now() - t0 < 300) spin++;
  const b = readRunQueue()!;
  const wallMs = performance.now() - t0;
  assert.ok(spin > 0);
  const cpuMs = (b.cpuNs - a.cpuNs) / 1e6;
  const waitMs = (b.waitNs - a.waitNs) / 1e6;
  // schedstat is brought up to date at scheduler events (a tick, a switch), so allow a few ticks.
  assert.ok(cpuMs > 0 && waitMs >= 0, `cpu ${cpuMs} ms, wait ${waitMs} ms`);
  assert.ok(Math.abs(cpuMs + waitMs - wallMs) < 40, `cpu ${cpuMs} + wait ${waitMs} ms against ${wallMs} ms of wall time`);
});

test('the delta is the wait per second of the window and per time slice; no schedstat, no figure', () => {
  assert.deepEqual(runQueueDelta({ cpuNs: 0, waitNs: 1e6, slices: 10 }, { cpuNs: 5e8, waitNs: 201e6, slices: 110 }, 2), { waitMsPerSec: 100, waitUsPerSlice: 2000 });
  assert.equal(runQueueDelta(null, { cpuNs: 0, waitNs: 0, slices: 0 }, 1), null);
  assert.equal(readRunQueue('/proc/no-such-file'), null);
});
