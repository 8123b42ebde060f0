/**
 * @module bench/market/ab-sweep
 * `--ab-sweeps concurrent,main`: who frees the young generation's dead ArrayBuffers after a
 * scavenge. V8's default hands the sweep to a worker thread (`scavenge.sweep_array_buffers` is
 * the hand-off on the main thread); `main` (`--no-concurrent-array-buffer-sweeping`) sweeps on the
 * main thread inside the pause. With the gateway pinned to one core (cpuset.ts), the worker it
 * wakes runs on that same core: market8's pinned run had 39 of its 51 scavenges over 2 ms at 1k
 * venue msg/s charged to that phase. V8 reads the flag at every scavenge, so one rig can
 * alternate the two window by window (a 16-byte ArrayBuffer churn: the phase went from 0.6 ms
 * to 4.96 ms per scavenge after `setFlagsFromString`, as with the flag given at start-up, 3.92 ms).
 */
import { setFlagsFromString } from 'node:v8';

export type AbSweep = 'concurrent' | 'main';
export const AB_SWEEPS: readonly AbSweep[] = ['concurrent', 'main'];

export function parseAbSweep(mode: string): AbSweep {
  if (!(AB_SWEEPS as readonly string[]).includes(mode)) throw new Error(`--ab-sweeps: '${mode}' is none of ${AB_SWEEPS.join(', ')}`);
  return mode as AbSweep;
}

export function setAbSweep(mode: AbSweep): void {
  setFlagsFromString(mode === 'main' ? '--no-concurrent-array-buffer-sweeping' : '--concurrent-array-buffer-sweeping');
}
