/**
 * The scavenger switch (src/core/scavenger.ts, which `serve` and the market benchmark use) and the
 * GC trace reader (bench/market/gc-nvp.ts): as `serve` applies it, no scavenge has helper-thread
 * time (against a control with node's `--parallel-scavenge`, where helpers copy), and a bench log is split into
 * one phase summary per rung, each rung's GC lines being those printed before its result line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { byRung, parseMarkCompact, parseNvp, slowPhase, summarise, unclaimedMs } from '../../bench/market/gc-nvp.js';

const gcMode = new URL('../../src/core/scavenger.ts', import.meta.url).href;

/**
 * A child's --trace-gc-nvp lines while it keeps a few MB of young objects alive across scavenges,
 * from the switch on (loading tsx scavenges before it, in the default mode). The young generation
 * is pinned (4 MB semi-spaces): left to V8's growth heuristics the number of scavenges, and of
 * helper tasks per scavenge (one per MB of new space), depends on the machine; pinned, ~120 MB
 * of allocation gives dozens of scavenges, each with MBs to copy and up to five tasks.
 */
function traceScavenges(execArgv: string[]): string[] {
  const script = `
    import { applyServerScavenger } from ${JSON.stringify(gcMode)};
    console.log('mode', applyServerScavenger(${JSON.stringify(execArgv)}));
    console.log('switched');
    let live = [];
    for (let i = 0; i < 2e6; i++) {
      live.push({ i, s: 'x' + i });
      if (live.length > 60000) live = [];
    }`;
  const out = execFileSync(process.execPath, ['--trace-gc-nvp', '--min-semi-space-size=4', '--max-semi-space-size=4', '--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const lines = out.split('\n');
  return lines.slice(lines.indexOf('switched'));
}

test('serve\'s scavenger: no scavenge waits for or uses a helper thread; with --parallel-scavenge helpers do copy', () => {
  const serial = summarise(traceScavenges([]));
  assert.ok(serial.count >= 10, `scavenges traced: ${serial.count}`);
  assert.equal(serial.phases['background.scavenge.parallel'].max, 0, 'helper time in a serial scavenge');
  const parallel = summarise(traceScavenges(['--parallel-scavenge']));
  assert.ok(parallel.count >= 10, `scavenges traced: ${parallel.count}`);
  assert.ok(parallel.phases['background.scavenge.parallel'].max > 0, 'the control: helper threads copied in the default mode');
});

test('parseNvp reads a scavenge line and leaves other collections out', () => {
  const line =
    '[8008:0x17dae190]      736 ms: pause=27.8 mutator=682.7 gc=s reduce_memory=0 time_to_safepoint=0.00 scavenge=23.27 scavenge.roots=0.17 scavenge.parallel=22.87 background.scavenge.parallel=22.79 new_space_survived=464792';
  const f = parseNvp(line)!;
  assert.equal(f.at, 736);
  assert.equal(f.pause, 27.8);
  assert.equal(f['scavenge.parallel'], 22.87);
  assert.equal(f['background.scavenge.parallel'], 22.79);
  assert.equal(f.new_space_survived, 464792);
  assert.equal(parseNvp(line.replace('gc=s', 'gc=mc')), null);
  assert.equal(parseNvp('# bare ladder: no subscribers'), null);
});

test('byRung gives each rung the scavenges printed before its result line, and counts the long ones by phase', () => {
  const scavenge = (at: number, pause: number, parallel: number) => `[1:0xa] ${at} ms: pause=${pause} gc=s scavenge.roots=0.1 scavenge.parallel=${parallel} background.scavenge.parallel=0 new_space_survived=6000`;
  const rung = (mode: string) => JSON.stringify({ offeredMsgsPerSec: 10000, gcMode: mode, gcPauseP99Ms: 1, load: [1, 1, 1] });
  const rungs = byRung([scavenge(1, 30, 29), scavenge(2, 0.5, 0.2), rung('parallel'), scavenge(3, 0.4, 0.1), scavenge(4, 5, 0.1), scavenge(5, 0.6, 0.3), rung('serial'), scavenge(6, 9, 9)]);
  assert.equal(rungs.length, 2, 'the scavenge after the last rung line belongs to no rung');
  assert.match(rungs[0].rung, /^10000 parallel/);
  assert.deepEqual([rungs[0].summary.count, rungs[0].summary.over2ms, rungs[0].summary.over2msMostlyParallel], [2, 1, 1]);
  assert.deepEqual([rungs[1].summary.count, rungs[1].summary.over2ms, rungs[1].summary.over2msMostlyParallel], [3, 1, 0]);
  assert.equal(rungs[1].summary.phases.pause.max, 5);
});

test('with window markers, a rung counts only the scavenges of its window, not its settling time', () => {
  const scavenge = (at: number, pause: number) => `[1:0xa] ${at} ms: pause=${pause} gc=s scavenge.roots=0.1 scavenge.parallel=0.5 background.scavenge.parallel=0 new_space_survived=6000`;
  const rung = () => JSON.stringify({ offeredMsgsPerSec: 1000, gcPauseP99Ms: 1, load: [1, 1, 1] });
  const rungs = byRung([scavenge(1, 400), '# window start', scavenge(2, 30), '# window start', scavenge(3, 0.9), scavenge(4, 1.1), rung(), scavenge(5, 50), rung()]);
  assert.deepEqual(rungs.map((r) => [r.summary.count, r.summary.phases.pause.max]), [[2, 1.1], [1, 50]]);
});

test('a rung measured in a CPU placement is named by it, with its main thread\'s wait for a core', () => {
  const line = JSON.stringify({ offeredMsgsPerSec: 10000, cpuMode: 'pinned', gcPauseP99Ms: 1.5, mainThreadWait: { waitMsPerSec: 12.5, waitUsPerSlice: 40 }, load: [2, 1, 1] });
  assert.equal(byRung([line])[0].rung, '10000 pinned (perf_hooks p99 1.50 ms, main thread waited 12.5 ms/s, load 2/1/1)');
});

test('a slow scavenge is charged to the phase furthest above its median, or to the time no phase claims', () => {
  const median = { unclaimed: 0.1, 'scavenge.roots': 0.05, 'scavenge.parallel': 0.6, 'scavenge.sweep_array_buffers': 0.03 };
  const f = (pause: number, roots: number, parallel: number, sweep: number) => ({ pause, 'scavenge.roots': roots, 'scavenge.parallel': parallel, 'scavenge.sweep_array_buffers': sweep });
  assert.equal(slowPhase(f(7.3, 0.04, 1.38, 5.35), median), 'scavenge.sweep_array_buffers');
  assert.equal(slowPhase(f(5.9, 0.05, 5.47, 0.03), median), 'scavenge.parallel');
  assert.equal(slowPhase(f(3.6, 0.04, 0.58, 0.25), median), 'unclaimed');
  assert.equal(slowPhase(f(4, 2.5, 0.7, 0.03), median), 'scavenge.roots');
  const scavenge = (pause: number, parallel: number, sweep: number, survived: number) => `[1:0xa] 1 ms: pause=${pause} gc=s scavenge.roots=0.05 scavenge.parallel=${parallel} scavenge.sweep_array_buffers=${sweep} new_space_survived=${survived}`;
  const s = summarise([scavenge(1, 0.6, 0.03, 40000), scavenge(1.1, 0.7, 0.03, 50000), scavenge(0.9, 0.6, 0.02, 30000), scavenge(7.3, 1.4, 5.4, 90000), scavenge(6, 5.5, 0.03, 300000)]);
  assert.deepEqual(s.over2msByPhase, { 'scavenge.sweep_array_buffers': 1, 'scavenge.parallel': 1 });
  assert.equal(s.over2msSurvivedP50, 90000, "nearest rank: the lower of two");
});

test('the unclaimed time is the pause less every listed phase, a phase a line lacks counting as 0', () => {
  assert.equal(unclaimedMs({ pause: 3, time_to_safepoint: 0.5, 'scavenge.roots': 0.25, 'scavenge.parallel': 1, background: 9 }), 1.25);
  assert.equal(unclaimedMs({ pause: 0.75 }), 0.75);
});

test('a rung lists the measured isolate\'s mark-compacts, each saying whether the memory reducer started it', () => {
  const scavenge = (isolate: string, at: number) => `[1:${isolate}] ${at} ms: pause=0.9 gc=s scavenge.roots=0.1 scavenge.parallel=0.5 background.scavenge.parallel=0 new_space_survived=6000`;
  const markCompact = (isolate: string, at: number, pause: number, reduce: 0 | 1) => `[1:${isolate}] ${at} ms: pause=${pause} mutator=3.1 gc=mc reduce_memory=${reduce} mark=0.3 evacuate=10.5`;
  const rung = () => JSON.stringify({ offeredMsgsPerSec: 10000, gcPauseP99Ms: 1, load: [1, 1, 1] });
  assert.deepEqual(parseMarkCompact(markCompact('0xa', 7, 25.7, 1)), { at: 7, pause: 25.7, reduceMemory: true, isolate: '0xa' });
  assert.equal(parseMarkCompact(scavenge('0xa', 1)), null);
  // 0xa prints most lines (the measured process); 0xb, a loader thread, has a mark-compact of its own.
  const rungs = byRung([scavenge('0xa', 1), markCompact('0xa', 2, 19.3, 0), scavenge('0xa', 3), rung(), scavenge('0xa', 4), markCompact('0xb', 5, 67.5, 1), scavenge('0xb', 6), markCompact('0xa', 7, 25.7, 1), rung()]);
  assert.deepEqual(rungs.map((r) => r.markCompacts.map((m) => [m.pause, m.reduceMemory])), [[[19.3, false]], [[25.7, true]]]);
});
