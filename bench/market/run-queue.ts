/**
 * @module bench/market/run-queue
 * How long the measured process's main thread waited for a core: Linux's per-thread
 * `/proc/thread-self/schedstat` (time on a CPU, time runnable but waiting in the run queue, ns).
 * A GC pause is wall time: on a shared 2-core machine a scavenge of ~1 ms of work lasts 5–10 ms
 * when the OS takes the core away in the middle of it, and V8's phase times then grow in whichever
 * phase was running (market6, market7). The main thread's wait per second of a window says how
 * exposed each pause was, as a count that does not depend on the pauses themselves.
 */
import { readFileSync } from 'node:fs';

export interface RunQueueSample {
  cpuNs: number;
  waitNs: number;
  slices: number;
}

/** The calling thread's schedstat (call it from the main thread), or null where there is none. */
export function readRunQueue(path = '/proc/thread-self/schedstat'): RunQueueSample | null {
  try {
    const [cpu, wait, slices] = readFileSync(path, 'utf8').trim().split(' ').map(Number);
    return Number.isFinite(wait) ? { cpuNs: cpu, waitNs: wait, slices } : null;
  } catch {
    return null;
  }
}

/** Per second of the window: ms spent waiting for a core, and the mean wait per time slice (µs). */
export function runQueueDelta(a: RunQueueSample | null, b: RunQueueSample | null, seconds: number): { waitMsPerSec: number; waitUsPerSlice: number } | null {
  if (!a || !b || seconds <= 0) return null;
  const slices = Math.max(1, b.slices - a.slices);
  return { waitMsPerSec: Number(((b.waitNs - a.waitNs) / 1e6 / seconds).toFixed(1)), waitUsPerSlice: Math.round((b.waitNs - a.waitNs) / 1e3 / slices) };
}
