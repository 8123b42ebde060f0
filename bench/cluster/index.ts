/**
 * @module bench/cluster
 * The cluster benchmark: `npm run bench -- cluster [options]` (see --help).
 *
 * It answers "if I add a node (with its own core), how many more clients and deliveries can I
 * serve?". Every node carries the same shape of load whatever the node count (rig.ts, a ring:
 * each node serves s subscribers on each of 2K channels at r msg/s each, K published through the
 * node itself and K through the next node), and the search raises s, the subscribers per
 * channel per node, until the p99 limit or a loss. Per connection and per channel nothing changes
 * with the node count, so N nodes at N× one node's clients is the ideal and more is impossible by
 * construction. Beside the search, the first step (the same s for every setup) gives the CPU each
 * delivery costs the nodes, which does not depend on the p99 limit.
 *
 * Setups run one after the other in one run (by default one in-memory node and two nodes on one
 * real redis-server; with `--node-cpu-quota` one, two and three Redis nodes, each node in its own
 * CPU cgroup with the same quota). Results: bench/results/cluster.json and cluster.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startRedis, type TestRedis } from '../../test/helpers/redis.js';
import { ClusterRig, type NodeCpuQuota, type RigOptions, type StepResult } from './rig.js';
import { checkCpuController, removeStaleGroups } from './cgroup.js';
import { reaper } from './reaper.js';
import { LOAD_SHAPE_FLAGS, numberOption as num } from '../hub/options.js';
import { NOISY_OTHER_CPU, renderMarkdown, summarize, type ConfigResult, type Setup } from './report.js';

const here = dirname(fileURLToPath(import.meta.url));

const LADDER = '100,200,300,400,450,500,550,600,650,700,760,820,900,1000,1100,1200,1350,1500';
const QUICK_LADDER = '100,300,500,700,900';
const FIXED = 300;

const USAGE = `usage: npm run bench -- cluster [options]
  --channels-per-node K  K: each node's subscribers are on 2K channels, K published through the node
                         itself and K through the next node (default 1)
  --channel-rate R       publications/s on every channel (default 10; a publication costs a node
                         about half a millisecond of CPU before its fan-out, so a few per second
                         per node leave the quota to the deliveries)
  --subscribers LIST     the ladder of s, subscribers per channel per node, the same for every setup
                         (default ${LADDER}; --quick ${QUICK_LADDER}); a node serves 2·K·s
                         connections. The search stops after two failing steps in a row.
  --fixed S              the step measured for --duration, whose CPU per delivery is compared
                         across setups (default ${FIXED}, about half one node's saturation at 0.15 of a core; added to the ladder)
  --payload BYTES        size of each publication's data (default 200)
  --duration S           seconds of the fixed-load step (default 5; --quick 3)
  --step-duration S      seconds of every other step (default 3; --quick 2)
  --warmup S             unreported step after each growth of the load (default 1)
  --setups LIST          engine:nodes list, e.g. memory:1,redis:2 (default memory:1,redis:2;
                         with --node-cpu-quota redis:1,redis:2,redis:3). The first one-node setup is the baseline.
  --node-cpu-quota X     put each node in its own cgroup v1 CPU group limited to X cores (e.g. 0.25);
                         needs a writable /sys/fs/cgroup/cpu (root)
  --cpu-period-ms MS     CFS period of those groups (default 10: a throttled node stalls for at most
                         the rest of a 10 ms period; see cgroup.ts)
  --no-saturation        the ladder up to the fixed-load step only
  --p99-limit MS         saturation criterion, the same for every setup (default 50)
  --out DIR              where cluster.json and cluster.md go (default bench/results)
  --quick                shorter run`;

export interface Options extends RigOptions {
  durationMs: number;
  stepDurationMs: number;
  warmupMs: number;
  setups: Setup[];
  quota: NodeCpuQuota | null;
  saturation: boolean;
  /** Subscribers per channel per node, step by step. */
  ladder: number[];
  /** The ladder's step measured for `durationMs`: CPU per delivery at the same load in every setup. */
  fixedSubscribers: number;
  outDir: string;
  crossNodeP99TargetMs: number;
  /** Scaling targets by node count, against the one-node baseline. */
  ratioTargets: Record<number, number>;
}

/**
 * The hub benchmark's load-shape flags this one shares (the same spellings); its --clients,
 * --channels, --rate and --receivers have no meaning here (the ring sets them), so they stay unknown.
 */
const { clients: _clients, channels: _channels, rate: _rate, receivers: _receivers, ...SHARED_FLAGS } = LOAD_SHAPE_FLAGS;

function parseSetups(raw: string): Setup[] {
  return raw.split(',').map((item) => {
    const m = /^(memory|redis):(\d+)$/.exec(item.trim());
    if (!m) throw new Error(`--setups: "${item}" is not engine:nodes (memory:1, redis:1..8)`);
    const nodes = Number(m[2]);
    if (nodes < 1 || nodes > 8 || (m[1] === 'memory' && nodes !== 1)) throw new Error(`--setups: "${item}": memory runs 1 node, redis 1 to 8`);
    return { engine: m[1] as Setup['engine'], nodes };
  });
}

function parseOptions(args: string[]): Options {
  const { values } = parseArgs({
    args,
    options: {
      'channels-per-node': { type: 'string' },
      'channel-rate': { type: 'string' },
      subscribers: { type: 'string' },
      fixed: { type: 'string' },
      ...SHARED_FLAGS,
      setups: { type: 'string' },
      'node-cpu-quota': { type: 'string' },
      'cpu-period-ms': { type: 'string' },
      'p99-limit': { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const quick = values.quick ?? false;
  const quotaCores = values['node-cpu-quota'] === undefined ? null : num('node-cpu-quota', values['node-cpu-quota'], 0.25, 0.01, 64);
  const quota = quotaCores === null ? null : { cores: quotaCores, periodUs: Math.round(1000 * num('cpu-period-ms', values['cpu-period-ms'], 10, 1, 1000)) };
  const ladder = (values.subscribers ?? (quick ? QUICK_LADDER : LADDER)).split(',').map((v) => Math.round(num('subscribers', v.trim(), 0, 1, 100_000)));
  if (ladder.some((v, i) => i > 0 && v <= ladder[i - 1])) throw new Error(`--subscribers must rise step by step (got ${ladder.join(',')}): connections are only ever added`);
  const fixedSubscribers = Math.round(num('fixed', values.fixed, Math.min(FIXED, ladder[ladder.length - 1]), 1, 100_000));
  if (!ladder.includes(fixedSubscribers)) {
    ladder.push(fixedSubscribers);
    ladder.sort((a, b) => a - b);
  }
  return {
    channelsPerNode: Math.round(num('channels-per-node', values['channels-per-node'], 1, 1, 100)),
    channelRate: num('channel-rate', values['channel-rate'], 10, 0.1, 10_000),
    payloadBytes: Math.round(num('payload', values.payload, 200, 40, 60_000)),
    durationMs: 1000 * num('duration', values.duration, quick ? 3 : 5, 0.2, 600),
    stepDurationMs: 1000 * num('step-duration', values['step-duration'], quick ? 2 : 3, 0.2, 600),
    warmupMs: 1000 * num('warmup', values.warmup, 1, 0, 60),
    setups: parseSetups(values.setups ?? (quota ? 'redis:1,redis:2,redis:3' : 'memory:1,redis:2')),
    quota,
    saturation: !values['no-saturation'],
    ladder,
    fixedSubscribers,
    p99LimitMs: num('p99-limit', values['p99-limit'], 50, 0.1, 60_000),
    outDir: values.out ?? join(here, '..', 'results'),
    crossNodeP99TargetMs: 10,
    ratioTargets: { 2: 1.7, 3: 2.4 },
  };
}

function describe(label: string, s: StepResult): string {
  const cross = s.crossNodeLatencyMs ? ` same-node p99 ${s.sameNodeLatencyMs?.p99 ?? '–'} cross-node p99 ${s.crossNodeLatencyMs.p99}` : '';
  const throttled = s.throttledPercent ? ` throttled ${s.throttledPercent.join('/')}%` : '';
  const verdict = (s.pass ? 'pass' : `FAIL (${s.failure})`) + (s.generatorBound ? ' [load generator busy]' : '') + (s.cpuPercent.other > NOISY_OTHER_CPU ? ' [machine busy]' : '');
  return (
    `  ${label.padEnd(15)} s=${String(s.subscribersPerChannel).padStart(4)} ${String(s.clients).padStart(5)} clients → ${String(s.deliveredPerSec).padStart(7)} deliveries/s  ` +
    `p50 ${s.latencyMs.p50} p95 ${s.latencyMs.p95} p99 ${s.latencyMs.p99} ms${cross}  lost ${s.lost}  ` +
    `cpu nodes ${s.cpuPercent.nodes.join('+')}%${throttled} (${s.cpuUsPerDelivery.nodes} µs/delivery)${s.cpuPercent.redis !== null ? ` redis ${s.cpuPercent.redis}%` : ''} ` +
    `receivers ${s.cpuPercent.receivers.join('+')}% publishers ${s.cpuPercent.publishers.join('+')}% other ${s.cpuPercent.other}%  ${verdict}`
  );
}

async function redisPid(redis: TestRedis): Promise<number> {
  const client = redis.client();
  const info = await client.info('server');
  const m = /process_id:(\d+)/.exec(info);
  if (!m) throw new Error('INFO server reported no process_id');
  return Number(m[1]);
}

const labelOf = (s: Setup, quota: NodeCpuQuota | null) => `${s.nodes} node${s.nodes > 1 ? 's' : ''} ${s.engine}${quota ? ` @${quota.cores}` : ''}`;

/** Highest passing step (by deliveries/s) of a ladder, or null. */
function best(ladder: StepResult[]): StepResult | null {
  const passing = ladder.filter((s) => s.pass);
  return passing.length ? passing.reduce((a, b) => (b.deliveredPerSec > a.deliveredPerSec ? b : a)) : null;
}

/** What ended the search: the failing step above the saturation point, read by who was busy then. */
function limitOf(failing: StepResult | undefined, quota: NodeCpuQuota | null): ConfigResult['limitedBy'] {
  if (!failing) return 'max load';
  if (failing.generatorBound) return 'load generator';
  // With quotas: a node at 90 % of its quota or more was the limit, whatever else ran.
  if (quota) return Math.max(...failing.cpuPercent.nodes) >= 90 * quota.cores ? 'nodes' : 'below quota';
  return failing.cpuPercent.other <= NOISY_OTHER_CPU ? 'nodes' : 'below quota';
}

async function runSetup(setup: Setup, opts: Options, log: (l: string) => void, redis: { url: string; pid: number } | null): Promise<ConfigResult> {
  const label = labelOf(setup, opts.quota);
  const rig = new ClusterRig(`${setup.engine}${setup.nodes}`, opts, redis, setup.nodes, opts.quota);
  try {
    await rig.setup();
    const layout = rig.describeLayout();
    log(`  ${layout.publishers} publisher(s), ${layout.channels} channels, ${layout.receivers} receiver processes, ${Math.round(layout.crossNodeShare * 100)} % of deliveries across Redis`);
    const grow = async (s: number) => {
      await rig.grow(s);
      // Unreported: the new connections' handshakes and first deliveries are not what is measured.
      if (opts.warmupMs > 0) await rig.step(opts.warmupMs);
    };
    const ladder: StepResult[] = [];
    let fixed: StepResult | null = null;
    // Walked past a single failure (a step on a shared machine can catch someone else's burst),
    // ended by two in a row; connections are only ever added, so there is no bisection.
    let failedInARow = 0;
    for (const s of opts.ladder) {
      if (!opts.saturation && s > opts.fixedSubscribers) break;
      await grow(s);
      const step = await rig.step(s === opts.fixedSubscribers ? opts.durationMs : opts.stepDurationMs);
      if (s === opts.fixedSubscribers) fixed = step;
      ladder.push(step);
      log(describe(label, step));
      failedInARow = step.pass ? 0 : failedInARow + 1;
      if (failedInARow >= 2) break;
    }
    const saturation = best(ladder);
    const firstFail = ladder.find((s) => !s.pass && (!saturation || s.subscribersPerChannel > saturation.subscribersPerChannel));
    // The passing step nearest half the saturation throughput (for the cross-node latency target).
    const halfLoad = saturation
      ? ladder.filter((s) => s.pass && s.deliveredPerSec <= saturation.deliveredPerSec).reduce<StepResult | null>((a, b) => (!a || Math.abs(b.deliveredPerSec - saturation.deliveredPerSec / 2) < Math.abs(a.deliveredPerSec - saturation.deliveredPerSec / 2) ? b : a), null)
      : null;
    return { label, ...setup, fixed, ladder, saturation, limitedBy: opts.saturation ? limitOf(firstFail, opts.quota) : null, halfLoad, layout };
  } finally {
    await rig.teardown();
  }
}

export async function main(args: string[]): Promise<void> {
  const opts = parseOptions(args);
  const started = Date.now();
  const log = (line: string) => console.log(line);
  // Interrupted (Ctrl-C, a kill, a crash): nodes, redis-server, generators and CPU groups go too.
  reaper.install(log);
  reaper.watchAncestors(log);
  if (opts.quota) {
    checkCpuController();
    const stale = removeStaleGroups();
    if (stale.groups.length) log(`removed ${stale.groups.length} CPU group(s) left by an interrupted run (${stale.groups.join(', ')}); ${stale.movedPids.length} process(es) still in them moved back to the root group: ${stale.movedPids.join(', ') || 'none'}`);
  }
  const mode = opts.quota
    ? `quota'd: each node in its own cgroup v1 CPU group, ${opts.quota.cores} core per ${opts.quota.periodUs / 1000} ms period`
    : 'unquota\'d: every process shares the whole machine';
  log(
    `cluster benchmark (${mode}): per node 2 × ${opts.channelsPerNode} channel(s) at ${opts.channelRate} msg/s each, s subscribers per channel per node over ${opts.ladder.join(', ')}, ${opts.payloadBytes}-byte payload; ` +
      `setups: ${opts.setups.map((s) => `${s.engine}:${s.nodes}`).join(', ')}`,
  );
  const loadBefore = loadavg().map((v) => Math.round(v * 100) / 100);
  const configs: ConfigResult[] = [];
  const failures: string[] = [];
  for (const setup of opts.setups) {
    log(`\n[${labelOf(setup, opts.quota)}]`);
    let redis: TestRedis | null = null;
    let pid: number | undefined;
    try {
      // No persistence: the hub engine's state is disposable, and AOF writes would only add noise.
      if (setup.engine === 'redis') {
        redis = await startRedis();
        pid = await redisPid(redis);
        reaper.track(pid, 'redis-server');
      }
      configs.push(await runSetup(setup, opts, log, redis && pid !== undefined ? { url: redis.url, pid } : null));
    } catch (err) {
      // One setup that cannot run (a node not ready in time on a loaded machine) is reported; the others' results are kept.
      const message = (err as Error).message.split('\n')[0];
      log(`  setup failed: ${message}`);
      failures.push(`${labelOf(setup, opts.quota)}: ${message}`);
    } finally {
      await redis?.close();
      reaper.untrack(pid);
    }
  }
  const summary = summarize(opts, configs);
  const results = {
    benchmark: 'cluster',
    date: new Date().toISOString(),
    wallSeconds: Math.round((Date.now() - started) / 1000),
    mode,
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      memoryGB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      loadAverageBefore: loadBefore,
      loadAverageAfter: loadavg().map((v) => Math.round(v * 100) / 100),
    },
    options: opts,
    configs,
    failures,
    summary,
  };
  const markdown = renderMarkdown(results);
  mkdirSync(opts.outDir, { recursive: true });
  writeFileSync(join(opts.outDir, 'cluster.json'), JSON.stringify(results, null, 2) + '\n');
  writeFileSync(join(opts.outDir, 'cluster.md'), markdown);
  log('\n' + markdown);
  log(`results written to ${join(opts.outDir, 'cluster.json')} and cluster.md (${results.wallSeconds} s)`);
}
