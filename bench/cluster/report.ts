/**
 * @module bench/cluster/report
 * The cluster benchmark's verdicts and its Markdown page: each multi-node setup's saturation
 * (most clients served, same load shape per node) against the one-node baseline beside its
 * target, node CPU per delivery at a fixed load, cross-node latency near half the two-node
 * saturation, loss over every step, what ended each search, and every step's CPU per process.
 */
import { cpus } from 'node:os';
import type { NodeCpuQuota, StepResult } from './rig.js';

/** A step during which processes outside the benchmark took more than this (percent of a core) is flagged. */
export const NOISY_OTHER_CPU = 20;

export interface Setup {
  engine: 'memory' | 'redis';
  nodes: number;
}

export interface ConfigResult extends Setup {
  label: string;
  /** The fixed-load step: the same subscribers per channel per node in every setup (CPU per delivery); null when the search ended below it. */
  fixed: StepResult | null;
  ladder: StepResult[];
  saturation: StepResult | null;
  /**
   * What ended the search at the first failing step above the saturation point: the nodes (with
   * quotas: one at 90 % of its quota or more), a load generator, or neither (`below quota`: the
   * nodes had quota left, so the machine's other work or a burst decided); `max load`: the
   * ladder's top passed.
   */
  limitedBy: 'nodes' | 'load generator' | 'below quota' | 'max load' | null;
  /** The passing step nearest half the saturation throughput (cross-node latency target). */
  halfLoad: StepResult | null;
  layout: { publishers: number; receivers: number; channels: number; crossNodeShare: number };
}

export interface Check {
  name: string;
  target: string;
  actual: string;
  met: boolean;
}

interface SummaryOptions {
  p99LimitMs: number;
  crossNodeP99TargetMs: number;
  ratioTargets: Record<number, number>;
}

const max = (v: number[]) => Math.max(0, ...v);
const sum = (v: number[]) => v.reduce((a, b) => a + b, 0);
const cpuCount = cpus().length;

export function summarize(opts: SummaryOptions, configs: ConfigResult[]): { baseline: string | null; ratios: Record<string, number>; checks: Check[] } {
  const checks: Check[] = [];
  const ratios: Record<string, number> = {};
  // The baseline is the first one-node setup on the engine the others use, else any one-node setup.
  const multi = configs.filter((c) => c.nodes > 1);
  const base = configs.find((c) => c.nodes === 1 && multi.some((m) => m.engine === c.engine)) ?? configs.find((c) => c.nodes === 1) ?? null;
  const busy = (c: ConfigResult) => c.ladder.some((s) => s.cpuPercent.other > NOISY_OTHER_CPU);
  for (const c of multi) {
    if (!base?.saturation || !c.saturation) {
      checks.push({ name: `${c.label} vs ${base?.label ?? 'no baseline'}`, target: 'a saturation point for both', actual: 'none passed', met: false });
      continue;
    }
    const ratio = Math.round((c.saturation.deliveredPerSec / base.saturation.deliveredPerSec) * 100) / 100;
    ratios[c.label] = ratio;
    const target = opts.ratioTargets[c.nodes];
    checks.push({
      name: `${c.label} vs ${base.label}: deliveries/s at the most clients served with p99 ≤ ${opts.p99LimitMs} ms and nothing lost (ideal ${c.nodes}×)`,
      target: target === undefined ? 'none (reported)' : `≥ ${target}×`,
      actual:
        `${ratio}× (${c.saturation.deliveredPerSec} vs ${base.saturation.deliveredPerSec}/s; ${c.saturation.clients} vs ${base.saturation.clients} clients; p99 ${c.saturation.latencyMs.p99} vs ${base.saturation.latencyMs.p99} ms)` +
        (busy(c) || busy(base) ? '; the machine was busy with other work during some steps' : ''),
      met: target === undefined ? true : ratio >= target,
    });
  }
  for (const c of configs) {
    const f = c.fixed;
    if (!f) {
      checks.push({ name: `${c.label}: node CPU per delivery at the fixed load`, target: 'none (reported)', actual: 'not measured: the search ended below the fixed load', met: true });
      continue;
    }
    const b = base?.fixed;
    const vsBase = b && c !== base && b.cpuUsPerDelivery.nodes > 0 ? ` (${Math.round((f.cpuUsPerDelivery.nodes / b.cpuUsPerDelivery.nodes) * 100)} % of ${base.label}'s)` : '';
    checks.push({
      name: `${c.label}: node CPU per delivery at the fixed load (${f.subscribersPerChannel} subscribers per channel per node, ${f.clients} clients, ${f.deliveredPerSec} deliveries/s)`,
      target: 'none (reported)',
      actual: `${f.cpuUsPerDelivery.nodes} µs${vsBase}; redis-server ${f.cpuUsPerDelivery.redis ?? '–'} µs, load generators ${f.cpuUsPerDelivery.generators} µs`,
      met: true,
    });
  }
  const two = configs.find((c) => c.nodes === 2 && c.halfLoad && c.saturation);
  if (two?.halfLoad && two.saturation) {
    const h = two.halfLoad;
    const share = Math.round((100 * h.deliveredPerSec) / two.saturation.deliveredPerSec);
    checks.push({
      name: `${two.label}: cross-node publish→client p99 at about 50 % of its saturation (the nearest step: ${share} %, ${h.clients} clients, ${h.deliveredPerSec} deliveries/s)`,
      target: `< ${opts.crossNodeP99TargetMs} ms`,
      actual: h.crossNodeLatencyMs ? `${h.crossNodeLatencyMs.p99} ms (same-node: ${h.sameNodeLatencyMs?.p99 ?? '–'} ms, all receivers: ${h.latencyMs.p99} ms)` : 'no cross-node receivers',
      met: !!h.crossNodeLatencyMs && h.crossNodeLatencyMs.p99 < opts.crossNodeP99TargetMs && h.lost === 0,
    });
    if (h.crossNodeLatencyMs && h.sameNodeLatencyMs) {
      checks.push({
        name: `${two.label}: what the Redis hop adds at that step (cross-node minus same-node receivers, same step, same quota)`,
        target: 'none (reported)',
        actual:
          `${signed(h.crossNodeLatencyMs.p99 - h.sameNodeLatencyMs.p99)} ms at p99, ${signed(h.crossNodeLatencyMs.p50 - h.sameNodeLatencyMs.p50)} ms at p50; ` +
          `per node at that step: ${splitText(h)}`,
        met: true,
      });
    }
  }
  for (const c of configs) {
    const lost = c.ladder.reduce((a, s) => a + s.lost, 0);
    const dup = c.ladder.reduce((a, s) => a + s.duplicated, 0);
    const ooo = c.ladder.reduce((a, s) => a + s.outOfOrder, 0);
    checks.push({ name: `${c.label}: lost, duplicated, reordered over every step`, target: '0', actual: `${lost} lost, ${dup} duplicated, ${ooo} reordered`, met: lost + dup + ooo === 0 });
  }
  for (const c of configs) {
    const redis = max(c.ladder.map((s) => s.cpuPercent.redis ?? 0));
    const generator = max(c.ladder.flatMap((s) => [...s.cpuPercent.receivers, ...s.cpuPercent.publishers]));
    const sat = c.saturation;
    const failing = c.ladder.find((s) => !s.pass && (!sat || s.subscribersPerChannel > sat.subscribersPerChannel));
    const whole = failing
      ? `; at the failing step (s = ${failing.subscribersPerChannel}) nodes ${failing.cpuPercent.nodes.join(' + ')} %, load generators ${Math.round(sum([...failing.cpuPercent.receivers, ...failing.cpuPercent.publishers]))} %, other work ${failing.cpuPercent.other} %, whole machine ${failing.cpuPercent.machine} % of ${cpuCount * 100} %`
      : '';
    checks.push({
      name: `${c.label}: the search ended at the nodes, not at redis-server or a load generator`,
      target: 'nodes (or max load)',
      actual: `ended by: ${c.limitedBy ?? 'n/a'}; busiest step: redis-server ${redis} %, busiest load generator ${generator} % of a core${whole}`,
      met: c.limitedBy === 'nodes' || c.limitedBy === 'max load',
    });
  }
  return { baseline: base?.label ?? null, ratios, checks };
}

function signed(ms: number): string {
  const v = Math.round(ms * 100) / 100;
  return v >= 0 ? `+${v}` : `${v}`;
}

const perNode = (v: (number | null)[] | null | undefined) => (v ? v.map((x) => (x === null ? '–' : x === Infinity ? '>1000' : `≤${x}`)).join(' / ') : '–');

/** Where a step's time went per node (node-metrics.ts, rig.ts): throttling and the nodes' own p99s. */
function splitText(s: StepResult): string {
  const throttle = s.throttledPercent ? `throttled ${s.throttledPercent.join(' / ')} % of periods, mean stall ${s.stallMs?.join(' / ') ?? '–'} ms; ` : '';
  return `${throttle}publish script round trip p99 ${perNode(s.split?.publishRttP99Ms)} ms; engine publish → socket write p99 ${perNode(s.split?.publishToWriteP99Ms)} ms`;
}

function stepRow(s: StepResult): string {
  const flags = `${s.generatorBound ? ' (generator busy)' : ''}${s.cpuPercent.other > NOISY_OTHER_CPU ? ' (machine busy)' : ''}`;
  return (
    `| ${s.subscribersPerChannel} | ${s.clients} | ${s.deliveredPerSec} | ${s.latencyMs.p50} | ${s.latencyMs.p95} | ${s.latencyMs.p99} | ${s.sameNodeLatencyMs?.p99 ?? '–'} | ${s.crossNodeLatencyMs?.p99 ?? '–'} | ${s.lost} | ${s.duplicated} | ${s.outOfOrder} | ` +
    `${s.cpuPercent.nodes.join(' + ')} | ${s.throttledPercent ? s.throttledPercent.join(' / ') : '–'} | ${s.stallMs ? s.stallMs.join(' / ') : '–'} | ${perNode(s.split?.publishRttP99Ms)} | ${perNode(s.split?.publishToWriteP99Ms)} | ${s.cpuUsPerDelivery.nodes} | ${s.cpuPercent.redis ?? '–'} | ${s.cpuPercent.receivers.join(' + ')} | ${s.cpuPercent.publishers.join(' + ')} | ${s.cpuPercent.other} | ${s.pass ? 'pass' : `fail: ${s.failure}`}${flags} |`
  );
}

export function renderMarkdown(res: {
  date: string;
  wallSeconds: number;
  mode: string;
  machine: { cpus: number; cpuModel: string; node: string; loadAverageBefore: number[]; loadAverageAfter: number[] };
  options: { channelsPerNode: number; channelRate: number; payloadBytes: number; durationMs: number; stepDurationMs: number; warmupMs: number; p99LimitMs: number; quota: NodeCpuQuota | null; ladder: number[]; fixedSubscribers: number };
  configs: ConfigResult[];
  /** Setups that could not run, with why. */
  failures: string[];
  summary: ReturnType<typeof summarize>;
}): string {
  const o = res.options;
  const m = res.machine;
  const lines: string[] = ['# Cluster benchmark', ''];
  lines.push(
    `${res.date}; ${m.cpus} × ${m.cpuModel}, Node ${m.node}; load average (1/5/15 min) ${m.loadAverageBefore.join(' / ')} before, ${m.loadAverageAfter.join(' / ')} after; ${res.wallSeconds} s.`,
    '',
    `Mode: ${res.mode}.`,
    '',
    `Load, the same shape on every node whatever the node count: node n serves s subscribers on each of ${2 * o.channelsPerNode} channels at ${o.channelRate} msg/s each (${o.payloadBytes}-byte payloads), ` +
      `${o.channelsPerNode} published through node n itself ("same-node" receiver) and ${o.channelsPerNode} through node n+1 ("cross-node" receiver, across Redis); node n's publisher publishes both its own same-node set and node n−1's cross-node set. ` +
      'So every node, for any node count (with one node, "next" is the node itself), accepts the same publications, receives the same messages from the engine and makes the same deliveries over the same connections; one connection per subscriber, one channel per connection. ' +
      `The search raises s over ${o.ladder.join(', ')} (connections are only added; after each growth an unreported ${o.warmupMs / 1000} s step) and stops after two failing steps in a row; ` +
      `a step passes with p99 ≤ ${o.p99LimitMs} ms and nothing lost, duplicated or reordered. The step at s = ${o.fixedSubscribers} (${o.durationMs / 1000} s) is the fixed load of the CPU-per-delivery figure, the same per node in every setup; other steps ${o.stepDurationMs / 1000} s. ` +
      'Publishers and receivers run in one cgroup, redis-server in another, both without a ceiling and with the same high weight as the nodes. ' +
      'CPU is percent of one core from /proc/<pid>/stat; "µs/delivery" is the nodes\' CPU time from the first publication to the last delivery over the deliveries; "throttled" is the share of CFS periods in which a node ran out of quota, "mean stall" its throttled time per throttled period (cpu.stat); "publish RTT" (the publish script\'s round trip from the publishing node) and "publish→write" (engine publish on whichever node published → this node\'s socket write) are each node\'s own p99 from its Prometheus histograms, as bucket upper bounds, one figure per node; ' +
      '"other" is CPU taken meanwhile by processes outside the benchmark (the machine is shared with other work).',
    '',
  );
  if (res.failures.length) lines.push('Setups that could not run: ' + res.failures.join('; ') + '.', '');
  lines.push('## Targets', '', '| check | target | actual | met |', '|---|---|---|---|');
  for (const c of res.summary.checks) lines.push(`| ${c.name} | ${c.target} | ${c.actual} | ${c.met ? 'yes' : '**no**'} |`);
  lines.push('');
  for (const r of res.configs) {
    lines.push(`## ${r.label}`, '');
    lines.push(`Load: ${r.layout.publishers} publisher(s), ${r.layout.channels} channels, ${r.layout.receivers} receiver processes; ${Math.round(r.layout.crossNodeShare * 100)} % of deliveries across Redis from their publisher.`, '');
    lines.push(
      `Saturation: ${r.saturation ? `${r.saturation.clients} clients (s = ${r.saturation.subscribersPerChannel}), ${r.saturation.deliveredPerSec} deliveries/s (p99 ${r.saturation.latencyMs.p99} ms)` : 'none passed'}; search ended by: ${r.limitedBy ?? 'n/a'}.`,
      '',
      '| s | clients | deliveries/s | p50 ms | p95 ms | p99 ms | same-node p99 ms | cross-node p99 ms | lost | dup | out of order | CPU nodes % | throttled % | mean stall ms | publish RTT p99 ms | publish→write p99 ms | node µs/delivery | CPU redis % | CPU receivers % | CPU publishers % | CPU other % | result |',
      '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    );
    for (const s of r.ladder) lines.push(s === r.fixed ? stepRow(s).replace(/^\| (\d+)/, '| $1 (fixed)') : stepRow(s));
    lines.push('');
  }
  return lines.join('\n');
}
