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
 */

/** One load's verdict (the last attempt's). */
export interface Verdict {
  s: number;
  pass: boolean;
}

export interface PlanOptions {
  /** Strictly rising loads (subscribers per channel per node). */
  ladder: number[];
  /**
   * A saturation search: past the ladder's top while it still passes, and down from a first
   * step that fails. False: the ladder only, ending at its first failure (a fixed-load run).
   */
  saturation: boolean;
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

const roundTo10 = (s: number) => Math.max(1, Math.round(s / 10) * 10 || Math.round(s));

/** The floor of a ladder's search: the lowest load it steps down to before it says "none passed". */
export function floorOf(ladder: number[]): number {
  return roundTo10(ladder[0] * FLOOR_SHARE);
}

/** Whether `lo` and `hi` are within the resolution (or no whole load of 10 lies between them). */
function closeEnough(lo: number, hi: number): boolean {
  const mid = roundTo10((lo + hi) / 2);
  return hi - lo <= Math.max(RESOLUTION * hi, 1) || mid <= lo || mid >= hi;
}

/** The next load to measure, or null when the search is over (its saturation is the highest passing load). */
export function nextLoad(verdicts: Verdict[], opts: PlanOptions): number | null {
  const { ladder } = opts;
  if (!verdicts.length) return ladder[0];
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
  if (lo !== null) return closeEnough(lo, hi) ? null : roundTo10((lo + hi) / 2);
  // Nothing passed yet: bisect between the (untested) floor and the lowest failure, the floor last.
  return closeEnough(floor, hi) ? floor : roundTo10((floor + hi) / 2);
}

/** The failing load that ended a search: the lowest one above its saturation (or any, with none). */
export function endingFailure<T extends { subscribersPerChannel: number; pass: boolean; retried?: boolean }>(steps: T[], saturation: T | null): T | undefined {
  const above = steps.filter((s) => !s.pass && !s.retried && (!saturation || s.subscribersPerChannel > saturation.subscribersPerChannel));
  return above.length ? above.reduce((a, b) => (b.subscribersPerChannel < a.subscribersPerChannel ? b : a)) : undefined;
}
