/**
 * The hub ladder's --repeat verdicts (bench/hub/ladder-report): per rung, each server's medians of
 * p50 and p99 over the repetitions with their spread, ratios of the medians against the one-frame
 * loop, each repetition's p99 ratio against its own reference, and targets judged on the medians
 * (not on one noisy step). Checked against hand-worked synthetic steps, and the option's parsing.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { median, renderLadderMarkdown, rungRatio, rungs } from '../../bench/hub/ladder-report.js';
import { parseOptions } from '../../bench/hub/options.js';
import type { HubBenchResults } from '../../bench/hub/report.js';
import type { StepResult } from '../../bench/hub/scenario.js';
import type { ServerKind } from '../../bench/hub/wire.js';

/** A step of `rate` publications/s (1000 subscribers on one channel: deliveries = rate × 1000). */
function step(rate: number, repetition: number, p50: number, p99: number, lost = 0): StepResult {
  return {
    targetRate: rate,
    durationMs: 5000,
    published: rate * 5,
    achievedRate: rate,
    expected: rate * 5000,
    delivered: rate * 5000 - lost,
    deliveredPerSec: rate * 1000,
    lost,
    duplicated: 0,
    outOfOrder: 0,
    stale: 0,
    frames: rate * 5000,
    messagesPerFrame: 1,
    latencyMs: { p50, p95: p99, p99, max: p99, mean: p50 },
    cpuPercent: { server: 10, receivers: [5, 5], publisher: 2, machine: 30, other: 8 },
    serverRssMB: 100,
    serverPeakRssMB: 100,
    drainMs: 1000,
    connected: 1000,
    loadAverage: 1,
    generatorBound: false,
    disturbed: false,
    pass: lost === 0,
    repetition,
  };
}

function results(load: Partial<Record<ServerKind, StepResult[]>>, repeat: number): HubBenchResults {
  const options = parseOptions(['--ladder-rates', '25000,100000', '--repeat', String(repeat)], '/tmp');
  const loads: HubBenchResults['load'] = {};
  for (const [kind, ladder] of Object.entries(load) as [ServerKind, StepResult[]][]) loads[kind] = { server: kind, target: ladder[0]!, ladder, saturation: null };
  return {
    benchmark: 'hub',
    date: '2026-12-06T00:00:00.000Z',
    wallSeconds: 1,
    args: ['--ladder', '--repeat', String(repeat)],
    machine: { cpus: 2, cpuModel: 'test', memoryGB: 1, node: 'v20', loadAverageBefore: 1, loadAverageAfter: 1 },
    options,
    load: loads,
    idle: {},
    summary: { saturation: {}, ratios: {}, checks: [] },
  };
}

describe('hub ladder --repeat', () => {
  test('median of odd and even lists', () => {
    assert.equal(median([5, 1, 3]), 3);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.equal(median([7]), 7);
  });

  test('--repeat parses, needs the ladder, and defaults to 1', () => {
    assert.equal(parseOptions(['--ladder'], '/tmp').repeat, 1);
    assert.equal(parseOptions(['--ladder', '--repeat', '3'], '/tmp').repeat, 3);
    assert.throws(() => parseOptions(['--repeat', '3'], '/tmp'), /--repeat needs --ladder/);
    assert.throws(() => parseOptions(['--ladder', '--repeat', '0'], '/tmp'), /--repeat must be/);
  });

  // At 25k: the reference has one bad repetition (p99 20 ms). On one step (repetition 2) Airwaves
  // would look fine or terrible by chance; on the medians it is 11 / 9 = 1.22×: not met.
  // At 100k: medians 3.3 / 3 = 1.1× and 6.6 / 6 = 1.1×: met, although repetition 3 alone is 1.5×.
  const airwaves = [step(25, 1, 4.8, 11), step(100, 1, 3.3, 6.6), step(25, 2, 4.6, 12), step(100, 2, 3.2, 6.0), step(25, 3, 5, 10.5), step(100, 3, 3.6, 9)];
  const loop = [step(25, 1, 4, 9), step(100, 1, 3, 6), step(25, 2, 4.2, 20), step(100, 2, 2.9, 6.5), step(25, 3, 3.9, 8.6), step(100, 3, 3.1, 6)];
  const res = results({ 'airwaves-cli': airwaves, 'ws-frame': loop }, 3);

  test('per rung: medians, spread, paired ratios', () => {
    const table = rungs(res);
    assert.deepEqual(table.map((r) => r.rung), [25_000, 100_000]);
    const a25 = table[0]!.figures['airwaves-cli']!;
    const w25 = table[0]!.figures['ws-frame']!;
    assert.equal(a25.p50, 4.8);
    assert.equal(a25.p99, 11);
    assert.deepEqual(a25.p99Spread, [10.5, 12]);
    assert.equal(w25.p99, 9);
    assert.deepEqual(w25.p99Spread, [8.6, 20]);
    const q25 = rungRatio(a25, w25);
    assert.equal(q25.p50, 1.2); // 4.8 / 4
    assert.equal(q25.p99, 1.22); // 11 / 9
    assert.deepEqual(q25.p99Paired, [0.6, 1.22]); // 12 / 20 and 11 / 9
    const q100 = rungRatio(table[1]!.figures['airwaves-cli']!, table[1]!.figures['ws-frame']!);
    assert.equal(q100.p50, 1.1); // 3.3 / 3
    assert.equal(q100.p99, 1.1); // 6.6 / 6
    assert.deepEqual(q100.p99Paired, [0.92, 1.5]);
  });

  test('targets are judged on the medians; the markdown names the repetitions', () => {
    const md = renderLadderMarkdown(res, []);
    assert.match(md, /median of 3/);
    assert.match(md, /\| 25k\/s: p50 and p99 ≤ 1.2× the one-frame loop's \| [^|]+ \| 1.2× \/ 1.22× \| \*\*no\*\* \|/);
    assert.match(md, /\| 100k\/s: p50 and p99 ≤ 1.2× the one-frame loop's \| [^|]+ \| 1.1× \/ 1.1× \| yes \|/);
    assert.match(md, /\| 25,000 \| 4.8 \/ 11 \(4.6–5 \/ 10.5–12\) \|/);
    // Every step of every repetition is listed with its repetition.
    assert.equal(md.split('\n').filter((l) => /^\| [^|]+ \| [123] \| /.test(l)).length, 12);
  });

  test('one repetition renders as before: no spread, no repetition column', () => {
    const one = results({ 'airwaves-cli': airwaves.filter((s) => s.repetition === 1), 'ws-frame': loop.filter((s) => s.repetition === 1) }, 1);
    const md = renderLadderMarkdown(one, []);
    assert.match(md, /\| 25,000 \| 4.8 \/ 11 \| 4 \/ 9 \|/);
    assert.doesNotMatch(md, /median of/);
    assert.match(md, /\| 100k\/s: p50 and p99 ≤ 1.2× the one-frame loop's \| [^|]+ \| 1.1× \/ 1.1× \| yes \|/);
  });
});
