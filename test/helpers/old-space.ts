/**
 * How many bytes a loop allocated straight into the old generation (not promoted there by a
 * scavenge): V8's GC profiler around `count` calls of `f` with `base + i` (bench/market/heap-flow).
 * The tests that keep per-message text out of old space measure with it, beside a control.
 */
import assert from 'node:assert/strict';
import { recordHeapFlow } from '../../bench/market/heap-flow.js';

export function directOldBytes(count: number, base: number, f: (n: number) => { length: number }): number {
  // A warm-up first: compiling and optimising `f` puts its bytecode and metadata in old space,
  // once, and that is not what the tests measure (a CI run saw ~6 B per call from it at 40,000).
  let length = 0;
  for (let i = 0; i < Math.min(count, 20_000); i++) length += f(base - i - 1).length;
  const stop = recordHeapFlow();
  for (let i = 0; i < count; i++) length += f(base + i).length;
  const flow = stop();
  assert.ok(length > 0, 'the loop produced something, so it was not optimised away');
  return flow.directOldBySpace.old_space ?? 0;
}
