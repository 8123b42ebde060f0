/**
 * The soak's growth verdict rests on bench/soak/regression: the slope, its 95 % interval and the
 * widening for autocorrelated samples, checked against values worked out by hand.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { fitSlope, tQuantile975 } from '../../bench/soak/regression.js';

const close = (a: number, b: number, eps: number, what: string) => assert.ok(Math.abs(a - b) <= eps, `${what}: ${a} vs ${b}`);

describe('soak regression', () => {
  test('slope, intercept and 95 % interval of a small worked example', () => {
    // y = 2.2 + 0.6 x; residuals -0.8, 0.6, 1, -0.6, -0.2; SSE 2.4; Sxx 10; SE √0.08; t(3) 3.182.
    const fit = fitSlope([1, 2, 3, 4, 5], [2, 4, 5, 4, 5])!;
    close(fit.slope, 0.6, 1e-12, 'slope');
    close(fit.intercept, 2.2, 1e-12, 'intercept');
    close(fit.standardError, Math.sqrt(0.08), 1e-12, 'standard error');
    close(fit.ci95[0], 0.6 - 3.182 * Math.sqrt(0.08), 1e-9, 'lower bound');
    close(fit.ci95[1], 0.6 + 3.182 * Math.sqrt(0.08), 1e-9, 'upper bound');
    // Lag-1 autocorrelation: (-0.48 + 0.6 - 0.6 + 0.12) / 2.4 = -0.15; negative, so no widening.
    close(fit.residualAutocorrelation, -0.15, 1e-12, 'lag-1 autocorrelation');
    assert.deepEqual(fit.ci95Adjusted, fit.ci95);
  });

  test('an exact line has a zero-width interval; too few or identical x give no fit', () => {
    const fit = fitSlope([0, 1, 2, 3], [10, 13, 16, 19])!;
    close(fit.slope, 3, 1e-12, 'slope');
    close(fit.ci95[1] - fit.ci95[0], 0, 1e-9, 'interval width');
    assert.equal(fitSlope([1, 2], [1, 2]), null);
    assert.equal(fitSlope([4, 4, 4], [1, 2, 3]), null);
  });

  test('autocorrelated residuals widen the interval', () => {
    // A slow wave on a flat line: neighbouring residuals share their sign.
    const xs = Array.from({ length: 60 }, (_, i) => i);
    const ys = xs.map((x) => 100 + 5 * Math.sin(x / 6));
    const fit = fitSlope(xs, ys)!;
    assert.ok(fit.residualAutocorrelation > 0.8, `r = ${fit.residualAutocorrelation}`);
    const width = (ci: [number, number]) => ci[1] - ci[0];
    assert.ok(width(fit.ci95Adjusted) > 3 * width(fit.ci95), `${width(fit.ci95Adjusted)} vs ${width(fit.ci95)}`);
  });

  test('t quantiles: the table, then the expansion, continuous and tending to 1.96', () => {
    assert.equal(tQuantile975(1), 12.706);
    assert.equal(tQuantile975(30), 2.042);
    close(tQuantile975(31), 2.0395, 0.001, 't(31)');
    close(tQuantile975(60), 2.0003, 0.001, 't(60)');
    close(tQuantile975(120), 1.9799, 0.001, 't(120)');
    close(tQuantile975(1e9), 1.95996, 1e-5, 't(∞)');
    assert.ok(Number.isNaN(tQuantile975(0)));
  });
});
