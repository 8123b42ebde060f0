/**
 * @module bench/hub/scenario
 * Runs the load against one server: starts it, spreads the subscribers over receiver processes,
 * runs timed steps at given publish rates (the target scenario, then the saturation ladder), and
 * measures the idle memory per connection. Every step is bounded in time; nothing here waits
 * without a deadline.
 */
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LatencyHistogram } from './histogram.js';
import { Child, drainReceivers, type PublisherResult } from './ipc.js';
import type { HubBenchOptions } from './options.js';
import { cpus, loadavg } from 'node:os';
import { HOST, cpuPercent, machineCpuPercent, sampleMachine, sampleProc, sleep, startServer, type MachineSample, type ProcSample, type RunningServer } from './servers.js';
import { channelName, type ServerKind } from './wire.js';

const here = dirname(fileURLToPath(import.meta.url));
const RECEIVER = join(here, 'receiver.ts');
const PUBLISHER = join(here, 'publisher.ts');
/** A step that fails leaves a backlog in the server; wait at most this long for it to drain. */
const DRAIN_MAX_MS = 15_000;
/** The drain is over when no receiver got anything for this long. */
const QUIET_MS = 1000;

export interface StepResult {
  targetRate: number;
  durationMs: number;
  published: number;
  achievedRate: number;
  expected: number;
  delivered: number;
  deliveredPerSec: number;
  lost: number;
  duplicated: number;
  outOfOrder: number;
  stale: number;
  frames: number;
  messagesPerFrame: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number; mean: number };
  /**
   * Percent of one core over the publishing window. `machine` is the whole box (200 = both cores
   * of a 2-core machine); `other` is what processes outside this benchmark took meanwhile.
   */
  cpuPercent: { server: number; receivers: number[]; publisher: number; machine: number; other: number };
  serverRssMB: number;
  serverPeakRssMB: number;
  drainMs: number;
  connected: number;
  /** The machine's 1-minute load average at the end of the step. */
  loadAverage: number;
  /**
   * A load-generator process used ≥ 90 % of a core (each is single-threaded), or the publisher
   * fell short of its rate: a failure at this step may be the generator's, not the server's.
   */
  generatorBound: boolean;
  /**
   * Processes outside the benchmark used more than DISTURBED_PERCENT of a core during the step.
   * A disturbed step that fails is run once more; both runs stay in the ladder.
   */
  disturbed: boolean;
  pass: boolean;
  failure?: string;
  /** The ladder repetition (1-based) this step belongs to (--repeat); absent outside the ladder. */
  repetition?: number;
}

export interface LoadResult {
  server: ServerKind;
  target: StepResult;
  ladder: StepResult[];
  /** Best passing step of the saturation search (null when even the lowest rate failed or the search was skipped). */
  saturation: StepResult | null;
  error?: string;
  /** The default-apps server's start before its first step (servers.ts settle()). */
  startup?: RunningServer['startup'];
}

export interface IdleResult {
  server: ServerKind;
  clients: number;
  connected: number;
  rssBeforeMB: number;
  rssAfterMB: number;
  /** RSS growth per connection (from /proc, after a full GC). */
  rssBytesPerConnection: number;
  /** V8 heap plus external (Buffer) memory growth per connection, as the server itself reports it. */
  heapBytesPerConnection: number;
  /**
   * The figure the targets are checked against: the larger of the two above. RSS is the true cost
   * when it moves, but a process that freed memory earlier (Airwaves after its embedded database
   * starts) can absorb new connections into pages it already holds; the heap figure cannot hide them.
   */
  bytesPerConnection: number;
  error?: string;
}

const MB = 1024 * 1024;
/** A generator process this busy (percent of one core) is close to being the bottleneck. */
const GENERATOR_BUSY_PERCENT = 90;
/** Other processes on the machine using more than this (percent of one core) make a step's latency unreliable. */
const DISTURBED_PERCENT = 25;
const round = (v: number, d = 2) => Math.round(v * 10 ** d) / 10 ** d;

class LoadRig {
  private stepId = 0;
  receivers: Child[] = [];
  publisher!: Child;
  subsPerChannel = new Map<string, number>();

  constructor(
    readonly server: RunningServer,
    readonly opts: HubBenchOptions,
  ) {}

  async setup(): Promise<void> {
    const { opts, server } = this;
    const k = Math.min(opts.receivers, opts.clients);
    const shares: string[][] = Array.from({ length: k }, () => []);
    for (let i = 0; i < opts.clients; i++) {
      const ch = channelName(i % opts.channels);
      shares[i % k].push(ch);
      this.subsPerChannel.set(ch, (this.subsPerChannel.get(ch) ?? 0) + 1);
    }
    this.receivers = shares.map((_, i) => new Child(RECEIVER, `receiver-${i}`));
    await Promise.all(
      this.receivers.map((r, i) =>
        r.call({ type: 'connect', kind: server.kind, host: HOST, port: server.port, subscriptions: shares[i], concurrency: 50 }, 120_000),
      ),
    );
    this.publisher = new Child(PUBLISHER, 'publisher');
    await this.publisher.call({ type: 'connect', kind: server.kind, host: HOST, port: server.port }, 30_000);
  }

  private samples(): { server: ProcSample; receivers: ProcSample[]; publisher: ProcSample; machine: MachineSample } {
    return {
      machine: sampleMachine(),
      server: sampleProc(this.server.pid),
      receivers: this.receivers.map((r) => sampleProc(r.pid)),
      publisher: sampleProc(this.publisher.pid),
    };
  }

  async step(rate: number, durationMs: number): Promise<StepResult> {
    const { opts } = this;
    const step = ++this.stepId;
    await Promise.all(this.receivers.map((r) => r.call({ type: 'step', step })));
    const before = this.samples();
    let peakRss = before.server.rssBytes;
    const rssTimer = setInterval(() => {
      try {
        peakRss = Math.max(peakRss, sampleProc(this.server.pid).rssBytes);
      } catch {
        /* server gone: the step fails on its own */
      }
    }, 250);
    let pub: PublisherResult;
    let after: ReturnType<LoadRig['samples']>;
    try {
      pub = await this.publisher.call<PublisherResult>(
        { type: 'run', step, rate, durationMs, channels: opts.channels, payloadBytes: opts.payloadBytes },
        durationMs * 3 + 30_000,
      );
      after = this.samples();
    } finally {
      clearInterval(rssTimer);
    }

    const { expected, drainMs, reports } = await drainReceivers(this.receivers, pub.published, this.subsPerChannel, { quietMs: QUIET_MS, maxMs: DRAIN_MAX_MS });
    const hist = new LatencyHistogram();
    let delivered = 0, lost = 0, duplicated = 0, outOfOrder = 0, stale = 0, frames = 0, connected = 0;
    for (const rep of reports) {
      hist.merge(rep.histogram);
      delivered += rep.received;
      lost += rep.lost;
      duplicated += rep.duplicated;
      outOfOrder += rep.outOfOrder;
      stale += rep.stale;
      frames += rep.frames;
      connected += rep.connected;
    }
    const seconds = Math.max(pub.elapsedMs, durationMs) / 1000;
    const latencyMs = {
      p50: round(hist.quantile(0.5) / 1000, 3),
      p95: round(hist.quantile(0.95) / 1000, 3),
      p99: round(hist.quantile(0.99) / 1000, 3),
      max: round(hist.maxUs / 1000, 3),
      mean: round(hist.mean() / 1000, 3),
    };
    const failures: string[] = [];
    if (lost > 0) failures.push(`${lost} lost`);
    if (duplicated > 0) failures.push(`${duplicated} duplicated`);
    if (latencyMs.p99 > opts.p99LimitMs) failures.push(`p99 ${latencyMs.p99} ms > ${opts.p99LimitMs} ms`);
    if (pub.achievedRate < 0.95 * rate) failures.push(`publisher reached only ${round(pub.achievedRate, 0)} of ${rate} msg/s`);
    if (connected < opts.clients) failures.push(`${opts.clients - connected} subscribers disconnected`);
    const cpu = cpuBreakdown(before, after);
    const generatorBound = Math.max(cpu.publisher, ...cpu.receivers) >= GENERATOR_BUSY_PERCENT || pub.achievedRate < 0.95 * rate;
    return {
      targetRate: rate,
      durationMs,
      published: pub.total,
      achievedRate: round(pub.achievedRate, 1),
      expected,
      delivered,
      deliveredPerSec: Math.round(delivered / seconds),
      lost,
      duplicated,
      outOfOrder,
      stale,
      frames,
      messagesPerFrame: round(frames > 0 ? delivered / frames : 0, 2),
      latencyMs,
      cpuPercent: cpu,
      serverRssMB: round(after.server.rssBytes / MB, 1),
      serverPeakRssMB: round(peakRss / MB, 1),
      drainMs: Math.round(drainMs),
      connected,
      loadAverage: round(loadavg()[0], 2),
      generatorBound,
      disturbed: cpu.other > DISTURBED_PERCENT,
      pass: failures.length === 0,
      failure: failures.length ? failures.join('; ') : undefined,
    };
  }

  async teardown(): Promise<void> {
    await Promise.all([...this.receivers, ...(this.publisher ? [this.publisher] : [])].map((c) => c.stop()));
  }
}

function cpuBreakdown(before: ReturnType<LoadRig['samples']>, after: ReturnType<LoadRig['samples']>): StepResult['cpuPercent'] {
  const server = cpuPercent(before.server, after.server);
  const receivers = before.receivers.map((b, i) => cpuPercent(b, after.receivers[i]));
  const publisher = cpuPercent(before.publisher, after.publisher);
  const machine = machineCpuPercent(before.machine, after.machine, cpus().length);
  const ours = server + publisher + receivers.reduce((a, b) => a + b, 0);
  return {
    server: round(server, 1),
    receivers: receivers.map((r) => round(r, 1)),
    publisher: round(publisher, 1),
    machine: round(machine, 1),
    // The coordinator's own polling is in here too; it is small.
    other: round(Math.max(0, machine - ours), 1),
  };
}

function describe(kind: ServerKind, s: StepResult): string {
  const verdict = (s.pass ? 'pass' : `FAIL (${s.failure})`) + (s.generatorBound ? ' [load generator busy]' : '') + (s.disturbed ? ' [machine busy]' : '');
  return (
    `  ${kind.padEnd(8)} ${String(s.targetRate).padStart(6)} msg/s → ${String(s.deliveredPerSec).padStart(8)} deliveries/s  ` +
    `p50 ${s.latencyMs.p50} p99 ${s.latencyMs.p99} max ${s.latencyMs.max} ms  lost ${s.lost}  ` +
    `cpu server ${s.cpuPercent.server}% receivers ${s.cpuPercent.receivers.join('+')}% publisher ${s.cpuPercent.publisher}% other ${s.cpuPercent.other}%  ${verdict}`
  );
}

/** The target scenario, then the saturation ladder: step up (or down) by the factor, then bisect. */
export async function runLoad(kind: ServerKind, opts: HubBenchOptions, log: (line: string) => void): Promise<LoadResult> {
  const server = await startServer(kind, opts.profileServerDir);
  const rig = new LoadRig(server, opts);
  try {
    await rig.setup();
    if (opts.warmupMs > 0) await rig.step(opts.rate, opts.warmupMs);
    const ladder: StepResult[] = [];
    // A failure while other processes took the CPU is retried once: on a shared machine one
    // neighbour's burst should not decide the figure. Both runs are kept and reported.
    const measure = async (rate: number, durationMs: number): Promise<StepResult> => {
      let s = await rig.step(rate, durationMs);
      log(describe(kind, s));
      if (!s.pass && s.disturbed) {
        ladder.push(s);
        s = await rig.step(rate, durationMs);
        log(describe(kind, s) + ' (retry)');
      }
      ladder.push(s);
      return s;
    };
    const target = await measure(opts.rate, opts.durationMs);
    if (!opts.saturation) return { server: kind, target, ladder, saturation: target.pass ? target : null };
    let pass: StepResult | null = target.pass ? target : null;
    let fail: StepResult | null = target.pass ? null : target;
    let rate = opts.rate;
    const run = (r: number) => measure(r, opts.stepDurationMs);
    if (pass) {
      while (rate * opts.stepFactor <= opts.maxRate) {
        rate = Math.round(rate * opts.stepFactor);
        const s = await run(rate);
        if (!s.pass) {
          fail = s;
          break;
        }
        pass = s;
      }
    } else {
      while (rate / opts.stepFactor >= opts.minRate) {
        rate = Math.round(rate / opts.stepFactor);
        const s = await run(rate);
        if (s.pass) {
          pass = s;
          break;
        }
        fail = s;
      }
    }
    for (let i = 0; i < opts.refine && pass && fail; i++) {
      const mid = Math.round(Math.sqrt(pass.targetRate * fail.targetRate));
      if (mid <= pass.targetRate || mid >= fail.targetRate) break;
      const s = await run(mid);
      if (s.pass) pass = s;
      else fail = s;
    }
    // The best passing step by deliveries/s (a bisection pass is never below the ladder's).
    const passing = ladder.filter((s) => s.pass);
    const saturation = passing.length ? passing.reduce((a, b) => (b.deliveredPerSec > a.deliveredPerSec ? b : a)) : null;
    return { server: kind, target, ladder, saturation };
  } finally {
    await rig.teardown();
    await server.stop();
  }
}

/**
 * The black-box ladder: one server started once, every step of `opts.ladder` (deliveries/s,
 * divided among the subscribers of each publication) run once after a warm-up, in order. A step
 * is a measurement, not a search: it is kept whatever its verdict.
 */
export async function runLadder(kind: ServerKind, opts: HubBenchOptions, log: (line: string) => void, repetition = 1): Promise<LoadResult> {
  const server = await startServer(kind, opts.profileServerDir);
  if (server.startup) log(`  ${kind}: apps ready ${server.startup.appsReadyMs} ms after the hub served; settled (${server.startup.settledCpuPercent} % of a core over 2 s) after ${server.startup.settledMs} ms`);
  const rig = new LoadRig(server, opts);
  const subscribersPerPublication = opts.clients / opts.channels;
  try {
    await rig.setup();
    const rates = (opts.ladder ?? []).map((deliveries) => Math.max(1, Math.round(deliveries / subscribersPerPublication)));
    if (opts.warmupMs > 0) await rig.step(rates[0]!, opts.warmupMs);
    const ladder: StepResult[] = [];
    for (const rate of rates) {
      const s = { ...(await rig.step(rate, opts.durationMs)), repetition };
      log(describe(kind, s));
      ladder.push(s);
    }
    return { server: kind, target: ladder[0]!, ladder, saturation: null, startup: server.startup };
  } catch (err) {
    log(`  ${kind}: ${(err as Error).message}`);
    throw err;
  } finally {
    await rig.teardown();
    await server.stop();
  }
}

/** Server memory per idle connection: RSS after N idle clients minus before, each after a full GC. */
export async function runIdle(kind: ServerKind, opts: HubBenchOptions): Promise<IdleResult> {
  const server = await startServer(kind);
  const k = Math.min(opts.receivers, opts.idleClients);
  let children: Child[] = [];
  try {
    // Warm the accept path (JIT, buffers) so the baseline already holds what any connection needs once.
    const warm = new Child(RECEIVER, 'idle-warmup');
    await warm.call({ type: 'connect', kind, host: HOST, port: server.port, subscriptions: new Array(100).fill(null), concurrency: 50 });
    await warm.stop();
    await sleep(500);
    const heapBefore = await server.collectGarbage();
    const before = sampleProc(server.pid).rssBytes;
    children = Array.from({ length: k }, (_, i) => new Child(RECEIVER, `idle-${i}`));
    const share = (i: number) => Math.floor(opts.idleClients / k) + (i < opts.idleClients % k ? 1 : 0);
    const opened = await Promise.all(
      children.map((c, i) => c.call<{ connected: number }>({ type: 'connect', kind, host: HOST, port: server.port, subscriptions: new Array(share(i)).fill(null), concurrency: 100 }, 180_000)),
    );
    const connected = opened.reduce((a, o) => a + o.connected, 0);
    await sleep(1000);
    const heapAfter = await server.collectGarbage();
    const after = sampleProc(server.pid).rssBytes;
    const perConnection = (bytes: number) => Math.round(bytes / Math.max(1, connected));
    const rssBytesPerConnection = perConnection(after - before);
    const heapBytesPerConnection = perConnection(heapAfter.heapUsed + heapAfter.external - heapBefore.heapUsed - heapBefore.external);
    return {
      server: kind,
      clients: opts.idleClients,
      connected,
      rssBeforeMB: round(before / MB, 1),
      rssAfterMB: round(after / MB, 1),
      rssBytesPerConnection,
      heapBytesPerConnection,
      bytesPerConnection: Math.max(rssBytesPerConnection, heapBytesPerConnection),
    };
  } finally {
    await Promise.all(children.map((c) => c.stop()));
    await server.stop();
  }
}
