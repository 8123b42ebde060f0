/**
 * @module bench/soak/regression
 * A growth rate with its uncertainty: the least-squares line through (time, memory) samples,
 * its slope and the slope's 95 % confidence interval (Student's t with n − 2 degrees of freedom).
 *
 * Memory samples taken every 30 s are not independent (the heap rises between collections and
 * falls at each), which makes the textbook interval too narrow. So the interval is also given
 * widened for lag-1 autocorrelation of the residuals (the AR(1) variance inflation
 * (1 + r) / (1 − r), r clipped at 0): that is the one to judge by.
 */

export interface SlopeFit {
  n: number;
  slope: number;
  intercept: number;
  /** Standard error of the slope, assuming independent residuals. */
  standardError: number;
  /** 95 % interval of the slope, assuming independent residuals. */
  ci95: [number, number];
  /** Lag-1 autocorrelation of the residuals. */
  residualAutocorrelation: number;
  /** 95 % interval widened for that autocorrelation (the one to judge by). */
  ci95Adjusted: [number, number];
}

/** Two-sided 95 % quantiles of Student's t for 1–30 degrees of freedom. */
const T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042];

/** t(0.975, df): the table up to 30, then the Cornish–Fisher expansion around the normal quantile (error < 0.001). */
export function tQuantile975(df: number): number {
  if (!(df >= 1)) return Number.NaN;
  if (df <= 30) return T975[Math.floor(df) - 1];
  const z = 1.959963984540054;
  const z3 = z ** 3;
  const z5 = z ** 5;
  const z7 = z ** 7;
  return z + (z3 + z) / (4 * df) + (5 * z5 + 16 * z3 + 3 * z) / (96 * df ** 2) + (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * df ** 3);
}

/** Fits y = intercept + slope·x; needs at least three samples with distinct x. */
export function fitSlope(xs: readonly number[], ys: readonly number[]): SlopeFit | null {
  const n = Math.min(xs.length, ys.length);
  if (n < 3) return null;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += xs[i];
    my += ys[i];
  }
  mx /= n;
  my /= n;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (xs[i] - mx) ** 2;
    sxy += (xs[i] - mx) * (ys[i] - my);
  }
  if (sxx === 0) return null;
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  const residuals = Array.from({ length: n }, (_, i) => ys[i] - (intercept + slope * xs[i]));
  const sse = residuals.reduce((a, r) => a + r * r, 0);
  const standardError = Math.sqrt(sse / (n - 2) / sxx);
  let lagged = 0;
  for (let i = 1; i < n; i++) lagged += residuals[i] * residuals[i - 1];
  const r = sse === 0 ? 0 : lagged / sse;
  const t = tQuantile975(n - 2);
  const half = t * standardError;
  const inflated = half * Math.sqrt((1 + Math.max(0, r)) / (1 - Math.min(Math.max(0, r), 0.99)));
  return { n, slope, intercept, standardError, ci95: [slope - half, slope + half], residualAutocorrelation: r, ci95Adjusted: [slope - inflated, slope + inflated] };
}
