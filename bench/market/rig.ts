/**
 * @module bench/market/rig
 * The gateway benchmark's rig, every part in its own process except the one measured:
 *
 * - one venue simulator process per venue (bench/market/sim-process.ts), so producing the feed
 *   never runs on the gateway's event loop;
 * - the server (hub) + market gateway in this process, publishing exactly as the app does;
 * - hub subscribers in several processes (bench/market/subscribers.ts) over loopback sockets.
 *
 * `measure(seconds)` gives one window's figures: feed messages sent by the simulators and received
 * by the gateway, publications, deliveries, internal latency (venue message received → handed to
 * the hub), end to end (venue send time → subscriber receive, in another process), GC pauses
 * (perf_hooks, scavenges apart from mark-compacts) and event-loop utilisation, and the CPU time
 * each part used: the gateway per venue message (a figure the machine's load inflates far less
 * than wall-clock ones), the simulators and the subscriber processes.
 *
 * With `gatewayCpuQuota` (cores) this process (gateway + hub) runs in a cgroup v1 CPU group of its
 * own with that quota and a high weight (bench/cluster/cgroup.ts), and the simulators and
 * subscribers in an unlimited group beside it: the gateway gets up to that share of a core
 * whatever else the shared machine runs, and never more, and its CPU is told from the generators'.
 * `playTape` offers a rate from feeds rendered ahead (feed-tape.ts) instead of live simulators.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import { PerformanceObserver, performance, constants as perfConstants } from 'node:perf_hooks';
import { createServer } from '../../src/server.js';
import { GcAfterFlush } from './gc-after-flush.js';
import { createLogger } from '../../src/core/logger.js';
import { createRegistry } from '../../src/core/metrics.js';
import { MarketGateway } from '../../src/apps/market/gateway.js';
import { MARKET_NAMESPACE, publishOptions } from '../../src/apps/market/index.js';
import { nowMs, syntheticSymbols, VENUES, type VenueName } from '../../src/apps/market/types.js';
import type { VenueUrls } from '../../src/apps/market/simulator/server.js';
import { LatencyHistogram, type HistogramSnapshot } from '../hub/histogram.js';
import { percentile } from '../shared/percentile.js';
import { CpuQuotaGroup, GROUP_PREFIX, removeStaleGroups, throttleDelta, type ThrottleStats } from '../cluster/cgroup.js';
import { recordHeapFlow } from './heap-flow.js';
import { readRunQueue, runQueueDelta } from './run-queue.js';

const here = new URL('.', import.meta.url);
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const load = () => loadavg().map((l) => Number(l.toFixed(2)));

export function forkTs(file: string, args: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  return fork(new URL(file, here).pathname, args, { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env });
}

/** The next IPC message from `child` that satisfies `pred`; rejects if the child exits first or `timeoutMs` passes. */
export function nextMessage<T>(child: ChildProcess, pred: (m: T) => boolean = () => true, timeoutMs = 120_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const done = () => {
      child.off('message', on);
      child.off('exit', onExit);
      clearTimeout(timer);
    };
    const on = (m: T) => {
      if (pred(m)) {
        done();
        resolve(m);
      }
    };
    const onExit = (code: number | null) => {
      done();
      reject(new Error(`child ${child.pid} exited (${code}) before answering`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`child ${child.pid} did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('message', on);
    child.on('exit', onExit);
  });
}

export type Pcts = { p50: number; p99: number; p999: number };
/** Percentiles in ms from a µs histogram. */
export const histMs = (h: LatencyHistogram): Pcts => ({ p50: h.quantile(0.5) / 1000, p99: h.quantile(0.99) / 1000, p999: h.quantile(0.999) / 1000 });

export interface Window {
  seconds: number;
  simUpdatesPerSec: number;
  venueSentPerSec: number;
  venueReceivedPerSec: number;
  receivedPerSecByVenue: Record<string, number>;
  publicationsPerSec: number;
  deliveriesPerSec: number;
  internalMs: Pcts;
  internalSamples: number;
  endToEndMs: Pcts;
  gatewayToClientMs: Pcts;
  endToEndSamples: number;
  gcPauseP99Ms: number;
  gcPauseMaxMs: number;
  gcCount: number;
  /** Every GC pause of the window, ascending (ms): rungs can be pooled for a p99 on enough pauses. */
  gcPausesMs?: number[];
  /** Scavenges (young generation) only. */
  gcMinorP99Ms: number;
  gcMinorCount: number;
  /** Mark-compacts (old generation), incremental marking steps apart. */
  gcMajorCount: number;
  /** Wall time in GC pauses per second of the window. */
  gcMsPerSec: number;
  /**
   * V8's accounting of the window (heap-flow.ts), per venue message received: counts of work,
   * not times, so they compare between runs on a loaded machine. Bytes allocated on the heap per
   * message; bytes scavenges promoted per 10,000 messages; the old generation's inflow (promoted
   * + allocated there) per minute, which sets how often mark-compacts come; scavenges per 10,000
   * messages; mark-compacts per minute.
   */
  heapAllocatedBytesPerMsg: number;
  promotedBytesPer10kMsgs: number;
  oldInflowMbPerMin: number;
  scavengesPer10kMsgs: number;
  markCompactsPerMin: number;
  /** Of the inflow, what was allocated in old space directly, MB/min by space (heap-flow.ts). */
  directOldMbPerMin: Record<string, number>;
  /** This process's CPU time (user + system) per venue message received: the gateway and the hub together. */
  gatewayCpuUsPerMsg: number;
  /** This process's CPU time over the window, in % of one core. */
  gatewayCpuPct: number;
  /** The simulator processes' and the subscriber processes' CPU time, in % of one core. */
  simCpuPct: number;
  subscriberCpuPct: number;
  /** Subscriber connections the server had closed so far (each reopened after 1 s). */
  subscriberConnectionsClosed: number;
  eventLoopUtilisation: number;
  rssMb: number;
  heapMb: number;
  /** Book resyncs, gaps and checksum failures in the window (a tape must run clean). */
  resyncs: number;
  /** With a CPU quota: % of CFS periods in which the gateway ran out of its quota. */
  gatewayThrottledPct: number | null;
  /** The measured main thread's wait for a core (run-queue.ts): ms per second of the window, and µs per time slice. */
  mainThreadWait?: { waitMsPerSec: number; waitUsPerSlice: number } | null;
  load: number[];
}

/** One simulator's counters as it read them, `at` on its own clock (ms since the epoch, sub-ms). */
interface SimReading {
  produced: number;
  sent: number;
  cpuUs: number;
  at: number;
}

/**
 * The simulators' combined rate between two readings, each simulator's count divided by the
 * interval between its own two readings. A saturated gateway handles IPC late: dividing by the
 * gateway's window instead (when it asked, not when they counted) overstated "sent" up to 2x.
 */
export function simRate(before: SimReading[], after: SimReading[], field: 'produced' | 'sent' | 'cpuUs'): number {
  let rate = 0;
  for (let i = 0; i < before.length; i++) {
    const seconds = (after[i].at - before[i].at) / 1000;
    if (seconds > 0) rate += (after[i][field] - before[i][field]) / seconds;
  }
  return rate;
}

export class MarketRig {
  readonly sims = new Map<VenueName, ChildProcess>();
  readonly subs: ChildProcess[] = [];
  gateway!: MarketGateway;
  private server!: Awaited<ReturnType<typeof createServer>>;
  readonly internal = new LatencyHistogram();
  published = 0;
  private gcPauses: number[] = [];
  private gcMinor: number[] = [];
  private gcMajor = 0;
  private gcObserver: PerformanceObserver | null = null;
  /** `BENCH_MARKET_GC_AFTER_FLUSH=<fraction>`: the forced-scavenge experiment (gc-after-flush.ts). */
  readonly gcAfterFlush = process.env.BENCH_MARKET_GC_AFTER_FLUSH ? new GcAfterFlush(Number(process.env.BENCH_MARKET_GC_AFTER_FLUSH)) : null;
  /** Called for every publication (the CCXT comparison watches a few channels). */
  tap: ((channel: string, data: { te?: number; tr?: number }) => void) | null = null;

  private registry = createRegistry(false);
  private gatewayGroup: CpuQuotaGroup | null = null;
  private loadGroup: CpuQuotaGroup | null = null;

  constructor(readonly symbols: number, readonly gatewayCpuQuota: number | null = null) {}

  /** Forks a helper process, in the generators' group when the gateway has a quota. */
  private fork(file: string, args: string[], env?: NodeJS.ProcessEnv): ChildProcess {
    const child = forkTs(file, args, env);
    if (this.loadGroup && child.pid) this.loadGroup.add(child.pid);
    return child;
  }

  async start(): Promise<void> {
    if (this.gatewayCpuQuota !== null) {
      const cleaned = removeStaleGroups();
      if (cleaned.groups.length) console.log(`# removed stale cgroups ${cleaned.groups.join(', ')}`);
      this.gatewayGroup = CpuQuotaGroup.create(`${GROUP_PREFIX}${process.pid}-market-gateway`, this.gatewayCpuQuota, 100_000);
      this.loadGroup = CpuQuotaGroup.create(`${GROUP_PREFIX}${process.pid}-market-load`, null, 100_000);
      this.gatewayGroup.add(process.pid);
    }
    const urls: Partial<VenueUrls> = {};
    for (const venue of VENUES) {
      const sim = this.fork('sim-process.ts', [String(this.symbols), venue]);
      this.sims.set(venue, sim);
      const m = await nextMessage<{ urls: VenueUrls }>(sim, (x) => 'urls' in x);
      (urls as Record<string, unknown>)[venue] = m.urls[venue];
    }
    this.server = await createServer({ env: {}, apps: [], logger: createLogger('silent'), config: { port: 0, host: '127.0.0.1', maxConnectionsPerIp: 100_000 } });
    await this.server.listen();
    // For the GC study (what each publication's survival through scavenges depends on), the app's
    // own depths by default: BENCH_MARKET_HISTORY=<n> gives every market channel depth n;
    // BENCH_MARKET_BOOK_HISTORY=<n> only the venue book channels; BENCH_MARKET_HISTORY_OBJECTS=1
    // keeps history as message objects (as before historyInBuffers).
    const history = process.env.BENCH_MARKET_HISTORY;
    const bookHistory = process.env.BENCH_MARKET_BOOK_HISTORY;
    const bySuffix = bookHistory === undefined ? MARKET_NAMESPACE.historyBySuffix : { ...MARKET_NAMESPACE.historyBySuffix, '.book': Number(bookHistory) };
    const historyInBuffers = process.env.BENCH_MARKET_HISTORY_OBJECTS !== '1';
    const ns = history === undefined ? { ...MARKET_NAMESPACE, historyBySuffix: bySuffix } : { ...MARKET_NAMESPACE, historySize: Number(history), historyBySuffix: {} };
    this.server.hub.registerNamespace({ ...ns, historyInBuffers });
    const hub = this.server.hub;
    this.gateway = new MarketGateway({
      symbols: syntheticSymbols(this.symbols),
      venues: urls,
      registry: this.registry,
      publish: (channel, data, key) => {
        hub.publishSync(channel, data, publishOptions(key)); // as the app does on the memory engine (options made once per key)
        this.published++;
        this.gcAfterFlush?.published();
        const d = data as { te?: number; tr?: number };
        if (d.tr !== undefined) this.internal.record((nowMs() - d.tr) * 1000);
        this.tap?.(channel, d);
      },
    });
    this.gateway.start();
    this.gcObserver = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        this.gcPauses.push(e.duration);
        const kind = (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
        if (kind === perfConstants.NODE_PERFORMANCE_GC_MINOR) this.gcMinor.push(e.duration);
        else if (kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR) this.gcMajor++;
      }
    });
    this.gcObserver.observe({ entryTypes: ['gc'] });
  }

  get wsUrl(): string {
    return this.server.url.replace('http', 'ws') + '/ws';
  }

  setRate(perVenueSymbol: number): void {
    for (const sim of this.sims.values()) sim.send({ rate: perVenueSymbol });
  }

  allLive(): boolean {
    const names = syntheticSymbols(this.symbols).map((s) => s.symbol);
    return this.gateway.venues.every((v) => names.every((s) => this.gateway.dispatcher.health.get(`${v}:${s}`)?.status === 'live'));
  }

  liveCount(): number {
    let n = 0;
    for (const e of this.gateway.dispatcher.health.values()) if (e.symbol !== null && e.status === 'live') n++;
    return n;
  }

  async startSubscribers(total: number, procs: number): Promise<void> {
    const per = Math.ceil(total / procs);
    for (let i = 0; i < procs; i++) this.subs.push(this.fork('subscribers.ts', [this.wsUrl, String(per), String(this.symbols)], { ...process.env, SUB_OFFSET: String(i * per) }));
    await Promise.all(this.subs.map((c) => nextMessage(c, (m: { ready?: boolean }) => m.ready === true)));
  }

  /** Every simulator's counters, each with the time it read them on its own clock. */
  private async simStats(): Promise<SimReading[]> {
    return Promise.all(
      [...this.sims.values()].map((sim) => {
        const p = nextMessage<SimReading>(sim, (m) => 'produced' in m);
        sim.send({ stats: true });
        return p;
      }),
    );
  }

  private async subscriberReports() {
    const reports = await Promise.all(
      this.subs.map((c) => {
        const p = nextMessage<{ received: number; closed: number; cpuPct: number; endToEnd: HistogramSnapshot; fromGateway: HistogramSnapshot }>(c, (m) => 'received' in m);
        c.send({ report: true });
        return p;
      }),
    );
    const e2e = new LatencyHistogram();
    const fromGw = new LatencyHistogram();
    for (const r of reports) {
      e2e.merge(r.endToEnd);
      fromGw.merge(r.fromGateway);
    }
    return { received: reports.reduce((s, r) => s + r.received, 0), cpuPct: reports.reduce((s, r) => s + r.cpuPct, 0), closed: reports.reduce((s, r) => s + r.closed, 0), e2e, fromGw };
  }

  /** Feed messages the gateway has read, and this process's CPU time, and when (same clock as the simulators' readings). */
  private async venueReceived(): Promise<{ count: number; byVenue: Record<string, number>; cpuUs: number; at: number }> {
    const metric = await this.gateway.metrics.messagesTotal.get();
    const cpu = process.cpuUsage();
    const byVenue: Record<string, number> = {};
    for (const v of metric.values) byVenue[String(v.labels.venue)] = v.value;
    return { count: metric.values.reduce((s, v) => s + v.value, 0), byVenue, cpuUs: cpu.user + cpu.system, at: performance.timeOrigin + performance.now() };
  }

  /** Resyncs + gaps + checksum failures so far, every venue. */
  private async troubles(): Promise<number> {
    let n = 0;
    for (const name of ['market_resyncs_total', 'market_gaps_total', 'market_checksum_failures_total']) {
      for (const v of (await this.registry.getSingleMetric(name)!.get()).values) n += v.value;
    }
    return n;
  }

  /** Wall-clock ms a simulator took to render one tape message, the slowest seen (sets when the next tape starts). */
  private renderMsPerMsg = 0.12;

  /**
   * Offers `msgsPerSec` (all venues together, a third each) for `seconds` from feeds rendered
   * ahead (feed-tape.ts): resolves once every simulator has rendered its part and been told when
   * to play (`at`: the planned `startAt`, or later if rendering overran it, which shifts every
   * event time earlier than its sending by `at - startAt`), and `done` once every message is written.
   */
  async playTape(msgsPerSec: number, seconds: number): Promise<{ startAt: number; at: number; renderMs: number[]; done: Promise<{ maxLagMs: number; closedTracks: number }[]> }> {
    const perVenue = msgsPerSec / this.sims.size;
    const messages = Math.round(perVenue * seconds);
    const startAt = performance.timeOrigin + performance.now() + 3000 + 1.5 * messages * this.renderMsPerMsg;
    const sims = [...this.sims.values()];
    const taped = sims.map((sim) => nextMessage<{ taped: { renderMs: number } }>(sim, (m) => 'taped' in m, 900_000));
    for (const sim of sims) sim.send({ tape: { messages, rate: perVenue, startAt } });
    const renders = (await Promise.all(taped)).map((r) => r.taped.renderMs);
    this.renderMsPerMsg = Math.max(this.renderMsPerMsg, ...renders.map((ms) => ms / messages));
    const at = Math.max(startAt, performance.timeOrigin + performance.now() + 200);
    const played = sims.map((sim) => nextMessage<{ played: { maxLagMs: number; closedTracks: number } }>(sim, (m) => 'played' in m, 900_000));
    for (const sim of sims) sim.send({ play: at });
    return { startAt, at, renderMs: renders, done: Promise.all(played).then((p) => p.map((x) => x.played)) };
  }

  /**
   * Resets every counter, waits `seconds`, and returns that window's figures. With `gcPauses`, the
   * window goes on (1 s at a time, up to `maxSeconds`) until it has seen that many GC pauses: a
   * p99 of a handful of pauses is their worst one, not a percentile.
   */
  async measure(seconds: number, gcPauses = 0, maxSeconds = seconds): Promise<Window> {
    await this.subscriberReports();
    const s0 = await this.simStats();
    const r0 = await this.venueReceived();
    const troubles0 = await this.troubles();
    const throttle0 = this.gatewayGroup?.throttling();
    this.internal.reset();
    this.published = 0;
    this.gcPauses = [];
    this.gcMinor = [];
    this.gcMajor = 0;
    const elu0 = performance.eventLoopUtilization();
    const stopHeapFlow = recordHeapFlow();
    console.log('# window start'); // gc-nvp.ts reads a rung's window from here to its result line
    const runQueue0 = readRunQueue();
    const t0 = performance.now();
    await sleep(seconds * 1000);
    while (this.gcPauses.length < gcPauses && performance.now() - t0 < maxSeconds * 1000) await sleep(1000);
    const heap = stopHeapFlow();
    const elu = performance.eventLoopUtilization(elu0);
    const secs = (performance.now() - t0) / 1000;
    const mainThreadWait = runQueueDelta(runQueue0, readRunQueue(), secs);
    const internal = histMs(this.internal);
    const internalSamples = this.internal.count;
    const published = this.published;
    const gc = this.gcPauses.slice().sort((a, b) => a - b);
    const minor = this.gcMinor.slice().sort((a, b) => a - b);
    const gcMajor = this.gcMajor;
    const s1 = await this.simStats();
    const r1 = await this.venueReceived();
    const clients = await this.subscriberReports();
    const troubles = (await this.troubles()) - troubles0;
    const throttle: ThrottleStats | null = throttle0 && this.gatewayGroup ? throttleDelta(throttle0, this.gatewayGroup.throttling()) : null;
    const mem = process.memoryUsage();
    // Messages and CPU time over the same interval (a saturated process reads them late, not in step with `secs`).
    const received = r1.count - r0.count;
    const cpuUs = r1.cpuUs - r0.cpuUs;
    const readSecs = (r1.at - r0.at) / 1000;
    const perMsg = Math.max(1, (received / readSecs) * secs); // messages received in the heap window
    return {
      seconds: secs,
      simUpdatesPerSec: Math.round(simRate(s0, s1, 'produced')),
      venueSentPerSec: Math.round(simRate(s0, s1, 'sent')),
      venueReceivedPerSec: Math.round(received / readSecs),
      receivedPerSecByVenue: Object.fromEntries(Object.entries(r1.byVenue).map(([v, n]) => [v, Math.round((n - (r0.byVenue[v] ?? 0)) / readSecs)])),
      publicationsPerSec: Math.round(published / secs),
      deliveriesPerSec: Math.round(clients.received / secs),
      internalMs: internal,
      internalSamples,
      endToEndMs: histMs(clients.e2e),
      gatewayToClientMs: histMs(clients.fromGw),
      endToEndSamples: clients.e2e.count,
      gcPauseP99Ms: percentile(gc, 99),
      gcPauseMaxMs: gc.length ? gc[gc.length - 1] : 0,
      gcCount: gc.length,
      gcPausesMs: gc.map((ms) => Number(ms.toFixed(3))),
      gcMinorP99Ms: percentile(minor, 99),
      gcMinorCount: minor.length,
      gcMajorCount: gcMajor,
      gcMsPerSec: Number((gc.reduce((a, b) => a + b, 0) / secs).toFixed(2)),
      // Per message over the heap window (≈ the sleep), not over the counters' read interval.
      heapAllocatedBytesPerMsg: Math.round(heap.allocatedBytes / perMsg),
      promotedBytesPer10kMsgs: Math.round((heap.promotedBytes * 10_000) / perMsg),
      oldInflowMbPerMin: Number(((heap.oldInflowBytes / 1e6) * (60 / secs)).toFixed(3)),
      scavengesPer10kMsgs: Number(((heap.scavenges * 10_000) / perMsg).toFixed(1)),
      markCompactsPerMin: Number((heap.markCompacts * (60 / secs)).toFixed(2)),
      directOldMbPerMin: Object.fromEntries(Object.entries(heap.directOldBySpace).map(([space, bytes]) => [space, Number(((bytes / 1e6) * (60 / secs)).toFixed(3))])),
      gatewayCpuUsPerMsg: Number((cpuUs / Math.max(1, received)).toFixed(1)),
      gatewayCpuPct: Math.round(cpuUs / (readSecs * 1e4)),
      simCpuPct: Math.round(simRate(s0, s1, 'cpuUs') / 1e4),
      subscriberCpuPct: Math.round(clients.cpuPct),
      subscriberConnectionsClosed: clients.closed,
      eventLoopUtilisation: Number(elu.utilization.toFixed(3)),
      rssMb: Math.round(mem.rss / 1e6),
      heapMb: Math.round(mem.heapUsed / 1e6),
      resyncs: troubles,
      gatewayThrottledPct: throttle ? Math.round((100 * throttle.throttledPeriods) / Math.max(1, throttle.periods)) : null,
      mainThreadWait,
      load: load(),
    };
  }

  async close(): Promise<void> {
    this.gcObserver?.disconnect();
    for (const c of this.subs) c.send({ stop: true });
    for (const sim of this.sims.values()) sim.send({ stop: true });
    await this.gateway.close();
    await this.server.close();
    if (this.gatewayGroup) {
      CpuQuotaGroup.root().add(process.pid);
      await sleep(1000); // the children exit on {stop}
      this.gatewayGroup.remove();
      this.loadGroup?.remove();
    }
  }
}
