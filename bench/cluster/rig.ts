/**
 * @module bench/cluster/rig
 * One configuration under load: Airwaves nodes as real processes (one on the memory engine, or
 * several on one redis-server), the hub benchmark's lean receiver and publisher processes.
 *
 * Where the load goes, as a load balancer in front of the nodes would put it:
 * - `spread` (the default): one publisher process per node (publisher p on node p), each
 *   publishing its own channels (channel c belongs to publisher c mod P) at an equal share of the
 *   rate. Receiver r sits on node r mod N and holds subscriptions to the channels of publisher
 *   ⌊r / N⌋ mod P only, so every receiver is either wholly on its publisher's node or wholly
 *   across Redis from it (cross-node latency is split out by receiver), and every node serves the
 *   same number of subscribers and publishers.
 * - `first`: one publisher on the first node for every channel (the earlier, one-sided rig).
 *
 * A step publishes at a rate for a time, waits (bounded) for the receivers to drain, and merges
 * their counts and latency histograms.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { LatencyHistogram } from '../hub/histogram.js';
import { Child, drainReceivers, type PublisherResult } from '../hub/ipc.js';
import { cpus } from 'node:os';
import { HOST, cpuPercent, machineCpuPercent, sampleMachine, sampleProc, type MachineSample, type ProcSample } from '../hub/servers.js';
import { channelName } from '../hub/wire.js';
import { NodeProcess } from '../../test/cluster/nodes.js';
import { CpuQuotaGroup, GROUP_PREFIX, throttleDelta, type ThrottleStats } from './cgroup.js';

const here = dirname(fileURLToPath(import.meta.url));
const RECEIVER = join(here, '..', 'hub', 'receiver.ts');
const PUBLISHER = join(here, '..', 'hub', 'publisher.ts');
const DRAIN_MAX_MS = 15_000;
const QUIET_MS = 1000;
const GENERATOR_BUSY_PERCENT = 90;
const round = (v: number, d = 2) => Math.round(v * 10 ** d) / 10 ** d;

export interface RigOptions {
  clients: number;
  channels: number;
  receivers: number;
  payloadBytes: number;
  p99LimitMs: number;
  /** One publisher per node, each with its own channels (`spread`), or one on the first node (`first`). */
  publishers: 'spread' | 'first';
}

/**
 * Who publishes what, and where every receiver goes, for `nodes` nodes. Receivers: at least
 * `opts.receivers`, rounded up to a multiple of N × P so every (node, publisher) pair gets the
 * same number of them. Subscriber i goes to receiver i mod R and, within it, to the receiver's
 * channels in turn.
 */
export function loadLayout(opts: RigOptions, nodes: number): { publisherChannels: number[][]; receiverNode: number[]; receiverChannels: string[][] } {
  const publishers = opts.publishers === 'spread' ? Math.min(nodes, opts.channels) : 1;
  const publisherChannels = Array.from({ length: publishers }, (_, p) => Array.from({ length: opts.channels }, (_, c) => c).filter((c) => c % publishers === p));
  const unit = nodes * publishers;
  const count = Math.min(Math.ceil(opts.receivers / unit) * unit, Math.max(1, opts.clients));
  const receiverNode = Array.from({ length: count }, (_, r) => r % nodes);
  const ownChannels = Array.from({ length: count }, (_, r) => publisherChannels[Math.floor(r / nodes) % publishers]);
  const receiverChannels: string[][] = Array.from({ length: count }, () => []);
  for (let i = 0; i < opts.clients; i++) {
    const r = i % count;
    const own = ownChannels[r];
    receiverChannels[r].push(channelName(own[receiverChannels[r].length % own.length]));
  }
  return { publisherChannels, receiverNode, receiverChannels };
}

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
  latencyMs: Latency;
  /** Only the receivers on a node other than the publisher's (null with one node). */
  crossNodeLatencyMs: Latency | null;
  /**
   * Only the receivers on their publisher's node (null with one node), in the same step as the
   * cross-node ones: the difference between the two is what the Redis hop adds.
   */
  sameNodeLatencyMs: Latency | null;
  /**
   * Percent of one core during the publishing window. `machine` is the whole box (200 = both
   * cores of a 2-core machine); `other` is what processes outside this benchmark took meanwhile.
   */
  cpuPercent: { nodes: number[]; redis: number | null; receivers: number[]; publishers: number[]; machine: number; other: number };
  /** Per quota'd node: percent of CFS periods in which it ran out of quota (null without quotas). */
  throttledPercent: number[] | null;
  drainMs: number;
  connected: number;
  generatorBound: boolean;
  pass: boolean;
  failure?: string;
  /** The second run of a rate whose first failed (--confirm-failures). */
  repeat?: boolean;
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
 * Environment of a benchmark node: limits lifted (the load comes from few connections), and the
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

export class ClusterRig {
  nodes: NodeProcess[] = [];
  receivers: Child[] = [];
  publishers: Child[] = [];
  /** Receiver index → node index. */
  private receiverNode: number[] = [];
  /** Receiver index → the node its channels are published on. */
  private receiverPublisherNode: number[] = [];
  /** Publisher index → the channel indexes it publishes. */
  private publisherChannels: number[][] = [];
  private subsPerChannel = new Map<string, number>();
  private stepId = 0;
  private readonly dataDir = mkdtempSync(join(tmpdir(), 'airwaves-bench-cluster-'));
  private readonly groups: CpuQuotaGroup[] = [];
  private loadGroup?: CpuQuotaGroup;

  constructor(
    readonly label: string,
    readonly opts: RigOptions,
    private readonly redis: { url: string; pid: number } | null,
    readonly nodeCount: number,
    private readonly quota: NodeCpuQuota | null = null,
  ) {}

  async setup(): Promise<void> {
    // Started one after the other: two cold tsx starts at once on two cores take longer than in turn.
    // Each node has its own data directory: the embedded database is one process's.
    for (let i = 0; i < this.nodeCount; i++) {
      const id = `${this.label}-${i}`;
      const node = await NodeProcess.start({ id, redisUrl: this.redis?.url, env: nodeEnv(join(this.dataDir, id)) });
      this.nodes.push(node);
      // Moved in once ready: a cold tsx start under a quarter of a core would take a minute.
      if (this.quota) {
        const group = CpuQuotaGroup.create(`${GROUP_PREFIX}${process.pid}-${id}`, this.quota.cores, this.quota.periodUs);
        this.groups.push(group);
        group.add(node.pid!);
      }
    }
    const layout = loadLayout(this.opts, this.nodeCount);
    this.publisherChannels = layout.publisherChannels;
    this.receiverNode = layout.receiverNode;
    // Publisher p is on node p.
    this.receiverPublisherNode = layout.receiverChannels.map((_, r) => Math.floor(r / this.nodeCount) % layout.publisherChannels.length);
    for (const chs of layout.receiverChannels) for (const ch of chs) this.subsPerChannel.set(ch, (this.subsPerChannel.get(ch) ?? 0) + 1);
    this.receivers = layout.receiverChannels.map((_, i) => new Child(RECEIVER, `${this.label}-receiver-${i}`));
    await Promise.all(
      this.receivers.map((r, i) =>
        r.call(
          { type: 'connect', kind: 'airwaves', host: HOST, port: this.nodes[this.receiverNode[i]].port, subscriptions: layout.receiverChannels[i], concurrency: 50 },
          120_000,
        ),
      ),
    );
    this.publishers = this.publisherChannels.map((_, p) => new Child(PUBLISHER, `${this.label}-publisher-${p}`));
    await Promise.all(this.publishers.map((pub, p) => pub.call({ type: 'connect', kind: 'airwaves', host: HOST, port: this.nodes[p].port }, 30_000)));
    if (this.quota) {
      // The load generators and redis-server: a group of their own with no ceiling and the same
      // high weight as the nodes, so neither the quota nor the machine's other work starves them.
      const load = CpuQuotaGroup.create(`${GROUP_PREFIX}${process.pid}-${this.label}-load`, null, this.quota.periodUs);
      this.loadGroup = load;
      for (const pid of [...this.receivers.map((r) => r.pid), ...this.publishers.map((p) => p.pid), ...(this.redis ? [this.redis.pid] : [])]) load.add(pid);
    }
  }

  /** How many receivers (and subscribers) each node has, and how many of them are across Redis from their publisher. */
  describeLayout(): { receivers: number; perNode: number[]; crossNode: number; publishers: number } {
    const perNode = this.nodes.map((_, n) => this.receiverNode.filter((x) => x === n).length);
    const crossNode = this.receiverNode.filter((n, r) => n !== this.receiverPublisherNode[r]).length;
    return { receivers: this.receivers.length, perNode, crossNode, publishers: this.publishers.length };
  }

  private samples(): { machine: MachineSample; nodes: ProcSample[]; redis: ProcSample | null; receivers: ProcSample[]; publishers: ProcSample[]; throttling: ThrottleStats[] } {
    return {
      throttling: this.groups.map((g) => g.throttling()),
      machine: sampleMachine(),
      nodes: this.nodes.map((n) => sampleProc(n.pid!)),
      redis: this.redis ? sampleProc(this.redis.pid) : null,
      receivers: this.receivers.map((r) => sampleProc(r.pid)),
      publishers: this.publishers.map((p) => sampleProc(p.pid)),
    };
  }

  async step(rate: number, durationMs: number): Promise<StepResult> {
    const { opts } = this;
    const step = ++this.stepId;
    await Promise.all(this.receivers.map((r) => r.call({ type: 'step', step })));
    const before = this.samples();
    // Each publisher's share of the rate is its share of the channels.
    const results = await Promise.all(
      this.publishers.map((p, i) =>
        p.call<PublisherResult>(
          { type: 'run', step, rate: (rate * this.publisherChannels[i].length) / opts.channels, durationMs, channels: opts.channels, channelIndexes: this.publisherChannels[i], payloadBytes: opts.payloadBytes },
          durationMs * 3 + 30_000,
        ),
      ),
    );
    const after = this.samples();
    const pub = {
      published: Object.assign({}, ...results.map((r) => r.published)) as Record<string, number>,
      total: results.reduce((a, r) => a + r.total, 0),
      elapsedMs: Math.max(...results.map((r) => r.elapsedMs)),
      achievedRate: results.reduce((a, r) => a + r.achievedRate, 0),
    };

    const { expected, drainMs, reports } = await drainReceivers(this.receivers, pub.published, this.subsPerChannel, { quietMs: QUIET_MS, maxMs: DRAIN_MAX_MS });
    const all = new LatencyHistogram();
    const cross = new LatencyHistogram();
    const same = new LatencyHistogram();
    let delivered = 0, lost = 0, duplicated = 0, outOfOrder = 0, connected = 0;
    reports.forEach((rep, i) => {
      all.merge(rep.histogram);
      (this.receiverNode[i] !== this.receiverPublisherNode[i] ? cross : same).merge(rep.histogram);
      delivered += rep.received;
      lost += rep.lost;
      duplicated += rep.duplicated;
      outOfOrder += rep.outOfOrder;
      connected += rep.connected;
    });
    const seconds = Math.max(pub.elapsedMs, durationMs) / 1000;
    const latencyMs = latencyOf(all);
    const nodes = before.nodes.map((b, i) => cpuPercent(b, after.nodes[i]));
    const redis = before.redis && after.redis ? cpuPercent(before.redis, after.redis) : null;
    const receivers = before.receivers.map((b, i) => cpuPercent(b, after.receivers[i]));
    const publishers = before.publishers.map((b, i) => cpuPercent(b, after.publishers[i]));
    const machine = machineCpuPercent(before.machine, after.machine, cpus().length);
    const ours = [...nodes, ...receivers, ...publishers, redis ?? 0].reduce((a, b) => a + b, 0);
    const cpu = {
      nodes: nodes.map((v) => round(v, 1)),
      redis: redis === null ? null : round(redis, 1),
      receivers: receivers.map((v) => round(v, 1)),
      publishers: publishers.map((v) => round(v, 1)),
      machine: round(machine, 1),
      // The coordinator's own polling is in here too; it is small.
      other: round(Math.max(0, machine - ours), 1),
    };
    const throttledPercent = this.groups.length
      ? before.throttling.map((b, i) => {
          const d = throttleDelta(b, after.throttling[i]);
          return d.periods > 0 ? round((100 * d.throttledPeriods) / d.periods, 1) : 0;
        })
      : null;
    const failures: string[] = [];
    if (lost > 0) failures.push(`${lost} lost`);
    if (duplicated > 0) failures.push(`${duplicated} duplicated`);
    if (outOfOrder > 0) failures.push(`${outOfOrder} out of order`);
    if (latencyMs.p99 > opts.p99LimitMs) failures.push(`p99 ${latencyMs.p99} ms > ${opts.p99LimitMs} ms`);
    if (pub.achievedRate < 0.95 * rate) failures.push(`publisher reached only ${Math.round(pub.achievedRate)} of ${rate} msg/s`);
    if (connected < opts.clients) failures.push(`${opts.clients - connected} subscribers disconnected`);
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
      latencyMs,
      crossNodeLatencyMs: this.nodeCount > 1 ? latencyOf(cross) : null,
      sameNodeLatencyMs: this.nodeCount > 1 ? latencyOf(same) : null,
      cpuPercent: cpu,
      throttledPercent,
      drainMs: Math.round(drainMs),
      connected,
      generatorBound: Math.max(...cpu.publishers, ...cpu.receivers) >= GENERATOR_BUSY_PERCENT || pub.achievedRate < 0.95 * rate,
      pass: failures.length === 0,
      failure: failures.length ? failures.join('; ') : undefined,
    };
  }

  async teardown(): Promise<void> {
    await Promise.all([...this.receivers, ...this.publishers].map((c) => c.stop()));
    await Promise.all(this.nodes.map((n) => n.stop()));
    for (const g of this.groups) g.remove();
    // redis-server outlives the rig (one per setup, stopped by the caller): back to the root group.
    if (this.redis && this.loadGroup) {
      try {
        CpuQuotaGroup.root().add(this.redis.pid);
      } catch {
        /* already gone */
      }
    }
    this.loadGroup?.remove();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
