/**
 * @module bench/cluster/rig
 * One setup under load: Airwaves nodes as real processes (one on the memory engine, or several on
 * one redis-server), the hub benchmark's lean receiver and publisher processes.
 *
 * The load has the same shape on every node, whatever the node count. Node n serves s subscribers
 * (the search raises s) on each of 2K channels, K in each of two sets:
 * - A_n, published through node n itself (receiver "own": same-node deliveries);
 * - B_n, published through node n+1 (receiver "cross": deliveries across Redis).
 * Publisher n, connected to node n, publishes A_n and B_(n−1), every channel at `channelRate`.
 * So every node, for any N including 1 (where B_0 is published through node 0 too), accepts 2K·r
 * publications, receives 2K·r messages from the engine, fans each out to s sockets (2K·r·s
 * deliveries) over 2K·s connections, one message per connection per 1/r s. N nodes serving N×
 * one node's clients is the ideal, and more is impossible by construction: only redis-server,
 * shared by all, does more work per node as N grows (its CPU is reported).
 *
 * A step publishes for a time, waits (bounded) for the receivers to drain, and merges their
 * counts and latency histograms.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { LatencyHistogram } from '../hub/histogram.js';
import { Child, drainReceivers, type PublisherResult } from '../hub/ipc.js';
import { HOST, machineCpuPercent, sampleMachine, sampleProc, type MachineSample, type ProcSample } from '../hub/servers.js';
import { monotonicUs } from '../hub/lean-socket.js';
import { channelName } from '../hub/wire.js';
import type { PhasedPublisherRequest } from './phased-publisher.js';
import { NodeProcess } from '../../test/cluster/nodes.js';
import { CpuQuotaGroup, GROUP_PREFIX, throttleDelta, type ThrottleStats } from './cgroup.js';
import { reaper } from './reaper.js';
import { startReceiver, type ReceiverKind, type ReceiverProcess } from './c-receiver.js';
import { quantileMs, scrapeNode, type NodeHistograms } from './node-metrics.js';

const here = dirname(fileURLToPath(import.meta.url));
const PUBLISHER = join(here, 'phased-publisher.ts');
/** How far ahead of now the publishers of a step are told to start, so the request reaches every one of them first. */
const START_LEAD_US = 200_000;
const DRAIN_MAX_MS = 15_000;
const QUIET_MS = 1000;
const GENERATOR_BUSY_PERCENT = 90;
const round = (v: number, d = 2) => Math.round(v * 10 ** d) / 10 ** d;

export interface RigOptions {
  /** K: channels per set; a node's subscribers are on 2K channels, K same-node and K across Redis. */
  channelsPerNode: number;
  /** Publications per second on every channel (r). */
  channelRate: number;
  payloadBytes: number;
  p99LimitMs: number;
  /**
   * When each channel publishes within its period 1/r (`channelPhasesUs`): "staggered" (the
   * default) spaces each node's 2K channels evenly and shifts node n by n/N of that spacing, so
   * every node sees one node's schedule and the nodes' fan-outs take turns on the shared cores;
   * "aligned": every node at the same instants; "free": each publisher round-robin from whenever
   * its request arrives (the rig before 13:00 UTC 7 Dec).
   */
  phases: PublishPhases;
  /** The receivers' implementation (bench/cluster/c-receiver.ts); absent: the C one. */
  receiver?: ReceiverKind;
}

export type PublishPhases = 'staggered' | 'aligned' | 'free';

/** Each node in its own CPU cgroup with this quota (cores) per period; absent: nodes unconstrained. */
export interface NodeCpuQuota {
  cores: number;
  periodUs: number;
}

export interface Latency {
  p50: number;
  p95: number;
  p99: number;
  max: number;
  count: number;
}

/** Channel sets A_n (same-node) and B_n (across Redis), publishers and receivers for N nodes with K channels per set. */
export function ringLayout(nodes: number, channelsPerSet: number): { publisherChannels: number[][]; receivers: { node: number; publisherNode: number; channels: number[] }[] } {
  const set = (n: number, which: 0 | 1) => Array.from({ length: channelsPerSet }, (_, j) => (2 * n + which) * channelsPerSet + j);
  const prev = (n: number) => (n + nodes - 1) % nodes;
  const publisherChannels = Array.from({ length: nodes }, (_, n) => [...set(n, 0), ...set(prev(n), 1)]);
  const receivers = Array.from({ length: nodes }, (_, n) => [
    { node: n, publisherNode: n, channels: set(n, 0) },
    { node: n, publisherNode: (n + 1) % nodes, channels: set(n, 1) },
  ]).flat();
  return { publisherChannels, receivers };
}

/**
 * Phase (µs within a period of 1/r) of every channel of the ring, by channel index. Node n's
 * channels (A_n then B_n, 2K of them) sit i/(2K) of a period apart, as one publisher's round-robin
 * puts them on a lone node, so no node's fan-outs meet each other earlier than one node's do.
 * "staggered" shifts node n by n/(2K·N) of a period: a node with a core of its own would not care
 * when the others fan out, but here the nodes share two cores, and in phase N nodes' fan-outs
 * (and their receivers) would all ask for the cores at once.
 */
export function channelPhasesUs(nodes: number, channelsPerSet: number, channelRate: number, mode: Exclude<PublishPhases, 'free'>): Map<number, number> {
  const periodUs = 1e6 / channelRate;
  const perNode = 2 * channelsPerSet;
  const phases = new Map<number, number>();
  for (let n = 0; n < nodes; n++) {
    const shift = mode === 'staggered' ? n / (perNode * nodes) : 0;
    // A_n is channels [2n·K, 2n·K + K), B_n the next K (ringLayout's numbering).
    for (let i = 0; i < perNode; i++) phases.set(2 * n * channelsPerSet + i, Math.round((i / perNode + shift) * periodUs));
  }
  return phases;
}

export interface StepResult {
  /** Subscribers per channel per node (s). */
  subscribersPerChannel: number;
  /** Connections on all nodes together. */
  clients: number;
  durationMs: number;
  published: number;
  achievedRate: number;
  expected: number;
  delivered: number;
  deliveredPerSec: number;
  lost: number;
  duplicated: number;
  outOfOrder: number;
  latencyMs: Latency;
  /** Receivers of the B channels, published through the next node, so across Redis (null with one node). */
  crossNodeLatencyMs: Latency | null;
  /** Receivers of the A channels, published through their own node, same step (null with one node). */
  sameNodeLatencyMs: Latency | null;
  /**
   * Percent of one core during the publishing window. `machine` is the whole box (200 = both
   * cores of a 2-core machine); `other` is what processes outside this benchmark took meanwhile.
   */
  cpuPercent: { nodes: number[]; redis: number | null; receivers: number[]; publishers: number[]; machine: number; other: number };
  /** CPU time per delivery, µs: all nodes together, redis-server, and the load generators. */
  cpuUsPerDelivery: { nodes: number; redis: number | null; generators: number };
  /** Per quota'd node: percent of CFS periods in which it ran out of quota (null without quotas). */
  throttledPercent: number[] | null;
  /** Per quota'd node: mean stall of a throttled period, ms (throttled time over throttled periods). */
  stallMs: number[] | null;
  /**
   * Per node, p99 from its own histograms (bucket upper bounds, ms; node-metrics.ts): the publish
   * script's round trip, and engine publish → socket write. Null where a node had none.
   */
  split: { publishRttP99Ms: (number | null)[]; publishToWriteP99Ms: (number | null)[] };
  /**
   * Per node at the step's end, cumulative since it started (node-metrics.ts): the hub's old
   * `duplicate_from_engine` drop (null: no such metric, the guard is gone) and the engine's own
   * dropped copies; null where the node's /metrics could not be read.
   */
  engineCounters: ({ duplicateFromEngine: number | null; engineDuplicates: number } | null)[];
  drainMs: number;
  connected: number;
  generatorBound: boolean;
  pass: boolean;
  failure?: string;
  /** Set by the search: this attempt failed on a transient (p99 or publish rate) and was run again at the same load. */
  retried?: boolean;
  /** Set by the search: this is a later attempt of a step whose first failed. */
  retry?: boolean;
  /** Set by the search: this attempt failed while other work took more than NOISY_OTHER_CPU of a core, and was run again on top of the retries. */
  disturbed?: boolean;
  /** Whether a failure is one a retry may clear: p99 or publish rate, never a loss, duplicate, reorder or disconnect. */
  transient?: boolean;
}

function latencyOf(h: LatencyHistogram): Latency {
  return {
    p50: round(h.quantile(0.5) / 1000, 3),
    p95: round(h.quantile(0.95) / 1000, 3),
    p99: round(h.quantile(0.99) / 1000, 3),
    max: round(h.maxUs / 1000, 3),
    count: h.count,
  };
}

export const BENCH_API_KEY = 'bench-api-key-0123456789abcdef-0123456789';

/**
 * Environment of a benchmark node: limits lifted (the load comes from few processes), and the
 * hub alone (no app): the apps' start-up (databases) takes minutes on a loaded machine, and their
 * background work would spend the node's quota on something other than what is measured.
 */
function nodeEnv(dataDir: string): Record<string, string> {
  return {
    AIRWAVES_APPS: '',
    AIRWAVES_DATA_DIR: dataDir,
    AIRWAVES_API_KEY: BENCH_API_KEY,
    // Shared by every node: tokens must verify on all of them.
    AIRWAVES_JWT_SECRET: 'bench-jwt-secret-0123456789abcdef-0123456789',
    AIRWAVES_LOG_LEVEL: 'warn',
    AIRWAVES_RADIO_ENABLED: 'false',
    AIRWAVES_MAX_CONNECTIONS_PER_IP: '1000000',
    AIRWAVES_COMMAND_RATE: '1000000',
    AIRWAVES_PUBLISH_RATE: '1000000',
    AIRWAVES_PUBLISH_BYTES_RATE: '1000000000',
    AIRWAVES_NAMESPACES: JSON.stringify([{ name: 'bench', publish: 'anonymous', subscribe: 'anonymous', historySize: 1000, maxMessageBytes: 65536 }]),
  };
}

interface Samples {
  machine: MachineSample;
  nodes: ProcSample[];
  redis: ProcSample | null;
  receivers: ProcSample[];
  publishers: ProcSample[];
  throttling: ThrottleStats[];
}

export class ClusterRig {
  nodes: NodeProcess[] = [];
  receivers: ReceiverProcess[] = [];
  publishers: Child[] = [];
  private layout: ReturnType<typeof ringLayout>;
  /** Subscribers per channel per node now connected (s). */
  private perChannel = 0;
  private subsPerChannel = new Map<string, number>();
  private stepId = 0;
  private readonly dataDir = mkdtempSync(join(tmpdir(), 'airwaves-bench-cluster-'));
  private readonly groups: CpuQuotaGroup[] = [];
  private readonly helperGroups: CpuQuotaGroup[] = [];

  constructor(
    readonly label: string,
    readonly opts: RigOptions,
    private readonly redis: { url: string; pid: number } | null,
    readonly nodeCount: number,
    private readonly quota: NodeCpuQuota | null = null,
  ) {
    this.layout = ringLayout(nodeCount, opts.channelsPerNode);
  }

  async setup(): Promise<void> {
    // Started one after the other: two cold tsx starts at once on two cores take longer than in turn.
    // Each node has its own data directory: the embedded database is one process's.
    for (let i = 0; i < this.nodeCount; i++) {
      const id = `${this.label}-${i}`;
      const node = await NodeProcess.start({ id, redisUrl: this.redis?.url, env: nodeEnv(join(this.dataDir, id)), detached: true });
      reaper.track(node.pid, `node ${id}`);
      this.nodes.push(node);
      // Moved in once ready: a cold tsx start under a quarter of a core would take a minute.
      if (this.quota) {
        const group = CpuQuotaGroup.create(`${GROUP_PREFIX}${process.pid}-${id}`, this.quota.cores, this.quota.periodUs);
        this.groups.push(group);
        reaper.trackGroup(group);
        group.add(node.pid!);
      }
    }
    this.receivers = this.layout.receivers.map((r, i) => startReceiver(this.opts.receiver ?? 'c', `${this.label}-receiver-${i}-node${r.node}`));
    this.publishers = this.layout.publisherChannels.map((_, p) => new Child(PUBLISHER, `${this.label}-publisher-${p}`));
    for (const c of [...this.receivers, ...this.publishers]) reaper.track(c.pid, 'load generator');
    // Two minutes: at load average 20–30 (03:50–04:15 UTC) four rigs' publishers did not connect within 30 s.
    await Promise.all(this.publishers.map((pub, p) => pub.call({ type: 'connect', host: HOST, port: this.nodes[p].port }, 120_000)));
    if (this.quota) {
      // No ceiling and the same high weight as the nodes: neither the quota nor the machine's
      // other work starves them. redis-server has a group of its own, so the load generators
      // cannot take its share either.
      const load = CpuQuotaGroup.create(`${GROUP_PREFIX}${process.pid}-${this.label}-load`, null, this.quota.periodUs);
      this.helperGroups.push(load);
      reaper.trackGroup(load);
      for (const pid of [...this.receivers.map((r) => r.pid), ...this.publishers.map((p) => p.pid)]) load.add(pid);
      if (this.redis) {
        const redis = CpuQuotaGroup.create(`${GROUP_PREFIX}${process.pid}-${this.label}-redis`, null, this.quota.periodUs);
        this.helperGroups.push(redis);
        reaper.trackGroup(redis);
        redis.add(this.redis.pid);
      }
    }
  }

  /** Raises the subscribers per channel per node to `s` (connections only added); false when it already had them. */
  async grow(s: number): Promise<boolean> {
    const add = s - this.perChannel;
    if (add <= 0) return false;
    await Promise.all(
      this.layout.receivers.map((r, i) => {
        const subscriptions = r.channels.flatMap((c) => Array.from({ length: add }, () => channelName(c)));
        return this.receivers[i].call({ type: 'connect', kind: 'airwaves', host: HOST, port: this.nodes[r.node].port, subscriptions, concurrency: 20 }, 300_000);
      }),
    );
    this.perChannel = s;
    this.subsPerChannel.clear();
    for (const r of this.layout.receivers) for (const c of r.channels) this.subsPerChannel.set(channelName(c), (this.subsPerChannel.get(channelName(c)) ?? 0) + s);
    return true;
  }

  /** Where the load is: connections per node, and how many of a node's deliveries come across Redis. */
  describeLayout(): { publishers: number; receivers: number; channels: number; crossNodeShare: number } {
    const cross = this.layout.receivers.filter((r) => r.node !== r.publisherNode).length;
    return { publishers: this.publishers.length, receivers: this.receivers.length, channels: this.nodeCount * 2 * this.opts.channelsPerNode, crossNodeShare: cross / this.layout.receivers.length };
  }

  private samples(): Samples {
    return {
      throttling: this.groups.map((g) => g.throttling()),
      machine: sampleMachine(),
      nodes: this.nodes.map((n) => sampleProc(n.pid!)),
      redis: this.redis ? sampleProc(this.redis.pid) : null,
      receivers: this.receivers.map((r) => sampleProc(r.pid)),
      publishers: this.publishers.map((p) => sampleProc(p.pid)),
    };
  }

  async step(durationMs: number): Promise<StepResult> {
    const { opts } = this;
    const step = ++this.stepId;
    await Promise.all(this.receivers.map((r) => r.call({ type: 'step', step })));
    const scrape = () => Promise.all(this.nodes.map((n) => scrapeNode(n.port, BENCH_API_KEY)));
    const histBefore = await scrape();
    const phases = opts.phases === 'free' ? null : channelPhasesUs(this.nodeCount, opts.channelsPerNode, opts.channelRate, opts.phases);
    const startAtUs = phases ? monotonicUs() + START_LEAD_US : null;
    const running = Promise.all(
      this.publishers.map((p, i) => {
        const indexes = this.layout.publisherChannels[i];
        // Free: round-robin from the request's arrival, as the hub benchmark's publisher does.
        const channels = indexes.map((index, j) => ({ index, phaseUs: phases ? phases.get(index)! : Math.round((j * 1e6) / (opts.channelRate * indexes.length)) }));
        const run: PhasedPublisherRequest = { type: 'run', step, rate: opts.channelRate, durationMs, payloadBytes: opts.payloadBytes, startAtUs, channels };
        return p.call<PublisherResult>(run, durationMs * 3 + 30_000);
      }),
    );
    // The CPU window starts when the publishers do, not with the lead their requests were given.
    if (startAtUs !== null) await new Promise((r) => setTimeout(r, Math.max(0, (startAtUs - monotonicUs()) / 1000)));
    const before = this.samples();
    const results = await running;
    const after = this.samples();
    const published = Object.assign({}, ...results.map((r) => r.published)) as Record<string, number>;
    const total = results.reduce((a, r) => a + r.total, 0);
    const elapsedMs = Math.max(...results.map((r) => r.elapsedMs));
    const achievedRate = results.reduce((a, r) => a + r.achievedRate, 0);
    const wantedRate = opts.channelRate * this.nodeCount * 2 * opts.channelsPerNode;

    const { expected, drainMs, reports } = await drainReceivers(this.receivers, published, this.subsPerChannel, { quietMs: QUIET_MS, maxMs: DRAIN_MAX_MS });
    // CPU per delivery counts from the first publication to the last delivery (the drain included).
    const drained = this.samples();
    const histAfter = await scrape();
    const p99Of = (pick: (h: NodeHistograms) => Map<number, number>) =>
      histAfter.map((a, i) => {
        const b = histBefore[i];
        return a && b ? quantileMs(pick(b), pick(a), 0.99) : null;
      });
    const all = new LatencyHistogram();
    const cross = new LatencyHistogram();
    const same = new LatencyHistogram();
    let delivered = 0, lost = 0, duplicated = 0, outOfOrder = 0, connected = 0;
    reports.forEach((rep, i) => {
      const r = this.layout.receivers[i];
      all.merge(rep.histogram);
      (r.node !== r.publisherNode ? cross : same).merge(rep.histogram);
      delivered += rep.received;
      lost += rep.lost;
      duplicated += rep.duplicated;
      outOfOrder += rep.outOfOrder;
      connected += rep.connected;
    });
    const seconds = Math.max(elapsedMs, durationMs) / 1000;
    const latencyMs = latencyOf(all);
    const wall = (after.nodes[0].at - before.nodes[0].at) / 1000;
    const cpuSeconds = (a: ProcSample[], b: ProcSample[]) => a.map((x, i) => b[i].cpuSeconds - x.cpuSeconds);
    const nodeSec = cpuSeconds(before.nodes, after.nodes);
    const receiverSec = cpuSeconds(before.receivers, after.receivers);
    const publisherSec = cpuSeconds(before.publishers, after.publishers);
    const redisSec = before.redis && after.redis ? after.redis.cpuSeconds - before.redis.cpuSeconds : null;
    const pct = (sec: number) => (wall > 0 ? (100 * sec) / wall : 0);
    const sum = (v: number[]) => v.reduce((a, b) => a + b, 0);
    const machine = machineCpuPercent(before.machine, after.machine, cpus().length);
    const ours = pct(sum(nodeSec) + sum(receiverSec) + sum(publisherSec) + (redisSec ?? 0));
    const cpu = {
      nodes: nodeSec.map((v) => round(pct(v), 1)),
      redis: redisSec === null ? null : round(pct(redisSec), 1),
      receivers: receiverSec.map((v) => round(pct(v), 1)),
      publishers: publisherSec.map((v) => round(pct(v), 1)),
      machine: round(machine, 1),
      // The coordinator's own polling is in here too; it is small.
      other: round(Math.max(0, machine - ours), 1),
    };
    const perDelivery = (sec: number) => (delivered > 0 ? round((sec * 1e6) / delivered, 2) : 0);
    const untilDrained = (pick: (s: Samples) => ProcSample[]) => sum(cpuSeconds(pick(before), pick(drained)));
    const throttledPercent = this.groups.length
      ? before.throttling.map((b, i) => {
          const d = throttleDelta(b, after.throttling[i]);
          return d.periods > 0 ? round((100 * d.throttledPeriods) / d.periods, 1) : 0;
        })
      : null;
    const stallMs = this.groups.length
      ? before.throttling.map((b, i) => {
          const d = throttleDelta(b, after.throttling[i]);
          return d.throttledPeriods > 0 ? round(d.throttledMs / d.throttledPeriods, 2) : 0;
        })
      : null;
    const clients = this.perChannel * 2 * opts.channelsPerNode * this.nodeCount;
    const failures: string[] = [];
    if (lost > 0) failures.push(`${lost} lost`);
    if (duplicated > 0) failures.push(`${duplicated} duplicated`);
    if (outOfOrder > 0) failures.push(`${outOfOrder} out of order`);
    if (latencyMs.p99 > opts.p99LimitMs) failures.push(`p99 ${latencyMs.p99} ms > ${opts.p99LimitMs} ms`);
    if (achievedRate < 0.95 * wantedRate) failures.push(`publishers reached only ${Math.round(achievedRate)} of ${wantedRate} msg/s`);
    if (connected < clients) failures.push(`${clients - connected} subscribers disconnected`);
    return {
      subscribersPerChannel: this.perChannel,
      clients,
      durationMs,
      published: total,
      achievedRate: round(achievedRate, 1),
      expected,
      delivered,
      deliveredPerSec: Math.round(delivered / seconds),
      lost,
      duplicated,
      outOfOrder,
      latencyMs,
      crossNodeLatencyMs: this.nodeCount > 1 ? latencyOf(cross) : null,
      sameNodeLatencyMs: this.nodeCount > 1 ? latencyOf(same) : null,
      cpuPercent: cpu,
      cpuUsPerDelivery: {
        nodes: perDelivery(untilDrained((x) => x.nodes)),
        redis: before.redis && drained.redis ? perDelivery(drained.redis.cpuSeconds - before.redis.cpuSeconds) : null,
        generators: perDelivery(untilDrained((x) => x.receivers) + untilDrained((x) => x.publishers)),
      },
      throttledPercent,
      stallMs,
      split: { publishRttP99Ms: p99Of((h) => h.publish), publishToWriteP99Ms: p99Of((h) => h.delivery) },
      engineCounters: histAfter.map((h) => (h ? { duplicateFromEngine: h.duplicateFromEngine, engineDuplicates: h.engineDuplicates } : null)),
      drainMs: Math.round(drainMs),
      connected,
      generatorBound: Math.max(...cpu.publishers, ...cpu.receivers) >= GENERATOR_BUSY_PERCENT || achievedRate < 0.95 * wantedRate,
      pass: failures.length === 0,
      failure: failures.length ? failures.join('; ') : undefined,
      transient: failures.length > 0 && lost + duplicated + outOfOrder === 0 && connected >= clients,
    };
  }

  async teardown(): Promise<void> {
    await Promise.all([...this.receivers, ...this.publishers].map((c) => c.stop()));
    await Promise.all(this.nodes.map((n) => n.stop()));
    for (const p of [...this.receivers, ...this.publishers, ...this.nodes]) reaper.untrack(p.pid);
    for (const g of this.groups) g.remove();
    // redis-server outlives the rig (one per setup, stopped by the caller): back to the root group.
    if (this.redis && this.helperGroups.length) {
      try {
        CpuQuotaGroup.root().add(this.redis.pid);
      } catch {
        /* already gone */
      }
    }
    for (const g of this.helperGroups) g.remove();
    for (const g of [...this.groups, ...this.helperGroups]) reaper.untrackGroup(g);
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
