/**
 * @module core/scavenger
 * V8's scavenger (the young-generation collector) has two modes, switched at run time: `serve`
 * picks the serial one for every way the server starts (npm start, the image, the npm bin, the
 * benches that spawn the CLI), and the market benchmark measures both on one rig, one window after
 * the other:
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

/**
 * The mode the server runs in. Its scavenges' survivors are a few KB, so a helper thread saves
 * nothing, and on a busy small machine the pause waited for one the OS had not scheduled
 * (docs/market.md, docs/operations.md "Small machines").
 */
export const SERVER_SCAVENGER: ScavengerMode = 'serial';

export function setScavenger(mode: ScavengerMode): void {
  setFlagsFromString(mode === 'serial' ? '--no-parallel-scavenge' : '--parallel-scavenge');
}

/**
 * What `serve` applies: {@link SERVER_SCAVENGER}, unless node was started with
 * `--parallel-scavenge` (the operator's explicit choice of V8's default wins).
 */
export function applyServerScavenger(execArgv: readonly string[] = process.execArgv): ScavengerMode {
  const mode: ScavengerMode = execArgv.includes('--parallel-scavenge') ? 'parallel' : SERVER_SCAVENGER;
  setScavenger(mode);
  return mode;
}
