/**
 * @module bench/cluster/step-table
 * One measured step as a row of the cluster benchmark's Markdown tables (report.ts): its latency,
 * loss, each process's CPU, the nodes' throttling and own p99s, and its verdict.
 */
import type { StepResult } from './rig.js';

/** A step during which processes outside the benchmark took more than this (percent of a core) is flagged. */
export const NOISY_OTHER_CPU = 20;

const perNode = (v: (number | null)[] | null | undefined) => (v ? v.map((x) => (x === null ? '–' : x === Infinity ? '>1000' : `≤${x}`)).join(' / ') : '–');

/** Where a step's time went per node (node-metrics.ts, rig.ts): throttling and the nodes' own p99s. */
export function splitText(s: StepResult): string {
  const throttle = s.throttledPercent ? `throttled ${s.throttledPercent.join(' / ')} % of periods, mean stall ${s.stallMs?.join(' / ') ?? '–'} ms; ` : '';
  return `${throttle}publish script round trip p99 ${perNode(s.split?.publishRttP99Ms)} ms; engine publish → socket write p99 ${perNode(s.split?.publishToWriteP99Ms)} ms`;
}

/** One measured step as a row under STEP_HEADER: latency, loss, CPU per process, throttling, the verdict and what it led to. */
export function stepRow(s: StepResult): string {
  const flags = `${s.generatorBound ? ' (generator busy)' : ''}${s.cpuPercent.other > NOISY_OTHER_CPU ? ' (machine busy)' : ''}`;
  return (
    `| ${s.subscribersPerChannel}${s.retry ? ' (again)' : ''} | ${s.clients} | ${s.deliveredPerSec} | ${s.latencyMs.p50} | ${s.latencyMs.p95} | ${s.latencyMs.p99} | ${s.sameNodeLatencyMs?.p99 ?? '–'} | ${s.crossNodeLatencyMs?.p99 ?? '–'} | ${s.lost} | ${s.duplicated} | ${s.outOfOrder} | ` +
    `${s.cpuPercent.nodes.join(' + ')} | ${s.throttledPercent ? s.throttledPercent.join(' / ') : '–'} | ${s.stallMs ? s.stallMs.join(' / ') : '–'} | ${perNode(s.split?.publishRttP99Ms)} | ${perNode(s.split?.publishToWriteP99Ms)} | ${s.cpuUsPerDelivery.nodes} | ${s.cpuPercent.redis ?? '–'} | ${s.cpuPercent.receivers.join(' + ')} | ${s.cpuPercent.publishers.join(' + ')} | ${s.cpuPercent.other} | ${s.pass ? 'pass' : `fail: ${s.failure}`}${s.retried ? ` → run again${s.disturbed ? ' (disturbed)' : ''}` : ''}${flags} |`
  );
}

export const STEP_HEADER =
  '| s | clients | deliveries/s | p50 ms | p95 ms | p99 ms | same-node p99 ms | cross-node p99 ms | lost | dup | out of order | CPU nodes % | throttled % | mean stall ms | publish RTT p99 ms | publish→write p99 ms | node µs/delivery | CPU redis % | CPU receivers % | CPU publishers % | CPU other % | result |';
export const STEP_RULE = '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|';
