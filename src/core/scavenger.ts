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
 *
 * **Per-turn state: never `clear()` a long-lived Map (or Set) once per turn or per pass.** A
 * scavenge copies what is reachable from the old generation too (every old-to-new slot is a
 * root). Once a long-lived Map's table has been promoted, each `clear()` allocates the next table
 * in old space, and the dead table keeps its entries and a link to its successor until a
 * mark-compact: everything the turn put in the Map is copied, then promoted, at every scavenge
 * (market4 measured 592 → 54 KB promoted per 10k venue messages once two such Maps were gone).
 * Keep per-turn state in a fresh Map made only when there is something to put in it (the hub's
 * flush batch cache, src/hub/flush.ts), or in fixed slots that are overwritten (market's
 * write-latency, one typed-array slot per venue). test/hub/flush-old-space measures the first.
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
