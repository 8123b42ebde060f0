/**
 * @module bench/cluster
 * The cluster benchmark: `npm run bench -- cluster [options]` (see --help).
 *
 * The same scenario runs twice in one run: one Airwaves node on the memory engine, then two
 * nodes (separate processes) on one real redis-server, each loaded by the hub benchmark's lean
 * receiver and publisher processes. The publisher is on the first node; receivers are spread
 * over the nodes, so with two nodes half of the deliveries cross Redis. For each configuration
 * it measures the target step (by default 100 msg/s to 1000 subscribers = 100,000 deliveries/s)
 * and searches the saturation throughput (most deliveries/s with p99 under the limit, nothing
 * lost, duplicated or reordered). It reports delivered msgs/s, publish→client latency, loss,
 * node and Redis CPU (from /proc/<pid>/stat) and the two-node/one-node ratio.
 * Results: bench/results/cluster.json and cluster.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startRedis, type TestRedis } from '../../test/helpers/redis.js';
import { ClusterRig, type RigOptions, type StepResult } from './rig.js';
import { LOAD_SHAPE_FLAGS, loadShape, numberOption as num } from '../hub/options.js';

const here = dirname(fileURLToPath(import.meta.url));
/** A step during which processes outside the benchmark took more than this (percent of a core) is flagged. */
const NOISY_OTHER_CPU = 20;

const USAGE = `usage: npm run bench -- cluster [options]
  --clients N          subscribers (default 1000; --quick 400)
  --channels N         channels; subscriber i joins channel i mod N (default 1)
  --rate N             publications/s of the target step (default 100: 100,000 deliveries/s with 1000 subscribers)
  --payload BYTES      size of each publication's data (default 200)
  --duration S         seconds of the target step (default 5; --quick 3)
  --step-duration S    seconds of each saturation step (default 3; --quick 2)
  --warmup S           unreported warm-up at the target rate (default 1)
  --receivers N        receiver processes, spread over the nodes (default 2)
  --nodes N            nodes of the Redis configuration (default 2)
  --no-saturation      skip the saturation search
  --rates LIST         the saturation ladder, msg/s, the same for every configuration
                       (default 25,50,200,400,800,1600; --quick 50,200,800); it stops after two failed steps in a row
  --p99-limit MS       saturation criterion, the same for both configurations (default 50)
  --only LIST          memory,redis (default both)
  --out DIR            where cluster.json and cluster.md go (default bench/results)
  --quick              smaller, shorter run`;

interface Options extends RigOptions {
  rate: number;
  durationMs: number;
  stepDurationMs: number;
  warmupMs: number;
  nodes: number;
  saturation: boolean;
  rates: number[];
  only: ('memory' | 'redis')[];
  outDir: string;
  crossNodeP99TargetMs: number;
  ratioTarget: number;
}

function parseOptions(args: string[]): Options {
  const { values } = parseArgs({
    args,
    options: {
      ...LOAD_SHAPE_FLAGS,
      nodes: { type: 'string' },
      rates: { type: 'string' },
      'p99-limit': { type: 'string' },
      only: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const quick = values.quick ?? false;
  const only = (values.only ?? 'memory,redis').split(',').map((s) => s.trim());
  for (const o of only) if (o !== 'memory' && o !== 'redis') throw new Error(`--only: unknown configuration "${o}"; expected memory, redis`);
  return {
    ...loadShape(values, { clients: 1000, quickClients: 400, rate: 100 }),
    nodes: Math.round(num('nodes', values.nodes, 2, 1, 8)),
    rates: (values.rates ?? (quick ? '50,200,800' : '25,50,200,400,800,1600')).split(',').map((r) => num('rates', r.trim(), 0, 1, 1_000_000)),
    p99LimitMs: num('p99-limit', values['p99-limit'], 50, 0.1, 60_000),
    only: only as Options['only'],
    outDir: values.out ?? join(here, '..', 'results'),
    crossNodeP99TargetMs: 10,
    ratioTarget: 1.6,
  };
}

interface ConfigResult {
  label: string;
  nodes: number;
  engine: 'memory' | 'redis';
  target: StepResult;
  ladder: StepResult[];
  saturation: StepResult | null;
  /**
   * What ended the search: the configuration failed the next step, a load generator was busy at
   * it, processes outside the benchmark took much CPU meanwhile, or the ladder's top rate passed.
   */
  limitedBy: 'server' | 'load generator' | 'other processes' | 'max rate' | null;
  error?: string;
}

function describe(label: string, s: StepResult): string {
  const cross = s.crossNodeLatencyMs ? ` cross-node p99 ${s.crossNodeLatencyMs.p99}` : '';
  const verdict = (s.pass ? 'pass' : `FAIL (${s.failure})`) + (s.generatorBound ? ' [load generator busy]' : '') + (s.cpuPercent.other > NOISY_OTHER_CPU ? ' [machine busy]' : '');
  return (
    `  ${label.padEnd(13)} ${String(s.targetRate).padStart(5)} msg/s → ${String(s.deliveredPerSec).padStart(7)} deliveries/s  ` +
    `p50 ${s.latencyMs.p50} p95 ${s.latencyMs.p95} p99 ${s.latencyMs.p99} ms${cross}  lost ${s.lost}  ` +
    `cpu nodes ${s.cpuPercent.nodes.join('+')}%${s.cpuPercent.redis !== null ? ` redis ${s.cpuPercent.redis}%` : ''} ` +
    `receivers ${s.cpuPercent.receivers.join('+')}% publisher ${s.cpuPercent.publisher}% other ${s.cpuPercent.other}%  ${verdict}`
  );
}

async function redisPid(redis: TestRedis): Promise<number> {
  const client = redis.client();
  const info = await client.info('server');
  const m = /process_id:(\d+)/.exec(info);
  if (!m) throw new Error('INFO server reported no process_id');
  return Number(m[1]);
}

async function runConfig(engine: 'memory' | 'redis', opts: Options, log: (l: string) => void, redis: TestRedis | null): Promise<ConfigResult> {
  const nodes = engine === 'memory' ? 1 : opts.nodes;
  const label = engine === 'memory' ? '1 node memory' : `${nodes} nodes redis`;
  const rig = new ClusterRig(engine === 'memory' ? 'mem' : 'redis', opts, redis ? { url: redis.url, pid: await redisPid(redis) } : null, nodes);
  try {
    await rig.setup();
    if (opts.warmupMs > 0) await rig.step(opts.rate, opts.warmupMs);
    const target = await rig.step(opts.rate, opts.durationMs);
    log(describe(label, target));
    const ladder: StepResult[] = [target];
    if (!opts.saturation) return { label, nodes, engine, target, ladder, saturation: target.pass ? target : null, limitedBy: null };
    // A fixed ladder, the same for every configuration: latency is not monotonic in the rate (the
    // hub batches more messages per frame as the rate grows), so a search that stops at the first
    // failure, or bisects, would compare configurations at different points.
    let failedInARow = 0;
    for (const rate of opts.rates) {
      if (rate === opts.rate) continue;
      const s = await rig.step(rate, opts.stepDurationMs);
      ladder.push(s);
      log(describe(label, s));
      failedInARow = s.pass ? 0 : failedInARow + 1;
      if (failedInARow >= 2) break;
    }
    ladder.sort((a, b) => a.targetRate - b.targetRate);
    const passing = ladder.filter((s) => s.pass);
    const saturation = passing.length ? passing.reduce((a, b) => (b.deliveredPerSec > a.deliveredPerSec ? b : a)) : null;
    const firstFail = ladder.find((s) => !s.pass && (!saturation || s.targetRate > saturation.targetRate));
    const limitedBy = !firstFail ? 'max rate' : firstFail.generatorBound ? 'load generator' : firstFail.cpuPercent.other > NOISY_OTHER_CPU ? 'other processes' : 'server';
    return { label, nodes, engine, target, ladder, saturation, limitedBy };
  } finally {
    await rig.teardown();
  }
}

interface Check {
  name: string;
  target: string;
  actual: string;
  met: boolean;
}

interface Projection {
  /** Percent of one core each configuration's busiest node spent per 100,000 deliveries/s at the target step. */
  memoryNodeCpuPer100k: number;
  redisBusiestNodeCpuPer100k: number;
  redisAllNodesCpuPer100k: number;
  /** memory / busiest Redis node: the ratio if every node had a core of its own (not measured). */
  ratioIfNodesHadTheirOwnCores: number;
}

function summarize(opts: Options, results: Partial<Record<'memory' | 'redis', ConfigResult>>): { ratio: number | null; projection: Projection | null; checks: Check[] } {
  const mem = results.memory;
  const red = results.redis;
  const checks: Check[] = [];
  let ratio: number | null = null;
  if (mem?.saturation && red?.saturation) {
    ratio = Math.round((red.saturation.deliveredPerSec / mem.saturation.deliveredPerSec) * 100) / 100;
    checks.push({
      name: `${red.nodes} nodes on Redis vs 1 in-memory node, deliveries/s at p99 ≤ ${opts.p99LimitMs} ms with zero loss`,
      target: `≥ ${opts.ratioTarget}×`,
      actual:
        `${ratio}× (${red.saturation.deliveredPerSec} vs ${mem.saturation.deliveredPerSec}/s; p99 ${red.saturation.latencyMs.p99} vs ${mem.saturation.latencyMs.p99} ms)` +
        ([mem, red].some((r) => r.ladder.some((s) => s.cpuPercent.other > NOISY_OTHER_CPU)) ? '; the machine was busy with other work during some steps' : ''),
      met: ratio >= opts.ratioTarget,
    });
  }
  if (red) {
    const t = red.target;
    const cross = t.crossNodeLatencyMs;
    checks.push({
      name: `cross-node publish→client p99 at the target step (${t.deliveredPerSec} deliveries/s)`,
      target: `< ${opts.crossNodeP99TargetMs} ms at ≥ 100,000 deliveries/s`,
      actual: cross ? `${cross.p99} ms at ${t.deliveredPerSec}/s` : 'no cross-node receivers',
      met: !!cross && cross.p99 < opts.crossNodeP99TargetMs && t.deliveredPerSec >= 95_000,
    });
  }
  for (const r of [mem, red]) {
    if (!r) continue;
    const lost = r.ladder.reduce((a, s) => a + s.lost, 0);
    const dup = r.ladder.reduce((a, s) => a + s.duplicated, 0);
    checks.push({ name: `${r.label}: loss and duplicates over every step`, target: '0', actual: `${lost} lost, ${dup} duplicated`, met: lost === 0 && dup === 0 });
  }
  let projection: Projection | null = null;
  if (mem && red && mem.target.deliveredPerSec > 0 && red.target.deliveredPerSec > 0) {
    const per100k = (cpu: number, delivered: number) => Math.round((cpu * 100_000) / delivered * 10) / 10;
    const memoryNodeCpuPer100k = per100k(mem.target.cpuPercent.nodes[0], mem.target.deliveredPerSec);
    const redisBusiestNodeCpuPer100k = per100k(Math.max(...red.target.cpuPercent.nodes), red.target.deliveredPerSec);
    projection = {
      memoryNodeCpuPer100k,
      redisBusiestNodeCpuPer100k,
      redisAllNodesCpuPer100k: per100k(red.target.cpuPercent.nodes.reduce((a, b) => a + b, 0) + (red.target.cpuPercent.redis ?? 0), red.target.deliveredPerSec),
      ratioIfNodesHadTheirOwnCores: Math.round((memoryNodeCpuPer100k / redisBusiestNodeCpuPer100k) * 100) / 100,
    };
  }
  return { ratio, projection, checks };
}

function renderMarkdown(res: {
  date: string;
  wallSeconds: number;
  machine: Record<string, unknown>;
  options: Options;
  configs: Partial<Record<'memory' | 'redis', ConfigResult>>;
  summary: ReturnType<typeof summarize>;
}): string {
  const o = res.options;
  const lines: string[] = [];
  lines.push('# Cluster benchmark', '');
  lines.push(
    `${res.date}; ${res.machine.cpus} × ${res.machine.cpuModel}, Node ${res.machine.node}; load average ${res.machine.loadAverageBefore} before, ${res.machine.loadAverageAfter} after; ${res.wallSeconds} s.`,
    '',
    `Scenario: ${o.clients} subscribers on ${o.channels} channel(s) in ${o.receivers} receiver processes, ${o.payloadBytes}-byte payloads, one publisher process ` +
      `on the first node; target step ${o.rate} msg/s for ${o.durationMs / 1000} s, saturation steps ${o.stepDurationMs / 1000} s, p99 limit ${o.p99LimitMs} ms. ` +
      'Every process (nodes, redis-server, receivers, publisher) shares the same machine; CPU is percent of one core from /proc/<pid>/stat; ' +
      '"other" is CPU taken meanwhile by processes outside the benchmark (the machine is shared).',
    '',
  );
  lines.push('## Targets', '', '| check | target | actual | met |', '|---|---|---|---|');
  for (const c of res.summary.checks) lines.push(`| ${c.name} | ${c.target} | ${c.actual} | ${c.met ? 'yes' : '**no**'} |`);
  lines.push('');
  for (const r of Object.values(res.configs)) {
    if (!r) continue;
    lines.push(`## ${r.label}`, '');
    if (r.error) lines.push(`Error: ${r.error}`, '');
    lines.push(
      `Saturation: ${r.saturation ? `${r.saturation.deliveredPerSec} deliveries/s at ${r.saturation.targetRate} msg/s (p99 ${r.saturation.latencyMs.p99} ms)` : 'none passed'}; search ended by: ${r.limitedBy ?? 'n/a'}.`,
      '',
      '| msg/s | deliveries/s | p50 ms | p95 ms | p99 ms | cross-node p99 ms | lost | dup | out of order | CPU nodes % | CPU redis % | CPU receivers % | CPU publisher % | CPU other % | result |',
      '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    );
    for (const s of r.ladder) {
      lines.push(
        `| ${s.targetRate} | ${s.deliveredPerSec} | ${s.latencyMs.p50} | ${s.latencyMs.p95} | ${s.latencyMs.p99} | ${s.crossNodeLatencyMs?.p99 ?? '–'} | ${s.lost} | ${s.duplicated} | ${s.outOfOrder} | ` +
          `${s.cpuPercent.nodes.join(' + ')} | ${s.cpuPercent.redis ?? '–'} | ${s.cpuPercent.receivers.join(' + ')} | ${s.cpuPercent.publisher} | ${s.cpuPercent.other} | ${s.pass ? 'pass' : `fail: ${s.failure}`}${s.generatorBound ? ' (generator busy)' : ''}${s.cpuPercent.other > NOISY_OTHER_CPU ? ' (machine busy)' : ''} |`,
      );
    }
    lines.push('');
  }
  if (res.summary.ratio !== null) lines.push(`Two-node/one-node ratio at saturation: **${res.summary.ratio}×**.`, '');
  const p = res.summary.projection;
  if (p) {
    lines.push(
      `Node CPU per 100,000 deliveries/s at the target step (percent of one core): one memory node ${p.memoryNodeCpuPer100k}; ` +
        `busiest Redis node ${p.redisBusiestNodeCpuPer100k}; all Redis nodes plus redis-server ${p.redisAllNodesCpuPer100k}. ` +
        `If every node had a core of its own (not the case here: nodes, receivers and publisher share ${res.machine.cpus} cores), ` +
        `the busiest node would saturate at ${p.ratioIfNodesHadTheirOwnCores}× the memory node's rate — a projection from CPU cost, not a measurement.`,
      '',
    );
  }
  return lines.join('\n');
}

export async function main(args: string[]): Promise<void> {
  const opts = parseOptions(args);
  const started = Date.now();
  const log = (line: string) => console.log(line);
  log(
    `cluster benchmark: ${opts.clients} subscribers on ${opts.channels} channel(s), target ${opts.rate} msg/s, ${opts.payloadBytes}-byte payload; ` +
      `configurations: ${opts.only.join(', ')}`,
  );
  const loadBefore = loadavg()[0];
  const configs: Partial<Record<'memory' | 'redis', ConfigResult>> = {};
  for (const engine of opts.only) {
    log(`\n[${engine}]`);
    let redis: TestRedis | null = null;
    try {
      // No persistence: the hub engine's state is disposable, and AOF writes would only add noise.
      if (engine === 'redis') redis = await startRedis();
      configs[engine] = await runConfig(engine, opts, log, redis);
    } catch (err) {
      log(`  ${engine} failed: ${(err as Error).message}`);
      throw err;
    } finally {
      await redis?.close();
    }
  }
  const summary = summarize(opts, configs);
  const results = {
    benchmark: 'cluster',
    date: new Date().toISOString(),
    wallSeconds: Math.round((Date.now() - started) / 1000),
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      memoryGB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      loadAverageBefore: Math.round(loadBefore * 100) / 100,
      loadAverageAfter: Math.round(loadavg()[0] * 100) / 100,
    },
    options: opts,
    configs,
    summary,
  };
  const markdown = renderMarkdown(results);
  mkdirSync(opts.outDir, { recursive: true });
  writeFileSync(join(opts.outDir, 'cluster.json'), JSON.stringify(results, null, 2) + '\n');
  writeFileSync(join(opts.outDir, 'cluster.md'), markdown);
  log('\n' + markdown);
  log(`results written to ${join(opts.outDir, 'cluster.json')} and cluster.md (${results.wallSeconds} s)`);
}
