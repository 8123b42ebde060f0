/**
 * @module bench/cluster/step-plan
 * Which load a saturation search measures next, from its verdicts so far (a pure function, so the
 * search's logic is tested without a rig).
 *
 * Up the ladder while steps pass, then 10 % more per step past its top (up to 4× the top); the
 * first failure above a passing step ends the search at that step, to the ladder's resolution.
 * When the very first step fails, the search bisects down between a floor and the lowest failing
 * load, to the same resolution, and only says "none passed" when the floor itself fails: in the
 * 14:42 quiet run one 3-node search failed its first step (s = 470, p99 103–162 ms with its nodes
 * at 17–21 % of their 25 % quota) and, as a search could only climb, counted as 0.
 *
 * A load that failed with its nodes below their quota is measured once more on a fresh rig
 * before the search goes on (`freshRigReruns`, once per search): in the 17:40 quiet run two of
 * three 1-node searches ended at s = 470 (9,400/s) after three failing attempts at 590 on the
 * same rig, p99 150–350 ms with the node at 15–18 % of its 25 % quota, while the third rig and
 * every earlier quiet 1-node median passed 590–880. A slow rig repeats its slowness on every
 * attempt, so the attempts on the same rig (search.ts) cannot tell it from the load; a fresh rig
 * can. A node at its quota is the saturation the search looks for and is never re-run.
 */

/** One load's verdict (the last attempt's). */
export interface Verdict {
  s: number;
  pass: boolean;
  /** Failed on its p99 or publish rate (never a loss) with every node below its quota (search.ts `atQuota`). */
  belowQuota?: boolean;
}

/** The next measurement: its load, whether it needs a fresh rig, and whether it is a fresh-rig re-run of the last load. */
export interface NextLoad {
  s: number;
  /** Connections are only added: a load not above the last one measured starts a fresh rig. */
  freshRig: boolean;
  rerun: boolean;
}

export interface PlanOptions {
  /** Strictly rising loads (subscribers per channel per node). */
  ladder: number[];
  /**
   * A saturation search: past the ladder's top while it still passes, and down from a first
   * step that fails. False: the ladder only, ending at its first failure (a fixed-load run).
   */
  saturation: boolean;
  /** Fresh-rig re-runs of a below-quota failure per search (0: none). */
  freshRigReruns: number;
}

/** Past the ladder's top while it still passes: 10 % more per step, up to this multiple of the top. */
const EXTEND_FACTOR = 1.1;
const EXTEND_MAX = 4;
/** The lowest load a search steps down to, as a share of the ladder's first step. */
export const FLOOR_SHARE = 0.5;
/**
 * Bisection stops when the passing and failing loads are this close (a share of the failing one),
 * about the quota'd ladder's spacing near saturation (8 %), so a search that stepped down ends
 * as finely as one that climbed.
 */
const RESOLUTION = 0.1;

/** The nearest multiple of 10; below 5, where that is 0, the nearest whole number, at least 1 (3 stays 3). */
export function nearest10(s: number): number {
  const tens = Math.round(s / 10) * 10;
  return tens > 0 ? tens : Math.max(1, Math.round(s));
}

/** The floor of a ladder's search: the lowest load it steps down to before it says "none passed". */
export function floorOf(ladder: number[]): number {
  return nearest10(ladder[0] * FLOOR_SHARE);
}

/** Whether `lo` and `hi` are within the resolution (or no whole load of 10 lies between them). */
function closeEnough(lo: number, hi: number): boolean {
  const mid = nearest10((lo + hi) / 2);
  return hi - lo <= Math.max(RESOLUTION * hi, 1) || mid <= lo || mid >= hi;
}

/** Fresh-rig re-runs so far: a verdict at the same load as the one before it (the plan never returns to a load otherwise). */
const rerunsOf = (verdicts: Verdict[]) => verdicts.filter((v, i) => i > 0 && verdicts[i - 1].s === v.s).length;

/** The next measurement, or null when the search is over (its saturation is the highest passing load). */
export function nextLoad(verdicts: Verdict[], opts: PlanOptions): NextLoad | null {
  const last = verdicts[verdicts.length - 1];
  if (!last) return { s: opts.ladder[0], freshRig: true, rerun: false };
  if (!last.pass && last.belowQuota && rerunsOf(verdicts) < opts.freshRigReruns) return { s: last.s, freshRig: true, rerun: true };
  // A re-run's verdict stands for its load: the one it re-ran is dropped.
  const s = loadAfter(verdicts.filter((v, i) => verdicts[i + 1]?.s !== v.s), opts);
  return s === null ? null : { s, freshRig: s <= last.s, rerun: false };
}

/** The next load from the verdicts that stand (one per load). */
function loadAfter(verdicts: Verdict[], opts: PlanOptions): number | null {
  const { ladder } = opts;
  const failed = verdicts.filter((v) => !v.pass).map((v) => v.s);
  if (!failed.length) {
    // Still climbing.
    const last = verdicts[verdicts.length - 1].s;
    const onLadder = ladder.find((s) => s > last);
    if (onLadder !== undefined) return onLadder;
    const top = ladder[ladder.length - 1];
    const next = Math.ceil((last * EXTEND_FACTOR) / 10) * 10;
    return opts.saturation && next <= top * EXTEND_MAX ? next : null;
  }
  if (!opts.saturation) return null;
  const hi = Math.min(...failed);
  const passedBelow = verdicts.filter((v) => v.pass && v.s < hi).map((v) => v.s);
  // Climbed and then failed: ended at the ladder's resolution, as a climbing search always did.
  if (passedBelow.some((s) => s >= ladder[0])) return null;
  const floor = floorOf(ladder);
  if (hi <= floor) return null; // the floor failed: none passed
  const lo = passedBelow.length ? Math.max(...passedBelow) : null;
  if (lo !== null) return closeEnough(lo, hi) ? null : nearest10((lo + hi) / 2);
  // Nothing passed yet: bisect between the (untested) floor and the lowest failure, the floor last.
  return closeEnough(floor, hi) ? floor : nearest10((floor + hi) / 2);
}

/** The failing load that ended a search: the lowest one above its saturation (or any, with none). */
export function endingFailure<T extends { subscribersPerChannel: number; pass: boolean; retried?: boolean }>(steps: T[], saturation: T | null): T | undefined {
  const above = steps.filter((s) => !s.pass && !s.retried && (!saturation || s.subscribersPerChannel > saturation.subscribersPerChannel));
  return above.length ? above.reduce((a, b) => (b.subscribersPerChannel < a.subscribersPerChannel ? b : a)) : undefined;
}
