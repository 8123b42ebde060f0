/**
 * @module bench/cluster/report
 * The cluster benchmark's verdicts and its Markdown page: each multi-node setup's saturation
 * throughput against the one-node baseline beside its target, cross-node latency at half the
 * two-node saturation rate, loss over every step, and every step's CPU per process.
 */
import type { NodeCpuQuota, StepResult } from './rig.js';

/** A step during which processes outside the benchmark took more than this (percent of a core) is flagged. */
export const NOISY_OTHER_CPU = 20;

export interface Setup {
  engine: 'memory' | 'redis';
  nodes: number;
}

export interface ConfigResult extends Setup {
  label: string;
  target: StepResult;
  ladder: StepResult[];
  saturation: StepResult | null;
  /**
   * What ended the search: the setup failed the next step (with quotas: a node throttled in at
   * least half the periods of that step, whatever else ran), a load generator was busy at it,
   * processes outside the benchmark took much CPU meanwhile, or the ladder's top rate passed.
   */
  /** `burst`: the failing step had a node throttled while every node stayed below 80 % of its quota on average. */
  limitedBy: 'server' | 'load generator' | 'other processes' | 'max rate' | 'burst' | null;
  /** The two-node setup only: a step at half its saturation rate, for the cross-node latency target. */
  halfLoad: StepResult | null;
  /** Where the load generators were: publishers, receivers per node, receivers across Redis from their publisher. */
  layout: { publishers: number; receivers: number; perNode: number[]; crossNode: number };
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
      name: `${c.label} vs ${base.label}, deliveries/s at p99 ≤ ${opts.p99LimitMs} ms with zero loss`,
      target: target === undefined ? 'none (reported)' : `≥ ${target}×`,
      actual:
        `${ratio}× (${c.saturation.deliveredPerSec} vs ${base.saturation.deliveredPerSec}/s; p99 ${c.saturation.latencyMs.p99} vs ${base.saturation.latencyMs.p99} ms)` +
        (busy(c) || busy(base) ? '; the machine was busy with other work during some steps' : ''),
      met: target === undefined ? true : ratio >= target,
    });
  }
  const two = configs.find((c) => c.halfLoad);
  if (two?.halfLoad) {
    const h = two.halfLoad;
    checks.push({
      name: `${two.label}: cross-node publish→client p99 at 50 % of its saturation rate (${h.targetRate} msg/s, ${h.deliveredPerSec} deliveries/s)`,
      target: `< ${opts.crossNodeP99TargetMs} ms`,
      actual: h.crossNodeLatencyMs ? `${h.crossNodeLatencyMs.p99} ms (same-node: ${h.sameNodeLatencyMs?.p99 ?? '–'} ms, all receivers: ${h.latencyMs.p99} ms)` : 'no cross-node receivers',
      met: !!h.crossNodeLatencyMs && h.crossNodeLatencyMs.p99 < opts.crossNodeP99TargetMs && h.lost === 0,
    });
    if (h.crossNodeLatencyMs && h.sameNodeLatencyMs) {
      checks.push({
        name: `${two.label}: what the Redis hop adds to p99 at the 50 % step (cross-node minus same-node receivers, same step, same quota)`,
        target: 'none (reported)',
        actual: `${signed(h.crossNodeLatencyMs.p99 - h.sameNodeLatencyMs.p99)} ms at p99, ${signed(h.crossNodeLatencyMs.p50 - h.sameNodeLatencyMs.p50)} ms at p50`,
        met: true,
      });
    }
  }
  for (const c of configs) {
    const steps = [...c.ladder, ...(c.halfLoad ? [c.halfLoad] : [])];
    const lost = steps.reduce((a, s) => a + s.lost, 0);
    const dup = steps.reduce((a, s) => a + s.duplicated, 0);
    const ooo = steps.reduce((a, s) => a + s.outOfOrder, 0);
    checks.push({ name: `${c.label}: lost, duplicated, reordered over every step`, target: '0', actual: `${lost} lost, ${dup} duplicated, ${ooo} reordered`, met: lost + dup + ooo === 0 });
  }
  return { baseline: base?.label ?? null, ratios, checks };
}

function signed(ms: number): string {
  const v = Math.round(ms * 100) / 100;
  return v >= 0 ? `+${v}` : `${v}`;
}

function stepRow(s: StepResult): string {
  const flags = `${s.generatorBound ? ' (generator busy)' : ''}${s.cpuPercent.other > NOISY_OTHER_CPU ? ' (machine busy)' : ''}`;
  return (
    `| ${s.targetRate}${s.repeat ? ' again' : ''} | ${s.deliveredPerSec} | ${s.latencyMs.p50} | ${s.latencyMs.p95} | ${s.latencyMs.p99} | ${s.sameNodeLatencyMs?.p99 ?? '–'} | ${s.crossNodeLatencyMs?.p99 ?? '–'} | ${s.lost} | ${s.duplicated} | ${s.outOfOrder} | ` +
    `${s.cpuPercent.nodes.join(' + ')} | ${s.throttledPercent ? s.throttledPercent.join(' / ') : '–'} | ${s.cpuPercent.redis ?? '–'} | ${s.cpuPercent.receivers.join(' + ')} | ${s.cpuPercent.publishers.join(' + ')} | ${s.cpuPercent.other} | ${s.pass ? 'pass' : `fail: ${s.failure}`}${flags} |`
  );
}

export function renderMarkdown(res: {
  date: string;
  wallSeconds: number;
  mode: string;
  machine: { cpus: number; cpuModel: string; node: string; loadAverageBefore: number[]; loadAverageAfter: number[] };
  options: { clients: number; channels: number; receivers: number; payloadBytes: number; rate: number; durationMs: number; stepDurationMs: number; p99LimitMs: number; quota: NodeCpuQuota | null; publishers: 'spread' | 'first'; confirmFailures?: boolean };
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
    `Scenario: ${o.clients} subscribers on ${o.channels} channel(s) in at least ${o.receivers} receiver processes (receiver r on node r mod N), ${o.payloadBytes}-byte payloads, ` +
      (o.publishers === 'spread'
        ? 'one publisher process per node, each publishing its own channels at an equal share of the rate (as a load balancer spreads publishers); receiver r holds channels of publisher ⌊r / N⌋ only, so cross-node latency is split out by receiver; '
        : 'one publisher process on the first node; ') +
      'publishers, receivers and redis-server run in one cgroup of their own with no CPU ceiling and the same high weight as the nodes (their CPU is in every row); ' +
      `first step ${o.rate} msg/s for ${o.durationMs / 1000} s, saturation steps ${o.stepDurationMs / 1000} s, p99 limit ${o.p99LimitMs} ms` +
      (o.confirmFailures ? '; a failing step is run once more at once ("again" rows) and its rate fails only if both do. ' : '. ') +
      'CPU is percent of one core from /proc/<pid>/stat; "throttled" is the share of CFS periods in which a quota\'d node ran out of quota; ' +
      '"other" is CPU taken meanwhile by processes outside the benchmark (the machine is shared with other work).',
    '',
  );
  if (res.failures.length) lines.push('Setups that could not run: ' + res.failures.join('; ') + '.', '');
  lines.push('## Targets', '', '| check | target | actual | met |', '|---|---|---|---|');
  for (const c of res.summary.checks) lines.push(`| ${c.name} | ${c.target} | ${c.actual} | ${c.met ? 'yes' : '**no**'} |`);
  lines.push('');
  for (const r of res.configs) {
    lines.push(`## ${r.label}`, '');
    lines.push(`Load: ${r.layout.publishers} publisher(s), ${r.layout.receivers} receivers (${r.layout.perNode.join(' / ')} per node; ${r.layout.crossNode} across Redis from their publisher).`, '');
    lines.push(
      `Saturation: ${r.saturation ? `${r.saturation.deliveredPerSec} deliveries/s at ${r.saturation.targetRate} msg/s (p99 ${r.saturation.latencyMs.p99} ms)` : 'none passed'}; search ended by: ${r.limitedBy === 'burst' ? 'a burst (a node throttled in some periods while below its quota on average)' : (r.limitedBy ?? 'n/a')}.`,
      '',
      '| msg/s | deliveries/s | p50 ms | p95 ms | p99 ms | same-node p99 ms | cross-node p99 ms | lost | dup | out of order | CPU nodes % | throttled % | CPU redis % | CPU receivers % | CPU publishers % | CPU other % | result |',
      '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    );
    for (const s of r.ladder) lines.push(stepRow(s));
    if (r.halfLoad) lines.push(stepRow(r.halfLoad).replace(/^\| (\d+)/, '| $1 (50 %)'));
    lines.push('');
  }
  return lines.join('\n');
}
