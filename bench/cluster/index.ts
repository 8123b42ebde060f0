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
 * CPU cgroup with the same quota), each searched `--repeat` times (interleaved, a fresh rig each
 * time; the median and spread are reported), then the two-node setup at exactly half its median
 * saturation rate for the cross-node latency. Results: bench/results/<--out>.json and .md
 * (default cluster).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { PublishPhases, StepResult } from './rig.js';
import { checkCpuController, removeStaleGroups } from './cgroup.js';
import { reaper } from './reaper.js';
import { LOAD_SHAPE_FLAGS, numberOption as num } from '../hub/options.js';
import { bySetup, renderMarkdown, summarize, type ConfigResult, type HalfLoadResult, type Setup } from './report.js';
import { NOISY_OTHER_CPU } from './step-table.js';
import { halfLoad, labelOf, searchSetup, type SearchOptions } from './search.js';
import { nearest10 } from './step-plan.js';
import { RECEIVER_KINDS, type ReceiverKind } from './c-receiver.js';

const here = dirname(fileURLToPath(import.meta.url));

/** The recommended setting, the default: each node in its own CPU group with this share of a core (docs/cluster.md). */
export const DEFAULT_QUOTA = 0.25;
/**
 * Subscribers per channel per node that one node serves per core of quota at K = 1 and 10 msg/s:
 * quiet 0.15-core searches ended at 650–760, about 4,700 per core. The quota'd ladder is made of
 * shares of that estimate (scaled by 10 msg/s over the rate and by 1/K), so a 0.25-core run takes
 * as many steps as a 0.15-core one and every search starts at the same sane floor, 40 % of one
 * node's estimate: below it a step measured only a cold start (fresh rigs failed at 100–300).
 */
const S_PER_CORE = 4700;
/**
 * Fine near one node's saturation (0.55–0.8 of the estimate: 0.25-core searches ended between
 * 470 and 880 subscribers, 0.4–0.75), so a search that ends one step early ends about 8 % below
 * the next one rather than 50 % (470 after 710 in the 07:27 run made the 3-node ratio 4.53×).
 */
const LADDER_SHARES = [0.4, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.95, 1.05, 1.15, 1.25, 1.35];
const QUICK_SHARES = [0.4, 0.7, 0.9, 1.1, 1.3];
/** Without quotas (one memory node against two Redis nodes sharing the machine). */
const LADDER = '300,400,450,500,550,600,650,700,760,820,900,1000,1100,1200,1350,1500';
const QUICK_LADDER = '300,500,700,900';

/** The quota'd ladder: shares of one node's estimated saturation, rounded to 10 subscribers, strictly rising. */
export function quotaLadder(cores: number, channelRate: number, channelsPerNode: number, quick: boolean): number[] {
  const estimate = (S_PER_CORE * cores * (10 / channelRate)) / channelsPerNode;
  const out: number[] = [];
  for (const share of quick ? QUICK_SHARES : LADDER_SHARES) {
    const s = nearest10(share * estimate);
    if (!out.length || s > out[out.length - 1]) out.push(s);
  }
  return out;
}

const USAGE = `usage: npm run bench -- cluster [options]
  The default is the recommended run: 1, 2 and 3 Redis nodes, each in its own CPU group at
  ${DEFAULT_QUOTA} of a core, 3 interleaved searches each, then 2 nodes at half their saturation.
  --channels-per-node K  K: each node's subscribers are on 2K channels, K published through the node
                         itself and K through the next node (default 1)
  --channel-rate R       publications/s on every channel (default 10; a publication costs a node
                         about half a millisecond of CPU before its fan-out, so a few per second
                         per node leave the quota to the deliveries)
  --subscribers LIST     the ladder of s, subscribers per channel per node, the same for every setup
                         (default with quotas: 40 % to 135 % of one node's estimated saturation,
                         ${S_PER_CORE} per core at K = 1 and 10 msg/s, e.g. ${quotaLadder(DEFAULT_QUOTA, 10, 1, false).join(',')}
                         at ${DEFAULT_QUOTA}; without: ${LADDER}); a node serves 2·K·s connections.
                         The search stops at the first step whose last attempt fails (see
                         --retries); when that is its first step, it bisects down on fresh rigs
                         towards half that step (bench/cluster/step-plan.ts).
  --fixed S              the step measured for --duration, whose CPU per delivery is compared
                         across setups (default the ladder's first step; added to the ladder)
  --payload BYTES        size of each publication's data (default 200)
  --duration S           seconds of the fixed-load step and the half-load steps (default 5; --quick 3)
  --step-duration S      seconds of every other step (default 3; --quick 2)
  --warmup S             unreported step after each growth of the load (default 1)
  --rig-warmup S         unreported seconds at the first step's load on every fresh rig before its
                         first measured step, in steps of --step-duration, longer (up to 3×)
                         until one of them passes (default 6; 0: none)
  --retries N            a step failing on its p99 or the publish rate (not a loss) is run again
                         at the same load up to N times before it counts as failed (default 2)
  --disturbed-reruns N   on top of --retries: an attempt that failed while other work on the
                         machine took over 20 % of a core is run again if the machine is quiet
                         again within 10 s (else it spends a retry), up to N times per step (default 2)
  --fresh-rig-reruns N   a load whose last attempt failed with every node below its quota (under
                         90 % of it and throttled in under half its periods) is measured again on
                         a fresh rig, up to N times per search (default 1; 0: never); a node at its
                         quota is the saturation and is never re-run
  --setups LIST          engine:nodes list, e.g. memory:1,redis:2 (default redis:1,redis:2,redis:3;
                         with --node-cpu-quota off memory:1,redis:2). The first one-node setup is the baseline.
  --node-cpu-quota X     put each node in its own cgroup v1 CPU group limited to X cores (default
                         ${DEFAULT_QUOTA}; needs a writable /sys/fs/cgroup/cpu, i.e. root); "off": no
                         groups, every process shares the machine (one memory node against two Redis nodes)
  --cpu-period-ms MS     CFS period of those groups (default 10: a throttled node stalls for at most
                         the rest of a 10 ms period; see cgroup.ts)
  --no-saturation        the ladder up to the fixed-load step only (no half-load steps either)
  --repeat N             saturation searches per setup, interleaved across setups, each on a fresh
                         rig; the median is the setup's figure, the spread is printed (default 3;
                         --quick 1)
  --half-load-steps N    steps of --duration on a fresh 2-node rig at exactly half the 2-node
                         median saturation rate: cross-node and same-node p99 side by side
                         (default 3; 0 skips them)
  --half-load-periods-ms LIST
                         CFS periods of the half-load steps (the target's shape at each, the
                         searches' at the first), each on a fresh rig at the same rate and quota;
                         the first is the target's figure (default: --cpu-period-ms, then 100, the
                         kernel's default; docs/cluster.md "The cross-node tail")
  --half-load-channels-per-node K
                         K of the target's half-load steps (default 5: 10 channels and 100
                         publications/s per node, s = a fifth of the K = 1 steps' at the same
                         deliveries/s); the searches' K is run beside it at the first period
                         (docs/cluster.md "The load shape of the cross-node target")
  --half-load-of RATE    no searches: only the half-load steps, at half of RATE deliveries/s (a
                         2-node median saturation from an earlier run, e.g. a quiet one)
  --phases MODE          when each channel publishes within its period: staggered (default: every
                         node's channels evenly spaced as on a lone node, node n shifted n/N of that
                         spacing, so the nodes' fan-outs take turns on the shared cores), aligned
                         (every node at the same instants) or free (each publisher from whenever its
                         request arrives, the rig before 7 Dec 13:00 UTC); docs/cluster.md
  --receiver c|node      the receivers: c (default) the compiled epoll receiver
                         (bench/cluster/delivery-receiver.c, built with the system's cc), node the
                         forked Node one (bench/hub/receiver.ts); the same checks and report
  --p99-limit MS         saturation criterion, the same for every setup (default 50)
  --out NAME|PATH        results file stem: a bare name goes to bench/results/NAME.json and .md,
                         a path to PATH.json and .md (default cluster)
  --quick                shorter run`;

export interface Options extends SearchOptions {
  setups: Setup[];
  /** Saturation searches per setup. */
  repeat: number;
  /** Given: no searches, only the half-load steps at half this 2-node saturation rate (deliveries/s). */
  halfLoadOf: number | null;
  /**
   * K of the target's half-load steps (docs/cluster.md "The load shape of the cross-node target"):
   * the same deliveries/s as the searches' shape, over more channels with fewer subscribers each.
   */
  halfLoadChannelsPerNode: number;
  /** CFS periods (ms) of the half-load steps, one fresh rig each; the first is the target's figure (empty without quotas). */
  halfLoadPeriodsMs: number[];
  /** Results go to `<outStem>.json` and `<outStem>.md`. */
  outStem: string;
  crossNodeP99TargetMs: number;
  /** Scaling targets by node count, against the one-node baseline. */
  ratioTargets: Record<number, number>;
}

/**
 * The hub benchmark's load-shape flags this one shares (the same spellings); its --clients,
 * --channels, --rate and --receivers have no meaning here (the ring sets them), so they stay unknown.
 */
const { clients: _clients, channels: _channels, rate: _rate, receivers: _receivers, ...SHARED_FLAGS } = LOAD_SHAPE_FLAGS;

/** `--half-load-periods-ms`: distinct periods, the searches' period first unless the list says otherwise. */
export function halfLoadPeriods(raw: string | undefined, searchPeriodMs: number): number[] {
  const list = raw === undefined ? [searchPeriodMs, 100] : raw.split(',').map((v) => num('half-load-periods-ms', v.trim(), 0, 1, 1000));
  return [...new Set(list)];
}

function phasesOf(raw: string): PublishPhases {
  if (raw === 'staggered' || raw === 'aligned' || raw === 'free') return raw;
  throw new Error(`--phases: "${raw}" is not staggered, aligned or free`);
}

function receiverOf(raw: string): ReceiverKind {
  if ((RECEIVER_KINDS as readonly string[]).includes(raw)) return raw as ReceiverKind;
  throw new Error(`--receiver: "${raw}" is not c or node`);
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
      'channels-per-node': { type: 'string' },
      'channel-rate': { type: 'string' },
      subscribers: { type: 'string' },
      fixed: { type: 'string' },
      ...SHARED_FLAGS,
      setups: { type: 'string' },
      'node-cpu-quota': { type: 'string' },
      'cpu-period-ms': { type: 'string' },
      'rig-warmup': { type: 'string' },
      retries: { type: 'string' },
      'disturbed-reruns': { type: 'string' },
      'fresh-rig-reruns': { type: 'string' },
      'p99-limit': { type: 'string' },
      repeat: { type: 'string' },
      'half-load-steps': { type: 'string' },
      'half-load-of': { type: 'string' },
      'half-load-periods-ms': { type: 'string' },
      phases: { type: 'string' },
      receiver: { type: 'string' },
      'half-load-channels-per-node': { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const quick = values.quick ?? false;
  const quotaCores = values['node-cpu-quota'] === 'off' ? null : num('node-cpu-quota', values['node-cpu-quota'], DEFAULT_QUOTA, 0.01, 64);
  const quota = quotaCores === null ? null : { cores: quotaCores, periodUs: Math.round(1000 * num('cpu-period-ms', values['cpu-period-ms'], 10, 1, 1000)) };
  const channelsPerNode = Math.round(num('channels-per-node', values['channels-per-node'], 1, 1, 100));
  const channelRate = num('channel-rate', values['channel-rate'], 10, 0.1, 10_000);
  const ladder = values.subscribers
    ? values.subscribers.split(',').map((v) => Math.round(num('subscribers', v.trim(), 0, 1, 100_000)))
    : quota
      ? quotaLadder(quota.cores, channelRate, channelsPerNode, quick)
      : (quick ? QUICK_LADDER : LADDER).split(',').map(Number);
  if (ladder.some((v, i) => i > 0 && v <= ladder[i - 1])) throw new Error(`--subscribers must rise step by step (got ${ladder.join(',')}): connections are only ever added`);
  const fixedSubscribers = Math.round(num('fixed', values.fixed, ladder[0], 1, 100_000));
  if (!ladder.includes(fixedSubscribers)) {
    ladder.push(fixedSubscribers);
    ladder.sort((a, b) => a - b);
  }
  return {
    channelsPerNode,
    channelRate,
    payloadBytes: Math.round(num('payload', values.payload, 200, 40, 60_000)),
    durationMs: 1000 * num('duration', values.duration, quick ? 3 : 5, 0.2, 600),
    stepDurationMs: 1000 * num('step-duration', values['step-duration'], quick ? 2 : 3, 0.2, 600),
    warmupMs: 1000 * num('warmup', values.warmup, 1, 0, 60),
    rigWarmupMs: 1000 * num('rig-warmup', values['rig-warmup'], 6, 0, 120),
    retries: Math.round(num('retries', values.retries, 2, 0, 5)),
    disturbedReruns: Math.round(num('disturbed-reruns', values['disturbed-reruns'], 2, 0, 5)),
    freshRigReruns: Math.round(num('fresh-rig-reruns', values['fresh-rig-reruns'], 1, 0, 5)),
    setups: parseSetups(values.setups ?? (quota ? 'redis:1,redis:2,redis:3' : 'memory:1,redis:2')),
    quota,
    saturation: !values['no-saturation'],
    ladder,
    fixedSubscribers,
    p99LimitMs: num('p99-limit', values['p99-limit'], 50, 0.1, 60_000),
    phases: phasesOf(values.phases ?? 'staggered'),
    receiver: receiverOf(values.receiver ?? 'c'),
    repeat: Math.round(num('repeat', values.repeat, quick ? 1 : 3, 1, 20)),
    halfLoadSteps: values['no-saturation'] ? 0 : Math.round(num('half-load-steps', values['half-load-steps'], 3, 0, 20)),
    halfLoadChannelsPerNode: Math.round(num('half-load-channels-per-node', values['half-load-channels-per-node'], 5, 1, 100)),
    halfLoadPeriodsMs: quota ? halfLoadPeriods(values['half-load-periods-ms'], quota.periodUs / 1000) : [],
    halfLoadOf: values['half-load-of'] === undefined ? null : num('half-load-of', values['half-load-of'], 0, 1, 100_000_000),
    outStem: outStemOf(values.out ?? 'cluster'),
    crossNodeP99TargetMs: 10,
    ratioTargets: { 2: 1.7, 3: 2.4 },
  };
}

/**
 * `--out`: a bare name is a file stem in bench/results (as the other benchmarks' results files,
 * name.json + name.md); anything with a slash is a path stem. A trailing .json or .md is dropped.
 */
export function outStemOf(out: string): string {
  const stem = out.replace(/\.(json|md)$/, '');
  if (!stem || stem.endsWith('/') || basename(stem).startsWith('.')) throw new Error(`--out: "${out}" is not a file name or path stem (e.g. cluster-q0.5)`);
  return stem.includes('/') ? resolve(stem) : join(here, '..', 'results', stem);
}

function describe(label: string, s: StepResult): string {
  const cross = s.crossNodeLatencyMs ? ` same-node p99 ${s.sameNodeLatencyMs?.p99 ?? '–'} cross-node p99 ${s.crossNodeLatencyMs.p99}` : '';
  const throttled = s.throttledPercent ? ` throttled ${s.throttledPercent.join('/')}% (stall ${s.stallMs?.join('/')} ms)` : '';
  const split = ` publish RTT p99 ${s.split.publishRttP99Ms.join('/')} ms publish→write p99 ${s.split.publishToWriteP99Ms.join('/')} ms`;
  const dup = s.engineCounters.map((c) => (c === null ? 'unread' : c.duplicateFromEngine === null ? 'absent' : String(c.duplicateFromEngine))).join('/');
  const verdict = `duplicate_from_engine ${dup}  ` + (s.pass ? 'pass' : `FAIL (${s.failure})`) + (s.generatorBound ? ' [load generator busy]' : '') + (s.cpuPercent.other > NOISY_OTHER_CPU ? ' [machine busy]' : '');
  return (
    `  ${label.padEnd(15)} s=${String(s.subscribersPerChannel).padStart(4)} ${String(s.clients).padStart(5)} clients → ${String(s.deliveredPerSec).padStart(7)} deliveries/s  ` +
    `p50 ${s.latencyMs.p50} p95 ${s.latencyMs.p95} p99 ${s.latencyMs.p99} ms${cross}${split}  lost ${s.lost}  ` +
    `cpu nodes ${s.cpuPercent.nodes.join('+')}%${throttled} (${s.cpuUsPerDelivery.nodes} µs/delivery)${s.cpuPercent.redis !== null ? ` redis ${s.cpuPercent.redis}%` : ''} ` +
    `receivers ${s.cpuPercent.receivers.join('+')}% publishers ${s.cpuPercent.publishers.join('+')}% other ${s.cpuPercent.other}%  ${verdict}`
  );
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
      (opts.halfLoadOf === null
        ? `setups: ${opts.setups.map((s) => `${s.engine}:${s.nodes}`).join(', ')}, ${opts.repeat} search(es) each`
        : `no searches (--half-load-of): only ${opts.halfLoadSteps} half-load steps on 2 Redis nodes`),
  );
  const loadBefore = loadavg().map((v) => Math.round(v * 100) / 100);
  const configs: ConfigResult[] = [];
  const failures: string[] = [];
  // Interleaved (run 1 of every setup, then run 2…): a burst of other work on the shared machine
  // falls on one run of several setups rather than on every run of one.
  for (let rep = 1; rep <= (opts.halfLoadOf === null ? opts.repeat : 0); rep++) {
    for (const setup of opts.setups) {
      log(`\n[${labelOf(setup, opts.quota)}, search ${rep} of ${opts.repeat}] load average ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
      try {
        configs.push(await searchSetup(setup, rep, opts, log, describe));
      } catch (err) {
        // One search that cannot run (a node not ready in time on a loaded machine) is reported; the others' results are kept.
        const message = (err as Error).message.split('\n')[0];
        log(`  search failed: ${message}`);
        failures.push(`${labelOf(setup, opts.quota)} search ${rep}: ${message}`);
      }
    }
  }
  const setups = bySetup(configs);
  let half: HalfLoadResult | null = null;
  const searched = setups.find((s) => s.nodes === 2 && s.saturation.median > 0);
  const two = opts.halfLoadOf === null ? searched : { label: labelOf({ engine: 'redis', nodes: 2 }, opts.quota), engine: 'redis' as const, nodes: 2 };
  const saturation = opts.halfLoadOf ?? searched?.saturation.median ?? 0;
  const otherPeriods: HalfLoadResult[] = [];
  const periods: (number | null)[] = opts.quota && opts.halfLoadPeriodsMs.length ? opts.halfLoadPeriodsMs : [null];
  // The target's steps first (the target's load shape, K = --half-load-channels-per-node, at the
  // first period), then that shape at every other period and the searches' shape at the first,
  // reported beside it: the period is what decides the throttling stalls in the target's tail.
  const variants = [
    ...periods.map((periodMs) => ({ channelsPerNode: opts.halfLoadChannelsPerNode, periodMs })),
    { channelsPerNode: opts.channelsPerNode, periodMs: periods[0] },
  ].filter((v, i, all) => all.findIndex((w) => w.channelsPerNode === v.channelsPerNode && w.periodMs === v.periodMs) === i);
  for (const [i, { channelsPerNode, periodMs }] of (two && opts.halfLoadSteps > 0 ? variants : []).entries()) {
    if (!two) break;
    const quota = opts.quota && periodMs !== null ? { ...opts.quota, periodUs: periodMs * 1000 } : opts.quota;
    log(
      `\n[${two.label} at half of ${saturation} deliveries/s${opts.halfLoadOf === null ? ', its median saturation' : ' (--half-load-of)'}, K = ${channelsPerNode}${periodMs !== null ? `, CFS period ${periodMs} ms` : ''}] ` +
        `load average ${loadavg().map((v) => v.toFixed(2)).join(' ')}`,
    );
    try {
      const result = await halfLoad(two, saturation, opts.halfLoadOf === null ? 'searches' : 'given', { ...opts, quota, channelsPerNode }, log, describe);
      if (i === 0) half = result;
      else otherPeriods.push(result);
    } catch (err) {
      const message = (err as Error).message.split('\n')[0];
      log(`  half-load steps failed: ${message}`);
      failures.push(`${two.label} at half load (K = ${channelsPerNode}${periodMs !== null ? `, ${periodMs} ms period` : ''}): ${message}`);
    }
  }
  const summary = summarize(opts, setups, half, otherPeriods);
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
    setups,
    halfLoad: half,
    halfLoadOtherPeriods: otherPeriods,
    failures,
    summary,
  };
  const markdown = renderMarkdown(results);
  mkdirSync(dirname(opts.outStem), { recursive: true });
  writeFileSync(`${opts.outStem}.json`, JSON.stringify(results, null, 2) + '\n');
  writeFileSync(`${opts.outStem}.md`, markdown);
  log('\n' + markdown);
  log(`results written to ${opts.outStem}.json and .md (${results.wallSeconds} s)`);
}
