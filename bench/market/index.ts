/**
 * @module bench/market
 * `npm run bench -- market [--symbols 50] [--subscribers 1000] [--rates 20,50,100,200,400]
 * [--step-seconds 8] [--soak-seconds 60] [--truth-diffs 1000000] [--ccxt-seconds 10]`
 *
 * 1. Hot path: parse ns and bytes allocated per message, field scanner vs JSON.parse, and the lean
 *    pipeline vs the straightforward one (a child with --expose-gc and a fixed young generation).
 * 2. Book correctness: the Binance sync against simulator truth over 1,000,000 diffs with faults.
 * 3. Gateway: the simulator in its own process (50 symbols × 3 venues) at increasing rates;
 *    our gateway + hub in this process; `--subscribers` hub clients in 4 processes over loopback
 *    sockets. Per step: venue messages/s, internal latency tsRecv → hub publish (p50/p99/p99.9),
 *    subscriber-side latency tsRecv → client, GC pause p99.
 * 4. Soak: a steady rate for `--soak-seconds`, p99 per 5 s window and heap; slopes reported.
 * 5. Peer: CCXT Pro watchOrderBook in its own process on the same simulator, beside our gateway.
 * Results: bench/results/market.json and .md, with load averages.
 */
import { fork, execFileSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { PerformanceObserver } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { createServer } from '../../src/server.js';
import { createLogger } from '../../src/core/logger.js';
import { createRegistry } from '../../src/core/metrics.js';
import { MarketGateway } from '../../src/apps/market/gateway.js';
import { MARKET_NAMESPACE } from '../../src/apps/market/index.js';
import { checkBinanceAgainstTruth } from '../../src/apps/market/simulator/truth-check.js';
import { nowMs, syntheticSymbols } from '../../src/apps/market/types.js';
import type { VenueUrls } from '../../src/apps/market/simulator/server.js';
import { percentile } from '../shared/percentile.js';
import { renderMarkdown, type MarketResults, type StepResult } from './report.js';

const here = new URL('.', import.meta.url);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const load = () => loadavg().map((l) => Number(l.toFixed(2)));

function forkTs(file: string, args: string[]): ChildProcess {
  return fork(new URL(file, here).pathname, args, { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}
function nextMessage<T>(child: ChildProcess, pred: (m: T) => boolean = () => true): Promise<T> {
  return new Promise((resolve) => {
    const on = (m: T) => {
      if (pred(m)) {
        child.off('message', on);
        resolve(m);
      }
    };
    child.on('message', on);
  });
}
/** Least-squares slope of y over x. */
function slope(xs: number[], ys: number[]): number {
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
const ms3 = (sorted: number[]) => ({ p50: percentile(sorted, 50), p99: percentile(sorted, 99), p999: percentile(sorted, 99.9) });

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      symbols: { type: 'string', default: '50' },
      subscribers: { type: 'string', default: '1000' },
      rates: { type: 'string', default: '20,50,100,200,400' },
      'step-seconds': { type: 'string', default: '8' },
      'soak-seconds': { type: 'string', default: '60' },
      'soak-rate': { type: 'string', default: '50' },
      'truth-diffs': { type: 'string', default: '1000000' },
      'ccxt-seconds': { type: 'string', default: '10' },
      'ccxt-symbols': { type: 'string', default: '10' },
    },
  });
  const symbolsCount = Number(values.symbols);
  const results: MarketResults = { startedAt: new Date().toISOString(), loadAtStart: load(), options: values as Record<string, string>, steps: [] } as unknown as MarketResults;

  // 1. Hot path.
  console.log('# hot path: parse and allocation');
  const hot = execFileSync(process.execPath, ['--expose-gc', '--min-semi-space-size=256', '--max-semi-space-size=256', '--import', 'tsx', new URL('hot-path.ts', here).pathname, '20000'], { encoding: 'utf8' });
  results.hotPath = { ...JSON.parse(hot.trim().split('\n').pop()!), load: load() };
  console.log(JSON.stringify(results.hotPath));

  // 2. Book correctness over a million diffs.
  console.log(`# truth: ${values['truth-diffs']} diffs`);
  results.truth = { ...checkBinanceAgainstTruth({ diffs: Number(values['truth-diffs']) }), load: load() };
  console.log(JSON.stringify(results.truth));

  // 3. Gateway ladder.
  const sim = forkTs('sim-process.ts', [String(symbolsCount)]);
  const { urls } = await nextMessage<{ urls: VenueUrls }>(sim, (m) => 'urls' in m);
  const server = await createServer({ env: {}, apps: [], logger: createLogger('silent'), config: { port: 0, host: '127.0.0.1', maxConnectionsPerIp: 100_000 } });
  await server.listen();
  server.hub.registerNamespace(MARKET_NAMESPACE);
  const registry = createRegistry(false);
  let internal: number[] = [];
  let published = 0;
  const bookLatencyFromEvent: number[] = [];
  const ccxtWatch = new Set(syntheticSymbols(Number(values['ccxt-symbols'])).map((s) => `market:${s.symbol}@binance.book`));
  const gateway = new MarketGateway({
    symbols: syntheticSymbols(symbolsCount),
    venues: urls,
    registry,
    publish: (channel, data, key) => {
      server.hub.publish(channel, data, key === undefined ? {} : { key }).catch(() => {});
      published++;
      const tr = (data as { tr?: number }).tr;
      if (tr !== undefined) {
        internal.push(nowMs() - tr);
        if (ccxtMode && ccxtWatch.has(channel)) bookLatencyFromEvent.push(Date.now() - (data as { te: number }).te);
      }
    },
  });
  let ccxtMode = false;
  gateway.start();
  // Warm-up: every book synced (150 REST snapshots at Binance's weight budget take ~10 s), so the
  // figures below are the steady state, not diffs replayed after their snapshot arrived.
  const allLive = () => [...gateway.adapters.keys()].every((v) => syntheticSymbols(symbolsCount).every((s) => gateway.dispatcher.health.get(`${v}:${s.symbol}`)?.status === 'live'));
  sim.send({ rate: 20 });
  for (let waited = 0; !allLive() && waited < 60_000; waited += 500) await sleep(500);
  console.log(`# warm-up: all books live: ${allLive()}`);
  const venueMessages = async () => ((await registry.getSingleMetric('market_venue_messages_total')!.get()).values as { value: number }[]).reduce((s, v) => s + v.value, 0);
  const gcPauses: number[] = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcPauses.push(e.duration);
  }).observe({ entryTypes: ['gc'] });

  // 3a. CCXT Pro beside us (before the subscribers load this process), same simulator feed (Binance books of the first symbols).
  sim.send({ rate: 50 });
  await sleep(1000);
  const ccxt = forkTs('ccxt-process.ts', [urls.binance.rest, urls.binance.ws, values['ccxt-symbols'], values['ccxt-seconds']]);
  const peerDone = nextMessage<{ updates: number; seconds: number; latencies: number[] }>(ccxt, (m) => 'updates' in m);
  await nextMessage(ccxt, (m: { started?: boolean }) => m.started === true);
  ccxtMode = true; // measure ours over the same window as the peer's
  bookLatencyFromEvent.length = 0;
  const peer = await peerDone;
  ccxtMode = false;
  const ours = bookLatencyFromEvent.slice().sort((a, b) => a - b);
  const theirs = peer.latencies.sort((a, b) => a - b);
  results.ccxt = {
    symbols: Number(values['ccxt-symbols']),
    ratePerVenueSymbol: 50,
    ccxtUpdatesPerSec: peer.updates / peer.seconds,
    oursUpdatesPerSec: ours.length / peer.seconds,
    ccxtEventToBookMs: ms3(theirs),
    oursEventToHubMs: ms3(ours),
    load: load(),
  };
  console.log(JSON.stringify(results.ccxt));

  const procs = 4;
  const subs: ChildProcess[] = [];
  const perProc = Math.ceil(Number(values.subscribers) / procs);
  for (let i = 0; i < procs; i++) {
    const child = fork(new URL('subscribers.ts', here).pathname, [server.url.replace('http', 'ws') + '/ws', String(perProc), String(symbolsCount)], { execArgv: ['--import', 'tsx'], env: { ...process.env, SUB_OFFSET: String(i * perProc) } });
    subs.push(child);
  }
  await Promise.all(subs.map((c) => nextMessage(c, (m: { ready?: boolean }) => m.ready === true)));
  console.log(`# gateway: ${symbolsCount} symbols x 3 venues, ${perProc * procs} subscribers in ${procs} processes`);
  const collect = async () => {
    const reports = await Promise.all(subs.map((c) => { const p = nextMessage<{ received: number; latencies: number[] }>(c, (m) => 'received' in m); c.send({ report: true }); return p; }));
    return { received: reports.reduce((s, r) => s + r.received, 0), latencies: reports.flatMap((r) => r.latencies).sort((a, b) => a - b) };
  };
  const stepSeconds = Number(values['step-seconds']);
  const simProduced = async () => {
    const p = nextMessage<{ produced: number }>(sim, (m) => 'produced' in m);
    sim.send({ stats: true });
    return (await p).produced;
  };
  let firstRatio: number | undefined;
  for (const rate of values.rates.split(',').map(Number)) {
    sim.send({ rate });
    await sleep(2000); // settle (resyncs after a rate change, JIT)
    await collect();
    internal = [];
    published = 0;
    gcPauses.length = 0;
    const m0 = await venueMessages();
    const p0 = await simProduced();
    const t0 = performance.now();
    await sleep(stepSeconds * 1000);
    const secs = (performance.now() - t0) / 1000;
    const m1 = await venueMessages();
    const p1 = await simProduced();
    const clients = await collect();
    const sorted = internal.slice().sort((a, b) => a - b);
    const step: StepResult = {
      ratePerVenueSymbol: rate,
      offeredUpdatesPerSec: rate * symbolsCount * 3,
      simUpdatesPerSec: Math.round((p1 - p0) / secs),
      venueMessagesPerSec: Math.round((m1 - m0) / secs),
      publicationsPerSec: Math.round(published / secs),
      deliveriesPerSec: Math.round(clients.received / secs),
      internalMs: ms3(sorted),
      clientMs: ms3(clients.latencies),
      gcPauseP99Ms: percentile(gcPauses.slice().sort((a, b) => a - b), 99),
      eventLoopBusy: null,
      load: load(),
    };
    results.steps.push(step);
    console.log(JSON.stringify(step));
    // Messages per update are stable for a keeping-up gateway; falling behind shows as a lower ratio.
    const ratio = step.venueMessagesPerSec / Math.max(1, step.simUpdatesPerSec);
    firstRatio ??= ratio;
    const why = step.simUpdatesPerSec < 0.8 * step.offeredUpdatesPerSec ? 'the simulator process could not produce the offered rate' : ratio < 0.8 * firstRatio ? 'the gateway fell behind the venues' : step.internalMs.p99 > 100 ? 'internal p99 above 100 ms' : null;
    if (why) {
      step.saturated = why;
      console.log(`# saturated: ${why}`);
      break;
    }
  }

  // 4. Soak.
  const soakSeconds = Number(values['soak-seconds']);
  sim.send({ rate: Number(values['soak-rate']) });
  await sleep(2000);
  const windows: { t: number; p99: number; heapMb: number }[] = [];
  const soakStart = performance.now();
  internal = [];
  while (performance.now() - soakStart < soakSeconds * 1000) {
    await sleep(5000);
    await collect();
    const sorted = internal.slice().sort((a, b) => a - b);
    internal = [];
    windows.push({ t: (performance.now() - soakStart) / 1000, p99: percentile(sorted, 99), heapMb: process.memoryUsage().heapUsed / 1e6 });
  }
  results.soak = {
    seconds: soakSeconds,
    rate: Number(values['soak-rate']),
    windows,
    p99SlopeMsPerMin: slope(windows.map((w) => w.t), windows.map((w) => w.p99)) * 60,
    heapSlopeMbPerMin: slope(windows.map((w) => w.t), windows.map((w) => w.heapMb)) * 60,
    load: load(),
  };
  console.log(JSON.stringify({ soak: { ...results.soak, windows: windows.length } }));
  for (const c of subs) c.send({ stop: true });

  sim.send({ stop: true });
  await gateway.close();
  await server.close();
  results.loadAtEnd = load();
  writeFileSync('bench/results/market.json', JSON.stringify(results, null, 2) + '\n');
  writeFileSync('bench/results/market.md', renderMarkdown(results));
  console.log('# wrote bench/results/market.json and .md');
  process.exit(0);
}
