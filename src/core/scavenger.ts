/**
 * @module bench/market/gc-mode
 * Switches V8's scavenger (the young-generation collector) between its two modes at run time, so
 * the benchmark can measure both on one rig, one window after the other:
 *
 * - `parallel` (V8's default): the main thread and helper threads copy the survivors together,
 *   and the pause ends when the last helper has finished. A helper the OS has not scheduled yet
 *   (on a 2-core machine that also runs the venue simulators) holds the pause open however little
 *   there is to copy.
 * - `serial` (`--no-parallel-scavenge`): the main thread copies alone, with no one to wait for.
 *
 * V8 reads the flag at every scavenge, so `v8.setFlagsFromString` takes effect from the next one.
 */
import { setFlagsFromString } from 'node:v8';

export type ScavengerMode = 'parallel' | 'serial';

/** The mode the server runs in: `npm start` and the image pass `--no-parallel-scavenge`. */
export const SERVER_SCAVENGER: ScavengerMode = 'serial';

export function setScavenger(mode: ScavengerMode): void {
  setFlagsFromString(mode === 'serial' ? '--no-parallel-scavenge' : '--parallel-scavenge');
}
