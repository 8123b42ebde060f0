/**
 * The cluster benchmark's verdicts over repeated searches (bench/cluster/report.ts): a setup's
 * saturation is the median of its searches (a search where nothing passed counts 0), the scaling
 * ratio is the ratio of medians beside the run-by-run pairs, the load generators' check fails on
 * a generator-bound step, and the half-load check reads the median cross-node p99 with the
 * same-node one beside it. Checked against hand-worked synthetic steps; and `--out` naming.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { bySetup, duplicateFromEngineCheck, freshRigText, renderMarkdown, retriesText, spreadOf, summarize, type ConfigResult, type HalfLoadResult } from '../../bench/cluster/report.js';
import { halfLoadPeriods, outStemOf, quotaLadder } from '../../bench/cluster/index.js';
import { atQuota, attemptStep, warmUp } from '../../bench/cluster/search.js';
import { counterOf, samplesNaming } from '../../bench/cluster/node-metrics.js';
import { channelPhasesUs, type StepResult } from '../../bench/cluster/rig.js';

const latency = (p99: number) => ({ p50: p99 / 4, p95: p99 / 2, p99, max: p99 * 2, count: 1000 });

/** A step of s subscribers per channel per node on `nodes` nodes (2 channels × 10 msg/s per node). */
function step(nodes: number, s: number, pass: boolean, extra: Partial<StepResult> = {}): StepResult {
  const perSec = s * 20 * nodes;
  return {
    subscribersPerChannel: s,
    clients: 2 * s * nodes,
    durationMs: 3000,
    published: 60 * nodes,
    achievedRate: 20 * nodes,
    expected: perSec * 3,
    delivered: perSec * 3,
    deliveredPerSec: perSec,
    lost: 0,
    duplicated: 0,
    outOfOrder: 0,
    latencyMs: latency(pass ? 20 : 80),
    crossNodeLatencyMs: nodes > 1 ? latency(pass ? 20 : 80) : null,
    sameNodeLatencyMs: nodes > 1 ? latency(pass ? 18 : 80) : null,
    cpuPercent: { nodes: Array(nodes).fill(12), redis: 1, receivers: [3, 3], publishers: [2], machine: 120, other: 5 },
    cpuUsPerDelivery: { nodes: 12, redis: 0.5, generators: 10 },
    throttledPercent: Array(nodes).fill(pass ? 10 : 60),
    stallMs: Array(nodes).fill(3),
    split: { publishRttP99Ms: Array(nodes).fill(5), publishToWriteP99Ms: Array(nodes).fill(10) },
    engineCounters: Array(nodes).fill({ duplicateFromEngine: null, engineDuplicates: 0 }),
    drainMs: 100,
    connected: 2 * s * nodes,
    generatorBound: false,
    pass,
    failure: pass ? undefined : 'p99 80 ms > 50 ms',
    ...extra,
  };
}

/** A search whose steps pass up to `sat` (0: none passes) and fail at the (up to two) ladder steps above. */
function search(nodes: number, repetition: number, sat: number, extra: Partial<StepResult> = {}): ConfigResult {
  const ladder = [100, 200, 300, 400, 500, 600].filter((s) => s <= sat + 200).map((s) => step(nodes, s, s <= sat, extra));
  const saturation = ladder.filter((s) => s.pass).at(-1) ?? null;
  return {
    label: `${nodes} node${nodes > 1 ? 's' : ''} redis @0.15`,
    engine: 'redis',
    nodes,
    repetition,
    fixed: ladder.find((s) => s.subscribersPerChannel === 300) ?? null,
    ladder,
    saturation,
    limitedBy: 'nodes',
    layout: { publishers: nodes, receivers: 2 * nodes, channels: 2 * nodes, crossNodeShare: nodes > 1 ? 0.5 : 0 },
  };
}

const opts = { p99LimitMs: 50, crossNodeP99TargetMs: 10, ratioTargets: { 2: 1.7, 3: 2.4 } };

test('spreadOf: the median of an odd count is the middle value, of an even count the mean of the middle two', () => {
  assert.deepEqual(spreadOf([9000, 11000, 8000]), { median: 9000, min: 8000, max: 11000, values: [9000, 11000, 8000] });
  assert.equal(spreadOf([1, 4, 2, 3]).median, 2.5);
});

test('a setup saturates at the median of its searches; the ratio is of medians, with the run-by-run pairs beside it', () => {
  // One node: 10,000 / 12,000 / 8,000 deliveries/s (s = 500, 600, 400); two nodes: 16,000 / 12,000 / 24,000.
  const setups = bySetup([search(1, 1, 500), search(2, 1, 400), search(1, 2, 600), search(2, 2, 300), search(1, 3, 400), search(2, 3, 600)]);
  assert.deepEqual(setups.map((s) => [s.label, s.saturation.median]), [['1 node redis @0.15', 10000], ['2 nodes redis @0.15', 16000]]);
  const { ratios, checks } = summarize(opts, setups, null);
  assert.equal(ratios['2 nodes redis @0.15'].ofMedians, 1.6);
  assert.deepEqual(ratios['2 nodes redis @0.15'].paired?.values, [1.6, 1, 3]);
  const scaling = checks.find((c) => c.name.startsWith('2 nodes redis @0.15 vs 1 node'))!;
  assert.equal(scaling.met, false, '1.6× of medians is below 1.7× although one pair reaches 3×');
  assert.match(scaling.actual, /1 of 3 pairs at or above the target/);
});

test('a ratio above the ideal N× is reported as not valid, not as met', () => {
  // One node cut short (8,000/s) against two nodes at 20,000/s: 2.5× of 2× ideal.
  const { checks } = summarize(opts, bySetup([search(1, 1, 400), search(2, 1, 500)]), null);
  const scaling = checks.find((c) => c.name.startsWith('2 nodes redis @0.15 vs 1 node'))!;
  assert.equal(scaling.met, false);
  assert.match(scaling.actual, /^2\.5× .*above the ideal 2×.*not a valid figure$/);
});

test('a search where no step passed counts 0 toward the median, not skipped', () => {
  const setups = bySetup([search(1, 1, 500), search(1, 2, 0), search(1, 3, 400)]);
  assert.deepEqual(setups[0].saturation.values, [10000, 0, 8000]);
  assert.equal(setups[0].saturation.median, 8000);
});

test('the load generators check fails when any step was generator-bound, and passes otherwise', () => {
  const clean = summarize(opts, bySetup([search(1, 1, 500)]), null).checks.find((c) => c.name.includes('load generators'))!;
  assert.equal(clean.met, true);
  const bound = summarize(opts, bySetup([search(1, 1, 500, { generatorBound: true })]), null).checks.find((c) => c.name.includes('load generators'))!;
  assert.equal(bound.met, false);
  assert.match(bound.actual, /^6 of 6 steps generator-bound/);
});

/** Half-load steps on 2 nodes with these cross-node p99s (same-node 1 ms more); `lost` in the first step. */
const halfOf = (cross: number[], lost = 0): HalfLoadResult => {
  const steps = cross.map((p99, i) => step(2, 250, true, { crossNodeLatencyMs: latency(p99), sameNodeLatencyMs: latency(p99 + 1), lost: i === 0 ? lost : 0 }));
  return {
    label: '2 nodes redis @0.15',
    engine: 'redis',
    nodes: 2,
    saturationPerSec: 20000,
    saturationFrom: 'searches',
    targetPerSec: 10000,
    subscribersPerChannel: 250,
    steps,
    crossNodeP99: spreadOf(cross),
    sameNodeP99: spreadOf(cross.map((v) => v + 1)),
    deliveredPerSec: spreadOf(steps.map((s) => s.deliveredPerSec)),
  };
};

test('the half-load check reads the median cross-node p99 of its steps and prints the same-node one beside it', () => {
  const setups = bySetup([search(1, 1, 500), search(2, 1, 500)]);
  const check = (h: HalfLoadResult) => summarize(opts, setups, h).checks.find((c) => c.name.includes('cross-node publish→client p99'))!;
  const met = check(halfOf([8, 30, 9]));
  assert.equal(met.met, true, 'median 9 ms < 10 ms although one step had 30 ms');
  assert.match(met.actual, /cross-node 9 ms \(8–30 ms; runs 8, 30, 9\); same-node at the same rate 10 ms/);
  assert.equal(check(halfOf([12, 11, 13])).met, false);
  assert.equal(check(halfOf([8, 8, 8], 1)).met, false, 'a loss fails the check whatever the latency');
  const page = renderMarkdown({
    date: 'now',
    wallSeconds: 1,
    mode: 'quota',
    machine: { cpus: 2, cpuModel: 'x', node: 'v20', loadAverageBefore: [1, 1, 1], loadAverageAfter: [1, 1, 1] },
    options: { channelsPerNode: 1, channelRate: 10, payloadBytes: 200, durationMs: 5000, stepDurationMs: 3000, warmupMs: 1000, p99LimitMs: 50, quota: { cores: 0.15, periodUs: 10000 }, ladder: [100, 200], fixedSubscribers: 300, repeat: 1, halfLoadSteps: 3 },
    setups,
    halfLoad: halfOf([8, 30, 9]),
    failures: [],
    summary: summarize(opts, setups, halfOf([8, 30, 9])),
  });
  assert.match(page, /## 2 nodes redis @0\.15 at half its median saturation rate/);
  assert.match(page, /\| \*\*2 nodes redis @0\.15\*\* \| median \| \| \| \*\*20000\*\* \(20000–20000\)/);

  // The same steps under another CFS period: reported beside the target's figure, never judged against the target.
  const target = { ...halfOf([12, 11, 13]), periodMs: 10 };
  const slow = { ...halfOf([30, 31, 29]), periodMs: 100, steps: halfOf([30, 31, 29]).steps.map((s) => ({ ...s, throttledPercent: [0, 4] })) };
  const withPeriods = summarize(opts, setups, target, [slow]).checks;
  const period = withPeriods.find((c) => c.name.includes('CFS period of 100 ms'))!;
  assert.equal(period.target, 'none (reported)');
  assert.match(period.actual, /cross-node 30 ms \(29–31 ms; runs 30, 31, 29\); same-node 31 ms .*10 ms period: cross-node 12 ms.*busiest node throttled 4 %/);
  assert.equal(withPeriods.find((c) => c.name.includes('cross-node publish→client p99'))!.met, false, 'the target still reads the first period\'s steps');
  assert.equal(summarize(opts, setups, target, [{ ...slow, steps: halfOf([30, 31, 29], 2).steps }]).checks.find((c) => c.name.includes('CFS period of 100 ms'))!.met, false, 'a loss fails it');
  const both = renderMarkdown({ date: 'now', wallSeconds: 1, mode: 'quota', machine: { cpus: 2, cpuModel: 'x', node: 'v20', loadAverageBefore: [1, 1, 1], loadAverageAfter: [1, 1, 1] }, options: { channelsPerNode: 1, channelRate: 10, payloadBytes: 200, durationMs: 5000, stepDurationMs: 3000, warmupMs: 1000, p99LimitMs: 50, quota: { cores: 0.15, periodUs: 10000 }, ladder: [100, 200], fixedSubscribers: 300, repeat: 1, halfLoadSteps: 3, halfLoadPeriodsMs: [10, 100] }, setups, halfLoad: target, halfLoadOtherPeriods: [slow], failures: [], summary: summarize(opts, setups, target, [slow]) });
  assert.match(both, /at half its median saturation rate, CFS period 10 ms/);
  assert.match(both, /at half its median saturation rate, CFS period 100 ms/);
  assert.match(both, /then again on fresh rigs at 100 ms/);
});

test('--half-load-periods-ms: the searches\' period first, then the kernel\'s 100 ms, without repeats', () => {
  assert.deepEqual(halfLoadPeriods(undefined, 10), [10, 100]);
  assert.deepEqual(halfLoadPeriods(undefined, 100), [100]);
  assert.deepEqual(halfLoadPeriods('4, 10,4', 10), [4, 10]);
  assert.throws(() => halfLoadPeriods('0', 10), /half-load-periods-ms/);
});

test('--out: a bare name is a results file stem in bench/results, a path is a path stem, a trailing .md or .json is dropped', () => {
  const results = resolve('bench/results');
  assert.equal(outStemOf('cluster-q0.5'), join(results, 'cluster-q0.5'));
  assert.equal(outStemOf('cluster-q0.5.json'), join(results, 'cluster-q0.5'));
  assert.equal(outStemOf('/tmp/aw/run1.md'), '/tmp/aw/run1');
  assert.throws(() => outStemOf('somewhere/'), /--out: "somewhere\/" is not a file name or path stem/);
});

test('duplicate_from_engine: read from /metrics text, absent or 0 on every scrape passes, any count or no scrape at all fails', () => {
  const text = [
    '# HELP redis_engine_sync_events_total Per-channel ordering events',
    'redis_engine_sync_events_total{event="fill"} 4',
    'redis_engine_sync_events_total{event="duplicate"} 3',
    'redis_engine_sync_events_total{node="b",event="duplicate"} 2',
  ].join('\n');
  assert.equal(samplesNaming(text, 'duplicate_from_engine'), null, 'no sample names it: the guard is gone');
  assert.equal(samplesNaming(text + '\nhub_rejected_total{reason="duplicate_from_engine"} 0', 'duplicate_from_engine'), 0);
  assert.equal(samplesNaming(text + '\nhub_dropped_total{reason="duplicate_from_engine"} 7', 'duplicate_from_engine'), 7);
  assert.equal(counterOf(text, 'redis_engine_sync_events_total', ['event', 'duplicate']), 5, 'summed over the series with that label');
  assert.equal(counterOf(text, 'absent_total'), 0);

  const at = (counters: StepResult['engineCounters']) => step(2, 300, true, { engineCounters: counters });
  const gone = duplicateFromEngineCheck([at([{ duplicateFromEngine: null, engineDuplicates: 3 }, { duplicateFromEngine: null, engineDuplicates: 0 }])]);
  assert.equal(gone.met, true);
  assert.match(gone.actual, /absent in all 2 scrapes: the guard is gone; .* at most 3 per node/);
  assert.equal(duplicateFromEngineCheck([at([{ duplicateFromEngine: 0, engineDuplicates: 0 }, null])]).met, true, 'present at 0 passes; an unread node is counted, not failed');
  assert.match(duplicateFromEngineCheck([at([{ duplicateFromEngine: 0, engineDuplicates: 0 }, null])]).actual, /1 scrape\(s\) failed/);
  const counted = duplicateFromEngineCheck([at([{ duplicateFromEngine: null, engineDuplicates: 0 }]), at([{ duplicateFromEngine: 2, engineDuplicates: 0 }])]);
  assert.equal(counted.met, false);
  assert.match(counted.actual, /present in 1 of 2 scrapes, highest 2/);
  assert.equal(duplicateFromEngineCheck([at([null, null])]).met, false, 'never read is not shown met');
});

test('the quota\'d ladder starts at 40 % of one node\'s estimated saturation and scales with the quota, the rate and K', () => {
  const q15 = quotaLadder(0.15, 10, 1, false);
  const q25 = quotaLadder(0.25, 10, 1, false);
  assert.equal(q15[0], 280, 'floor: 0.4 × 4,700 × 0.15');
  assert.equal(q25[0], 470);
  assert.equal(q25.at(-1), 1590, 'top: 1.35 × the estimate');
  assert.deepEqual(q25.slice(0, 9), [470, 590, 650, 710, 760, 820, 880, 940, 1000], 'fine steps (about 8 %) where one node saturates');
  assert.ok(q25.every((v, i) => i === 0 || v > q25[i - 1]), 'strictly rising');
  assert.equal(q15.length, q25.length, 'as many steps whatever the quota');
  assert.deepEqual(quotaLadder(0.25, 20, 1, false), quotaLadder(0.25, 10, 2, false), 'double the rate or the channels: half the subscribers');
  assert.ok(quotaLadder(0.25, 10, 1, true).length < q25.length);
});

/** Attempts in the order given: each call of `measure` takes the next. */
function attemptsOf(...steps: StepResult[]) {
  return attemptsQuieting(true, ...steps);
}

/** As attemptsOf, with `quietens`: what waiting for quiet reports. */
function attemptsQuieting(quietens: boolean, ...steps: StepResult[]) {
  let i = 0;
  let quiets = 0;
  return {
    measure: async () => ({ ...steps[i++] }),
    quiet: async () => {
      quiets++;
      return quietens;
    },
    get measured() {
      return i;
    },
    get quiets() {
      return quiets;
    },
  };
}

const failing = (other: number, extra: Partial<StepResult> = {}) => step(1, 700, false, { transient: true, cpuPercent: { nodes: [24], redis: 1, receivers: [8, 8], publishers: [4], machine: 60 + other, other }, ...extra });

test('a step failing on a transient is run again up to --retries times; a pass ends it', async () => {
  const quiet = attemptsOf(failing(5), failing(5), step(1, 700, true));
  const got = await attemptStep(() => quiet.measure(), { retries: 2, disturbedReruns: 2 }, () => quiet.quiet());
  assert.deepEqual(got.map((s) => [s.pass, !!s.retried, !!s.retry, !!s.disturbed]), [
    [false, true, false, false],
    [false, true, true, false],
    [true, false, true, false],
  ]);
  assert.equal(quiet.quiets, 0, 'no wait for quiet when the machine was quiet');

  const exhausted = attemptsOf(failing(5), failing(5), failing(5), step(1, 700, true));
  const last = await attemptStep(() => exhausted.measure(), { retries: 2, disturbedReruns: 2 }, () => exhausted.quiet());
  assert.equal(last.length, 3, 'the first run and two retries, then the step has failed');
  assert.equal(last.at(-1)?.pass, false);
  assert.equal(last.at(-1)?.retried, undefined, 'the verdict is not marked as run again');
});

test('an attempt failing while other work took over 20 % of a core is rerun once the machine is quiet again, on top of the retries, at most --disturbed-reruns times', async () => {
  const busy = attemptsOf(failing(150), failing(150), failing(150), failing(5), failing(5));
  const got = await attemptStep(() => busy.measure(), { retries: 1, disturbedReruns: 2 }, () => busy.quiet());
  assert.deepEqual(got.map((s) => !!s.disturbed), [true, true, false, false], '2 disturbed reruns, then the third busy failure spends the retry');
  assert.equal(busy.quiets, 2);
  assert.equal(got.at(-1)?.pass, false);
  const r: ConfigResult = { ...search(1, 1, 0), ladder: got };
  assert.equal(retriesText(r), '3 (0), 2 disturbed');

  const sustained = attemptsQuieting(false, failing(150), failing(150), failing(150), step(1, 700, true));
  const held = await attemptStep(() => sustained.measure(), { retries: 2, disturbedReruns: 2 }, () => sustained.quiet());
  assert.equal(held.length, 3, 'busy throughout: no reruns beyond the retries (the pass that might follow is not drawn)');
  assert.ok(held.every((s) => !s.disturbed));
  assert.equal(held.at(-1)?.pass, false);

  const lost = attemptsOf(failing(150, { transient: false, lost: 3 }), step(1, 700, true));
  assert.equal((await attemptStep(() => lost.measure(), { retries: 2, disturbedReruns: 2 }, () => lost.quiet())).length, 1, 'a loss is never run again, busy or not');
});

test('below quota: the busiest node under 90 % of its quota and throttled in under half its periods; fresh-rig re-runs are counted with why', () => {
  const quota = { cores: 0.25, periodUs: 10_000 };
  const at = (cpu: number, throttled: number) => atQuota(step(2, 590, false, { cpuPercent: { ...step(2, 590, false).cpuPercent, nodes: [10, cpu] }, throttledPercent: [0, throttled] }), quota);
  assert.equal(at(18.6, 33.8), false, 'the 17:40 run\'s 1-node search 2 at 590: below quota');
  assert.equal(at(22.5, 10), true, '90 % of the quota');
  assert.equal(at(18, 50), true, 'throttled in half its periods');
  const r: ConfigResult = { ...search(1, 1, 200), freshRigReruns: [{ s: 300, why: 'busiest node at 74 % of its quota, throttled in 34 % of periods, p99 175 ms', passed: true }] };
  assert.equal(retriesText(r), '0 (0), 1 on a fresh rig (1 passed)');
  assert.equal(freshRigText(r), 's = 300 (busiest node at 74 % of its quota, throttled in 34 % of periods, p99 175 ms): passed');
  assert.equal(freshRigText(search(1, 1, 200)), 'none');
});

test('the rig warm-up runs its time, then on (up to 3×) until one of its steps passes', async () => {
  const run = (passes: boolean[]) => {
    const lengths: number[] = [];
    let i = 0;
    const step = async (ms: number) => {
      lengths.push(ms);
      const pass = passes[i++] ?? false;
      return { pass, latencyMs: latency(pass ? 20 : 80) };
    };
    return { step, lengths };
  };
  const warm = run([true, true, true]);
  assert.deepEqual(await warmUp(warm.step, { rigWarmupMs: 6000, stepDurationMs: 4000 }), [20, 20]);
  assert.deepEqual(warm.lengths, [4000, 2000], 'the time in steps of at most --step-duration');
  const cold = run([false, false, false, true]);
  assert.deepEqual(await warmUp(cold.step, { rigWarmupMs: 6000, stepDurationMs: 3000 }), [80, 80, 80, 20], 'on until a step passes');
  const never = run([]);
  assert.equal((await warmUp(never.step, { rigWarmupMs: 6000, stepDurationMs: 3000 })).length, 6, 'at most 3 × 6 s');
  assert.deepEqual(await warmUp(never.step, { rigWarmupMs: 0, stepDurationMs: 3000 }), [], 'none when off');
});

test('a ratio whose baseline met more other work (over 20 % of a core more, median over its steps) is not a valid figure', () => {
  const busyBase = (other: number) => ({ cpuPercent: { nodes: [12], redis: 1, receivers: [3, 3], publishers: [2], machine: 120 + other, other } });
  const ratioCheck = (baseOther: number, multiOther: number) =>
    summarize(opts, bySetup([search(1, 1, 300, busyBase(baseOther)), search(2, 1, 300, busyBase(multiOther))]), null).checks.find((c) => c.name.startsWith('2 nodes'))!;
  const unequal = ratioCheck(150, 110);
  assert.equal(unequal.met, false, '2× is the ideal, but the baseline ran on a busier machine');
  assert.match(unequal.actual, /met more other work \(median 150 against 110 % of a core\).*not a valid figure/);
  const even = ratioCheck(125, 110);
  assert.equal(even.met, true, '15 points apart is within the noise threshold');
  assert.doesNotMatch(even.actual, /more other work/);
});

test('publish phases: every node gets a lone node\'s even spacing; staggered shifts node n by n/N of it, aligned does not', () => {
  // K = 1, 10 msg/s: a period of 100 ms, 2 channels per node (A_n = 2n, B_n = 2n + 1).
  assert.deepEqual([...channelPhasesUs(1, 1, 10, 'staggered')], [[0, 0], [1, 50_000]], 'one node: 0 and 50 ms, as the round-robin publisher');
  const two = channelPhasesUs(2, 1, 10, 'staggered');
  assert.deepEqual([0, 1, 2, 3].map((c) => two.get(c)), [0, 50_000, 25_000, 75_000], 'node 1 fans out between node 0\'s fan-outs');
  const three = channelPhasesUs(3, 1, 10, 'staggered');
  for (let n = 0; n < 3; n++) assert.equal(three.get(2 * n + 1)! - three.get(2 * n)!, 50_000, `node ${n}: its two channels half a period apart`);
  assert.deepEqual([0, 2, 4].map((c) => Math.round(three.get(c)! / 1000)), [0, 17, 33]);
  assert.deepEqual([0, 1, 2, 3].map((c) => channelPhasesUs(2, 1, 10, 'aligned').get(c)), [0, 50_000, 0, 50_000]);
  // K = 2 at 20 msg/s: 4 channels per node, 12.5 ms apart, node 1 shifted 6.25 ms.
  assert.deepEqual([...channelPhasesUs(2, 2, 20, 'staggered').values()], [0, 12_500, 25_000, 37_500, 6_250, 18_750, 31_250, 43_750]);
});

test('the cross-node target on its own load shape: its K and publications per node named in the check and the page, the searches\' shape beside it', () => {
  const setups = bySetup([search(1, 1, 300), search(2, 1, 600)]);
  const target: HalfLoadResult = { ...halfOf([6, 7, 8]), periodMs: 10, channelsPerNode: 5, publicationsPerNodePerSec: 100 };
  const old: HalfLoadResult = { ...halfOf([20, 25, 30]), periodMs: 10, channelsPerNode: 1, publicationsPerNodePerSec: 20 };
  const checks = summarize(opts, setups, target, [old]).checks;
  const met = checks.find((c) => c.name.includes('cross-node publish→client p99'))!;
  assert.match(met.name, /K = 5: 10 channels, 100 publications\/s per node/);
  assert.equal(met.met, true);
  const beside = checks.find((c) => c.name.includes('K = 1: 2 channels, 20 publications/s per node'))!;
  assert.equal(beside.target, 'none (reported)', 'the old shape is reported, not judged');
  assert.match(beside.actual, /cross-node 25 ms .*the target's steps, K = 5, 10 ms period: cross-node 7 ms/);
  const page = renderMarkdown({
    date: 'now', wallSeconds: 1, mode: 'quota', machine: { cpus: 2, cpuModel: 'x', node: 'v20', loadAverageBefore: [1, 1, 1], loadAverageAfter: [1, 1, 1] },
    options: { channelsPerNode: 1, channelRate: 10, payloadBytes: 200, durationMs: 5000, stepDurationMs: 3000, warmupMs: 1000, p99LimitMs: 50, quota: { cores: 0.25, periodUs: 10000 }, ladder: [100, 200], fixedSubscribers: 300, repeat: 1, halfLoadSteps: 3, halfLoadPeriodsMs: [10], halfLoadChannelsPerNode: 5, phases: 'staggered' },
    setups, halfLoad: target, halfLoadOtherPeriods: [old], failures: [], summary: summarize(opts, setups, target, [old]),
  });
  assert.match(page, /at half its median saturation rate, K = 5: 10 channels, 100 publications\/s per node, CFS period 10 ms/);
  assert.match(page, /at half its median saturation rate, K = 1: 2 channels, 20 publications\/s per node, CFS period 10 ms/);
  assert.match(page, /on the target's load shape, K = 5/);
  assert.match(page, /Publish phases staggered/);
});

test('node CPU per delivery at the saturation steps and the rig\'s own CPU there: reported per setup, against the baseline\'s', () => {
  const at = (us: number, machine: number, other: number) => ({ cpuUsPerDelivery: { nodes: us, redis: 1, generators: us }, cpuPercent: { nodes: [20], redis: 1, receivers: [10], publishers: [3], machine, other } });
  const setups = bySetup([search(1, 1, 700, at(14, 48, 4)), search(3, 1, 700, at(15.4, 142, 6))]);
  const checks = summarize(opts, setups, null).checks.filter((c) => c.name.includes('at the saturation steps, and the rig'));
  assert.equal(checks.length, 2);
  assert.match(checks[0].actual, /^14 µs .*the rig 44 % \(44–44 %; runs 44\) of \d+00 %$/);
  assert.match(checks[1].actual, /^15\.4 µs .*\(110 % of 1 node redis @0\.15's\); the rig 136 % /);
  assert.ok(checks.every((c) => c.target === 'none (reported)' && c.met));
});
