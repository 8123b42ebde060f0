/**
 * @module bench/market
 * `npm run bench -- market [--parts hot,truth,ladder,ccxt,soak,bare] [--symbols 50] [--subscribers 1000]
 * [--rates 1000,10000,30000,100000] [--step-seconds 8] [--soak-seconds 60] [--soak-rate 2000]
 * [--truth-diffs 1000000] [--ccxt-seconds 15] [--ccxt-symbols 10] [--ccxt-rate 1000]
 * [--cpu-profile file.cpuprofile] [--heap-profile file.heapprofile | --heap-survivors file.heapprofile]
 * [--gateway-cpu-quota 1] [--tape]
 * [--gc-modes parallel,serial] [--gc-pauses 100] [--gc-max-seconds 60] [--node-flags "--no-memory-reducer"]
 * [--cpu-modes shared,pinned,owned] [--ab-sweeps concurrent,main]`
 *
 * 1. hot: parse ns and bytes allocated per message, field scanner vs JSON.parse, and the lean
 *    pipeline vs the straightforward one (a child with --expose-gc and a fixed young generation).
 * 2. truth: the Binance sync against simulator truth over 1,000,000 diffs with faults.
 * 3. ladder: 50 symbols × 3 venues, one simulator process per venue, the gateway + hub here,
 *    `--subscribers` hub clients in 4 processes. Warm-up first: every book synced and the feed
 *    running before anything is measured. Then the rate ladder in venue messages/s (feed messages
 *    the simulators write): per rung, internal latency (venue message received → handed to the
 *    hub), end to end (venue send time → subscriber receive in another process), GC pause p99,
 *    event-loop utilisation; the first rung the gateway cannot keep up with is the saturation point.
 * 4. ccxt: CCXT Pro watchOrderBook and one of our hub clients, each in its own process, on the
 *    same simulator feed and the same symbols: book updates/s and venue event → client latency.
 * 5. soak: a steady rate for `--soak-seconds`, p99 and RSS per window, slopes reported.
 * 6. bare: the ladder again with no hub subscriber (`--bare-rates`): the gateway's own ceiling.
 * 7. idle: `AIRWAVES_APPS=market` with default configuration, nobody connected, CPU over
 *    `--idle-seconds` (idle.ts); then with one book subscriber.
 * `--gateway-cpu-quota <cores>`: the gateway + hub (this process) in a cgroup v1 CPU group of its
 * own with that quota, the simulators and subscribers in another (rig.ts). `--tape`: each rung's
 * feed is rendered ahead and played at the rung's rate (feed-tape.ts), so the offered rate is not
 * capped by the simulators' CPU; the rung reports how late the playing ran and any resync.
 * `--gc-modes`: each rung is measured once per scavenger mode, in turn, on the same rig (src/core/scavenger.ts:
 * `parallel` is V8's default, helper threads copy with the main thread; `serial`, the main thread
 * alone): on a loaded machine, back-to-back windows are the only fair comparison. The default is
 * the mode the server runs in (src/core/scavenger.ts). `--trace-gc-nvp` on the bench's node and
 * gc-nvp.ts on its output split each scavenge into its phases.
 * `--gc-pauses`: a rung's window (live feed, not `--tape`) goes on past `--step-seconds` until it
 * has seen that many GC pauses, up to `--gc-max-seconds`: at 1k venue msg/s a scavenge comes every
 * ~2.5 s, so an 8 s window's "p99" was the worst of 3 pauses. The report gives each rung's pause
 * count beside its p99 and max, and a p99 pooled over the unsaturated rungs of 1k–10k msg/s.
 * `--node-flags`: node start-up flags for the measured process, which is this one (node-flags.ts:
 * the bench starts itself again under node with them); the report names the flags it ran with.
 * `--cpu-modes shared,pinned`: each rung is measured once per CPU placement, back to back on one rig,
 * the order flipped from rung to rung (cpuset.ts): `shared`, every process on every CPU; `pinned`,
 * the gateway + hub alone on CPU 0 and the simulators + subscribers on CPU 1 (cgroup v1 cpusets
 * `aw-market8-*`; a clear error when the controller is not writable); `owned`, pinned with each side
 * also weighted (cpu.shares 65536) over other work on its core. The GC verdict is given per placement.
 * `--ab-sweeps concurrent,main`: the same, window by window, for who sweeps the young ArrayBuffers
 * (ab-sweep.ts: V8's worker thread, or the main thread in the pause).
 * Profiles (`--cpu-profile`, `--heap-profile`) cover the rungs of the ladders run, nothing else,
 * one file per ladder (`x.cpuprofile` → `x.ladder.cpuprofile`, `x.bare.cpuprofile`).
 * Results: bench/results/market.json and .md, with load averages.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync, existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { availableParallelism } from 'node:os';
import { checkBinanceAgainstTruth } from '../../src/apps/market/simulator/truth-check.js';
import { percentile } from '../shared/percentile.js';
import { MarketRig, forkTs, load, nextMessage, sleep, type Window } from './rig.js';
import { renderMarkdown, type MarketResults, type Rung } from './report.js';
import { startProfiles, type ProfileFiles } from './profile.js';
import { measureIdle } from './idle.js';
import { ensureNodeFlags, ownNodeFlags } from './node-flags.js';
import { AB_SWEEPS, parseAbSweep, setAbSweep, type AbSweep } from './ab-sweep.js';
import { CoreSplit, parseCpuMode, type CpuMode } from './cpuset.js';
import { SERVER_SCAVENGER, setScavenger, type ScavengerMode } from '../../src/core/scavenger.js';

const here = new URL('.', import.meta.url);

/** Least-squares slope of y over x. */
export function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0, den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}
const pcts = (xs: number[]) => {
  const s = xs.slice().sort((a, b) => a - b);
  return { p50: percentile(s, 50), p99: percentile(s, 99), p999: percentile(s, 99.9) };
};

/** Why a rung is past saturation, or null if the gateway kept up. */
function saturation(w: Window, offeredMsgs: number): string | null {
  if (w.venueSentPerSec < 0.8 * offeredMsgs) return `the simulators could not produce the offered rate (${w.venueSentPerSec} of ${offeredMsgs} msg/s)`;
  if (w.venueReceivedPerSec < 0.95 * w.venueSentPerSec) return `the gateway fell behind the venues (received ${w.venueReceivedPerSec} of ${w.venueSentPerSec} msg/s sent)`;
  if (w.internalMs.p99 > 100 || w.endToEndMs.p99 > 1000) return 'latency above 100 ms internal / 1 s end to end p99';
  return null;
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      parts: { type: 'string', default: 'hot,truth,ladder,ccxt,soak,bare' },
      symbols: { type: 'string', default: '50' },
      subscribers: { type: 'string', default: '1000' },
      rates: { type: 'string', default: '1000,10000,30000,100000' },
      'bare-rates': { type: 'string', default: '10000,30000,60000,100000' },
      'step-seconds': { type: 'string', default: '8' },
      'soak-seconds': { type: 'string', default: '60' },
      'soak-rate': { type: 'string', default: '2000' },
      'soak-window': { type: 'string', default: '10' },
      'truth-diffs': { type: 'string', default: '1000000' },
      'ccxt-seconds': { type: 'string', default: '15' },
      'ccxt-symbols': { type: 'string', default: '10' },
      'ccxt-rate': { type: 'string', default: '1000' },
      out: { type: 'string', default: 'bench/results/market' },
      'cpu-profile': { type: 'string', default: '' },
      'heap-profile': { type: 'string', default: '' },
      'heap-survivors': { type: 'string', default: '' },
      'gateway-cpu-quota': { type: 'string', default: '' },
      tape: { type: 'boolean', default: false },
      'idle-seconds': { type: 'string', default: '60' },
      'gc-modes': { type: 'string', default: SERVER_SCAVENGER },
      'gc-pauses': { type: 'string', default: '100' },
      'gc-max-seconds': { type: 'string', default: '60' },
      'node-flags': { type: 'string', default: '' },
      'cpu-modes': { type: 'string', default: 'shared' },
      'ab-sweeps': { type: 'string', default: AB_SWEEPS[0] },
    },
  });
  ensureNodeFlags(values['node-flags'], argv);
  profileFiles = { cpu: values['cpu-profile'] || undefined, heap: values['heap-profile'] || undefined, survivors: values['heap-survivors'] || undefined };
  quota = values['gateway-cpu-quota'] ? Number(values['gateway-cpu-quota']) : null;
  tape = values.tape;
  gcModes = values['gc-modes'].split(',').map(parseScavengerMode);
  cpuModes = values['cpu-modes'].split(',').map(parseCpuMode);
  abSweeps = values['ab-sweeps'].split(',').map(parseAbSweep);
  gcWindow = { pauses: Number(values['gc-pauses']), maxSeconds: Number(values['gc-max-seconds']) };
  setScavenger(gcModes[0]); // the warm-up, the CCXT comparison and the soak run as the server does
  const { tape: _tape, ...stringValues } = values;
  const parts = new Set(values.parts.split(','));
  const symbols = Number(values.symbols);
  // A partial run keeps the other parts' last figures (the report says when each was measured).
  const previous: Partial<MarketResults> = existsSync(`${values.out}.json`) ? (JSON.parse(readFileSync(`${values.out}.json`, 'utf8')) as Partial<MarketResults>) : {};
  const results = { ...previous, cpuModes: undefined, startedAt: new Date().toISOString(), loadAtStart: load(), cores: availableParallelism(), nodeFlags: ownNodeFlags(), options: { ...stringValues, tape: String(tape) }, parts: [...parts] } as MarketResults;

  if (parts.has('hot')) {
    console.log('# hot path: parse and allocation');
    const hot = execFileSync(process.execPath, ['--expose-gc', '--min-semi-space-size=256', '--max-semi-space-size=256', '--import', 'tsx', new URL('hot-path.ts', here).pathname, '20000'], { encoding: 'utf8' });
    results.hotPath = { ...JSON.parse(hot.trim().split('\n').pop()!), load: load(), at: new Date().toISOString() };
    console.log(JSON.stringify(results.hotPath));
  }
  if (parts.has('truth')) {
    console.log(`# truth: ${values['truth-diffs']} diffs`);
    results.truth = { ...checkBinanceAgainstTruth({ diffs: Number(values['truth-diffs']) }), load: load(), at: new Date().toISOString() };
    console.log(JSON.stringify({ ...results.truth, mismatches: results.truth.mismatches.length }));
  }
  if (parts.has('idle')) {
    console.log(`# idle: AIRWAVES_APPS=market, ${values['idle-seconds']} s`);
    results.idle = await measureIdle(Number(values['idle-seconds']), true);
    console.log(JSON.stringify(results.idle));
  }
  if (!parts.has('ladder') && !parts.has('ccxt') && !parts.has('soak') && !parts.has('bare')) return write(results, values.out);

  if (parts.has('ladder') || parts.has('ccxt') || parts.has('soak')) await withSubscribers(results, parts, stringValues);
  if (parts.has('bare')) {
    // The same ladder with no hub subscriber: what the gateway alone (parse → books → hub
    // publish, no fan-out) sustains, to tell its cost from the fan-out's.
    console.log('# bare ladder: no subscribers');
    const bare = new MarketRig(symbols, quota);
    await bare.start();
    placeRig(bare, results);
    bare.setRate(2);
    while (!bare.allLive()) await sleep(250);
    const c = await bare.measure(3);
    const ratio = c.venueSentPerSec / Math.max(1, c.simUpdatesPerSec);
    console.log(`# bare calibration: ${c.simUpdatesPerSec} updates/s, ${c.venueSentPerSec} msgs/s sent`);
    results.bareLadder = await runLadder(bare, values['bare-rates'], Number(values['step-seconds']), (m) => m / (ratio * symbols * 3), 'bare');
    results.bareLadderAt = new Date().toISOString();
    await closeRig(bare);
  }
  coreSplit?.remove();
  write(results, values.out);
}

type Values = Record<string, string>;
let profileFiles: ProfileFiles = {};
let quota: number | null = null;
let tape = false;
let gcModes: ScavengerMode[] = [SERVER_SCAVENGER];
let cpuModes: CpuMode[] = ['shared'];
let abSweeps: AbSweep[] = [AB_SWEEPS[0]];
/** The rig's cpusets while `--cpu-modes` names `pinned`. */
let coreSplit: CoreSplit | null = null;

/** With `pinned` or `owned` among the CPU modes: makes the cpusets (or fails with what to do) and names the placements in the results. */
function placeRig(rig: MarketRig, results: MarketResults): void {
  if (cpuModes.every((mode) => mode === 'shared')) return; // `pinned` and `owned` both need the cpusets
  coreSplit ??= CoreSplit.create();
  results.cpuModes = Object.fromEntries(cpuModes.map((mode) => [mode, coreSplit!.describe(mode)]));
  applyCpuMode(rig, cpuModes[0]);
}

function applyCpuMode(rig: MarketRig, mode: CpuMode): void {
  const loadPids = [...rig.sims.values(), ...rig.subs].map((c) => c.pid).filter((pid): pid is number => pid !== undefined);
  coreSplit?.apply(mode, process.pid, loadPids);
}

async function closeRig(rig: MarketRig): Promise<void> {
  if (coreSplit) applyCpuMode(rig, 'shared');
  await rig.close();
}
/** How many GC pauses a rung's window waits for, and its longest extension (`--gc-pauses`, `--gc-max-seconds`). */
let gcWindow = { pauses: 0, maxSeconds: 0 };

function parseScavengerMode(mode: string): ScavengerMode {
  if (mode !== 'parallel' && mode !== 'serial') throw new Error(`--gc-modes: '${mode}' is neither parallel nor serial`);
  return mode;
}

/** Warm-up, subscribers, then the CCXT comparison, the ladder and the soak on one rig. */
async function withSubscribers(results: MarketResults, parts: Set<string>, values: Values): Promise<void> {
  const symbols = Number(values.symbols);
  const rig = new MarketRig(symbols, quota);
  await rig.start();
  placeRig(rig, results);
  // Warm-up: a gentle feed until every book is synced (150 snapshots within Binance's REST weight
  // budget), then 5 s more so the JIT has compiled the hot path before anything is measured.
  rig.setRate(2);
  const warmStart = performance.now();
  while (!rig.allLive() && performance.now() - warmStart < 120_000) await sleep(250);
  console.log(`# warm-up: ${rig.liveCount()} of ${symbols * 3} books live after ${((performance.now() - warmStart) / 1000).toFixed(1)} s`);
  if (!rig.allLive()) throw new Error('warm-up: not every book synced within 120 s');
  await rig.startSubscribers(Number(values.subscribers), 4);
  const calib = await rig.measure(5);
  const msgsPerUpdate = calib.venueSentPerSec / Math.max(1, calib.simUpdatesPerSec);
  results.warmup = { seconds: (performance.now() - warmStart) / 1000, msgsPerUpdate, window: calib };
  console.log(`# ${symbols} symbols x 3 venues, ${rig.subs.length} subscriber processes; ${msgsPerUpdate.toFixed(2)} feed messages per book update`);
  const perVenueSymbol = (msgsPerSec: number) => msgsPerSec / (msgsPerUpdate * symbols * 3);

  if (parts.has('ccxt')) {
    console.log('# beside CCXT Pro');
    const rate = perVenueSymbol(Number(values['ccxt-rate']));
    rig.setRate(rate);
    await sleep(2000);
    const binanceUrls = rig.gateway.options.venues.binance!;
    const run = async (file: string, args: string[]) => {
      const child = forkTs(file, args);
      const started = nextMessage(child, (m: { started?: boolean }) => m.started === true, 60_000);
      const done = nextMessage<{ updates: number; seconds: number; latencies: number[]; errors: string[] }>(child, (m) => 'updates' in m, 120_000);
      await started;
      return done;
    };
    const seconds = values['ccxt-seconds'];
    const [theirs, ours] = await Promise.all([
      run('ccxt-process.ts', [binanceUrls.rest, binanceUrls.ws, values['ccxt-symbols'], seconds]),
      run('book-watcher.ts', [rig.wsUrl, values['ccxt-symbols'], seconds]),
    ]);
    results.ccxt = {
      symbols: Number(values['ccxt-symbols']),
      feedMsgsPerSec: Number(values['ccxt-rate']),
      bookUpdatesPerSecPerSymbol: rate,
      ccxt: { updatesPerSec: theirs.updates / theirs.seconds, latencyMs: pcts(theirs.latencies), errors: theirs.errors },
      ours: { updatesPerSec: ours.updates / ours.seconds, latencyMs: pcts(ours.latencies), errors: ours.errors },
      load: load(),
      at: new Date().toISOString(),
    };
    console.log(JSON.stringify(results.ccxt));
  }

  if (parts.has('ladder')) {
    results.ladder = await runLadder(rig, values.rates, Number(values['step-seconds']), perVenueSymbol, 'ladder');
    results.ladderAt = new Date().toISOString();
  }

  if (parts.has('soak')) {
    const soakSeconds = Number(values['soak-seconds']);
    const windowSeconds = Number(values['soak-window']);
    rig.setRate(perVenueSymbol(Number(values['soak-rate'])));
    await sleep(3000); // drain whatever the ladder left queued
    const windows: (Window & { t: number })[] = [];
    const t0 = performance.now();
    while (performance.now() - t0 < soakSeconds * 1000) {
      const w = await rig.measure(windowSeconds);
      windows.push({ t: (performance.now() - t0) / 1000, ...w });
      if (windows.length % 6 === 0) console.log(`# soak ${Math.round(windows.at(-1)!.t)} s: internal p99 ${w.internalMs.p99} ms, e2e p99 ${w.endToEndMs.p99} ms, rss ${w.rssMb} MB, load ${w.load[0]}`);
    }
    const t = windows.map((w) => w.t / 60);
    results.soak = {
      seconds: soakSeconds,
      msgsPerSec: Number(values['soak-rate']),
      windows,
      internalP99SlopeMsPerMin: slope(t, windows.map((w) => w.internalMs.p99)),
      endToEndP99SlopeMsPerMin: slope(t, windows.map((w) => w.endToEndMs.p99)),
      rssSlopeMbPerMin: slope(t, windows.map((w) => w.rssMb)),
      heapSlopeMbPerMin: slope(t, windows.map((w) => w.heapMb)),
      load: load(),
      at: new Date().toISOString(),
    };
    console.log(JSON.stringify({ ...results.soak, windows: windows.length }));
  }
  await closeRig(rig);
}

/** Climbs the rates (venue msg/s) until the first rung the gateway cannot keep up with. */
async function runLadder(rig: MarketRig, rates: string, stepSeconds: number, perVenueSymbol: (msgs: number) => number, name: string): Promise<Rung[]> {
  const rungs: Rung[] = [];
  // One file per ladder: x.cpuprofile → x.ladder.cpuprofile, x.bare.cpuprofile.
  const named = (file?: string) => file?.replace(/(\.[a-z]+)?$/, (ext) => `.${name}${ext}`);
  const stopProfiles = await startProfiles({ cpu: named(profileFiles.cpu), heap: named(profileFiles.heap), survivors: named(profileFiles.survivors) });
  for (const [step, offered] of rates.split(',').map(Number).entries()) {
    // With several scavenger modes or CPU placements, one window each back to back: the same load
    // for each. The placements' order flips every rung, so neither always follows the other.
    const placements = step % 2 === 0 ? cpuModes : cpuModes.slice().reverse();
    for (const cpuMode of placements) {
      applyCpuMode(rig, cpuMode);
      for (const abSweep of abSweeps)
        for (const gcMode of gcModes) {
          setScavenger(gcMode);
          setAbSweep(abSweep);
          const rung = await measureRung(rig, offered, stepSeconds, perVenueSymbol);
          if (gcModes.length > 1) rung.gcMode = gcMode;
          if (cpuModes.length > 1 || cpuMode !== 'shared') rung.cpuMode = cpuMode;
          if (abSweeps.length > 1 || abSweep !== AB_SWEEPS[0]) rung.abSweep = abSweep;
          rungs.push(rung);
          console.log(JSON.stringify(rung));
        }
    }
    const saturated = rungs.filter((r) => r.offeredMsgsPerSec === offered).find((r) => r.saturated)?.saturated;
    if (saturated) {
      console.log(`# saturated at ${offered} msg/s: ${saturated}`);
      break;
    }
  }
  setScavenger(SERVER_SCAVENGER);
  setAbSweep(AB_SWEEPS[0]);
  await stopProfiles();
  return rungs;
}

/** One rung: the rate offered (live simulators, or tapes with `--tape`), settled, then one window. */
async function measureRung(rig: MarketRig, offered: number, stepSeconds: number, perVenueSymbol: (msgs: number) => number): Promise<Rung> {
  if (tape) {
    // 2 s to settle, the window, 1 s spare; then wait for the tape's end and 1 s to drain.
    const t = await rig.playTape(offered, stepSeconds + 3);
    await sleep(Math.max(0, t.at - (performance.timeOrigin + performance.now())) + 2000);
    const w = await rig.measure(stepSeconds);
    const played = await t.done;
    await sleep(1000);
    const closedTracks = played.map((p) => p.closedTracks);
    // A venue connection that closed under the tape got none of it after: not a saturation figure.
    const broken = closedTracks.some((n) => n > 0) ? `a venue connection closed while its tape played (${closedTracks.join('/')})` : null;
    return { offeredMsgsPerSec: offered, ...w, saturated: broken ?? saturation(w, offered), tape: { renderMs: t.renderMs, startedLateMs: Math.round(t.at - t.startAt), maxLagMs: played.map((p) => p.maxLagMs), closedTracks } };
  }
  rig.setRate(perVenueSymbol(offered));
  await sleep(2000); // settle at the new rate
  const w = await rig.measure(stepSeconds, gcWindow.pauses, Math.max(stepSeconds, gcWindow.maxSeconds));
  return { offeredMsgsPerSec: offered, ...w, saturated: saturation(w, offered) };
}

function write(results: MarketResults, out: string): void {
  results.loadAtEnd = load();
  writeFileSync(`${out}.json`, JSON.stringify(results, null, 2) + '\n');
  writeFileSync(`${out}.md`, renderMarkdown(results));
  console.log(`# wrote ${out}.json and .md`);
  process.exit(0);
}
