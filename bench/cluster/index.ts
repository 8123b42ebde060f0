/**
 * @module bench/cluster
 * The cluster benchmark: `npm run bench -- cluster [options]` (see --help).
 *
 * One scenario runs against several setups in one run (by default one in-memory node and two
 * nodes on one real redis-server; with `--node-cpu-quota` one, two and three Redis nodes, each
 * node in its own CPU cgroup with the same quota). Publishers and receivers are spread over the
 * nodes as a load balancer would (rig.ts: one publisher per node with its own channels), so with
 * N nodes (N-1)/N of the deliveries cross Redis. For each setup
 * it searches the saturation throughput (most deliveries/s with p99 under the limit and nothing
 * lost, duplicated or reordered), then reports the ratio of each multi-node setup to the one-node
 * baseline beside its target, the cross-node latency at half the two-node saturation rate, and
 * the CPU of every process. Results: bench/results/cluster.json and cluster.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startRedis, type TestRedis } from '../../test/helpers/redis.js';
import { ClusterRig, type NodeCpuQuota, type RigOptions, type StepResult } from './rig.js';
import { checkCpuController, removeStaleGroups } from './cgroup.js';
import { LOAD_SHAPE_FLAGS, loadShape, numberOption as num } from '../hub/options.js';
import { NOISY_OTHER_CPU, renderMarkdown, summarize, type ConfigResult, type Setup } from './report.js';

const here = dirname(fileURLToPath(import.meta.url));

const QUOTA_RATES = '30,60,90,120,150,180,240,300,360,450,600,800';

const USAGE = `usage: npm run bench -- cluster [options]
  --clients N          subscribers (default 1000; --quick 400)
  --channels N         channels (default 1; with a quota 6, so 1, 2 and 3 publishers get equal shares)
  --publishers MODE    spread: one publisher per node, each with its own channels, at an equal
                       share of the rate (default); first: one publisher on the first node
  --rate N             publications/s of the first measured step, all publishers together
                       (default 100, with a quota 30)
  --payload BYTES      size of each publication's data (default 200)
  --duration S         seconds of the first measured step (default 5; --quick 3)
  --step-duration S    seconds of each saturation step (default 3; --quick 2)
  --warmup S           unreported warm-up at the first step's rate (default 1)
  --receivers N        receiver processes, spread over the nodes (default 2; with a quota 6); rounded up to a
                       multiple of nodes × publishers so every node and publisher get equal shares
  --setups LIST        engine:nodes list, e.g. memory:1,redis:2 (default memory:1,redis:2;
                       with --node-cpu-quota redis:1,redis:2,redis:3). The first one-node setup is the baseline.
  --node-cpu-quota X   put each node in its own cgroup v1 CPU group limited to X cores (e.g. 0.25);
                       needs a writable /sys/fs/cgroup/cpu (root)
  --cpu-period-ms MS   CFS period of those groups (default 100, with a burst allowance of one quota; see cgroup.ts)
  --no-saturation      skip the saturation search
  --rates LIST         the saturation ladder, msg/s, the same for every setup (default 25,50,200,400,800,1600;
                       with a quota ${QUOTA_RATES}); it stops after two failed steps in a row
  --refine N           bisection steps between the highest pass and the next failure (default 2)
  --p99-limit MS       saturation criterion, the same for every setup (default 50)
  --confirm-failures   run a failing saturation step once more at once; the rate fails only if both
                       do (both rows reported): one throttled burst of one node no longer ends a search
  --out DIR            where cluster.json and cluster.md go (default bench/results)
  --quick              smaller, shorter run`;

export interface Options extends RigOptions {
  rate: number;
  durationMs: number;
  stepDurationMs: number;
  warmupMs: number;
  setups: Setup[];
  quota: NodeCpuQuota | null;
  saturation: boolean;
  rates: number[];
  refine: number;
  /** A failing saturation step is run once more; the rate fails only if both do. */
  confirmFailures: boolean;
  outDir: string;
  crossNodeP99TargetMs: number;
  /** Scaling targets by node count, against the one-node baseline. */
  ratioTargets: Record<number, number>;
}

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
      ...LOAD_SHAPE_FLAGS,
      setups: { type: 'string' },
      publishers: { type: 'string' },
      'node-cpu-quota': { type: 'string' },
      'cpu-period-ms': { type: 'string' },
      rates: { type: 'string' },
      refine: { type: 'string' },
      'p99-limit': { type: 'string' },
      'confirm-failures': { type: 'boolean' },
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
  const quota = quotaCores === null ? null : { cores: quotaCores, periodUs: Math.round(1000 * num('cpu-period-ms', values['cpu-period-ms'], 100, 1, 1000)) };
  const defaultRates = quota ? QUOTA_RATES : quick ? '50,200,800' : '25,50,200,400,800,1600';
  const shape = loadShape(values, { clients: 1000, quickClients: 400, rate: quota ? 30 : 100 });
  const publishers = values.publishers ?? 'spread';
  if (publishers !== 'spread' && publishers !== 'first') throw new Error(`--publishers must be spread or first (got "${publishers}")`);
  return {
    ...shape,
    // 6 with quotas: a multiple of 1, 2 and 3 publishers, so each gets the same share.
    channels: values.channels === undefined && quota ? 6 : shape.channels,
    publishers,
    // 6 with quotas: a multiple of 1, 2 and 3 nodes, so every node serves the same share of subscribers.
    receivers: Math.round(num('receivers', values.receivers, quota ? 6 : 2, 1, 16)),
    setups: parseSetups(values.setups ?? (quota ? 'redis:1,redis:2,redis:3' : 'memory:1,redis:2')),
    quota,
    rates: (values.rates ?? defaultRates).split(',').map((r) => num('rates', r.trim(), 0, 1, 1_000_000)),
    refine: Math.round(num('refine', values.refine, quick ? 0 : 2, 0, 6)),
    p99LimitMs: num('p99-limit', values['p99-limit'], 50, 0.1, 60_000),
    confirmFailures: values['confirm-failures'] ?? false,
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
    `  ${label.padEnd(15)} ${String(s.targetRate).padStart(5)} msg/s → ${String(s.deliveredPerSec).padStart(7)} deliveries/s  ` +
    `p50 ${s.latencyMs.p50} p95 ${s.latencyMs.p95} p99 ${s.latencyMs.p99} ms${cross}  lost ${s.lost}  ` +
    `cpu nodes ${s.cpuPercent.nodes.join('+')}%${throttled}${s.cpuPercent.redis !== null ? ` redis ${s.cpuPercent.redis}%` : ''} ` +
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

async function runSetup(setup: Setup, opts: Options, log: (l: string) => void, redis: TestRedis | null, measureCrossAtHalf: boolean): Promise<ConfigResult> {
  const label = labelOf(setup, opts.quota);
  const rig = new ClusterRig(`${setup.engine}${setup.nodes}`, opts, redis ? { url: redis.url, pid: await redisPid(redis) } : null, setup.nodes, opts.quota);
  // Ctrl-C or a kill mid-run: stop the nodes and remove their CPU groups before exiting.
  const interrupted = (signal: NodeJS.Signals) => {
    log(`\n${signal}: stopping the nodes and removing their CPU groups`);
    void rig.teardown().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    await rig.setup();
    const layout = rig.describeLayout();
    log(`  ${layout.publishers} publisher(s), ${layout.receivers} receivers (${layout.perNode.join(' / ')} per node, ${layout.crossNode} across Redis from their publisher)`);
    if (opts.warmupMs > 0) await rig.step(opts.rate, opts.warmupMs);
    const target = await rig.step(opts.rate, opts.durationMs);
    log(describe(label, target));
    const ladder: StepResult[] = [target];
    const run = async (rate: number) => {
      const s = await rig.step(rate, opts.stepDurationMs);
      ladder.push(s);
      log(describe(label, s));
      if (s.pass || !opts.confirmFailures) return s;
      const again: StepResult = { ...(await rig.step(rate, opts.stepDurationMs)), repeat: true };
      ladder.push(again);
      log(describe(`${label} (again)`, again));
      return again;
    };
    if (opts.saturation) {
      // A fixed ladder, the same for every setup: latency is not monotonic in the rate (the hub
      // batches more messages per frame as the rate grows), so the ladder is walked past the
      // first failure; then a few bisection steps between the best pass and the next failure.
      let failedInARow = 0;
      for (const rate of opts.rates) {
        if (rate === opts.rate) continue;
        const s = await run(rate);
        failedInARow = s.pass ? 0 : failedInARow + 1;
        if (failedInARow >= 2) break;
      }
      for (let i = 0; i < opts.refine; i++) {
        const top = best(ladder);
        const above = ladder.filter((s) => !s.pass && (!top || s.targetRate > top.targetRate)).sort((a, b) => a.targetRate - b.targetRate)[0];
        if (!top || !above) break;
        const mid = Math.round((top.targetRate + above.targetRate) / 2);
        if (mid === top.targetRate || mid === above.targetRate) break;
        await run(mid);
      }
    }
    ladder.sort((a, b) => a.targetRate - b.targetRate);
    const saturation = best(ladder);
    const firstFail = ladder.find((s) => !s.pass && (!saturation || s.targetRate > saturation.targetRate));
    // A node throttled in most periods of the failing step spent its whole quota: the server was the limit, however busy the machine.
    const quotaSpent = (s: StepResult) => (s.throttledPercent ?? []).some((t) => t >= 50);
    // Throttled in some periods with every node well below its quota on average: a burst (fan-out, GC) spent a period's quota early.
    const burst = (s: StepResult) => !!opts.quota && (s.throttledPercent ?? []).some((t) => t > 0) && Math.max(...s.cpuPercent.nodes) < 0.8 * opts.quota.cores * 100;
    const limitedBy = !opts.saturation
      ? null
      : !firstFail
        ? 'max rate'
        : firstFail.generatorBound
          ? 'load generator'
          : quotaSpent(firstFail)
            ? 'server'
            : burst(firstFail)
              ? 'burst'
              : firstFail.cpuPercent.other <= NOISY_OTHER_CPU
                ? 'server'
                : 'other processes';
    let halfLoad: StepResult | null = null;
    if (measureCrossAtHalf && saturation) {
      // Settled first at that rate (unreported): the step before was an overload whose backlog,
      // grown heaps and spent burst allowance would otherwise be measured here.
      const half = Math.max(1, Math.round(saturation.targetRate / 2));
      await rig.step(half, Math.max(opts.warmupMs, 2000));
      halfLoad = await rig.step(half, opts.durationMs);
      log(describe(`${label} (50 %)`, halfLoad));
    }
    return { label, ...setup, target, ladder, saturation, limitedBy, halfLoad, layout };
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    await rig.teardown();
  }
}

export async function main(args: string[]): Promise<void> {
  const opts = parseOptions(args);
  const started = Date.now();
  const log = (line: string) => console.log(line);
  if (opts.quota) {
    checkCpuController();
    const stale = removeStaleGroups();
    if (stale.groups.length) log(`removed ${stale.groups.length} CPU group(s) left by an interrupted run (${stale.groups.join(', ')}); ${stale.movedPids.length} process(es) still in them moved back to the root group: ${stale.movedPids.join(', ') || 'none'}`);
  }
  const mode = opts.quota
    ? `quota'd: each node in its own cgroup v1 CPU group, ${opts.quota.cores} core per ${opts.quota.periodUs / 1000} ms period`
    : 'unquota\'d: every process shares the whole machine';
  log(
    `cluster benchmark (${mode}): ${opts.clients} subscribers on ${opts.channels} channel(s), ${opts.payloadBytes}-byte payload; ` +
      `setups: ${opts.setups.map((s) => `${s.engine}:${s.nodes}`).join(', ')}`,
  );
  const loadBefore = loadavg().map((v) => Math.round(v * 100) / 100);
  const configs: ConfigResult[] = [];
  const failures: string[] = [];
  let crossMeasured = false;
  for (const setup of opts.setups) {
    log(`\n[${labelOf(setup, opts.quota)}]`);
    let redis: TestRedis | null = null;
    try {
      // No persistence: the hub engine's state is disposable, and AOF writes would only add noise.
      if (setup.engine === 'redis') redis = await startRedis();
      const measureCross: boolean = setup.nodes === 2 && !crossMeasured && opts.saturation;
      crossMeasured ||= measureCross;
      configs.push(await runSetup(setup, opts, log, redis, measureCross));
    } catch (err) {
      // One setup that cannot run (a node not ready in time on a loaded machine) is reported; the others' results are kept.
      const message = (err as Error).message.split('\n')[0];
      log(`  setup failed: ${message}`);
      failures.push(`${labelOf(setup, opts.quota)}: ${message}`);
    } finally {
      await redis?.close();
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
