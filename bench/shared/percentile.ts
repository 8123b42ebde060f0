/**
 * @module bench/shared/percentile
 * Nearest-rank percentile of an ascending array (NaN when empty): the value below which p % of
 * the samples lie, always one of the samples.
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
