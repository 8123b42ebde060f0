/**
 * @module bench/hub/report
 * Turns the measurements into ratios, target checks and the Markdown written beside the JSON.
 */
import type { HubBenchOptions } from './options.js';
import type { IdleResult, LoadResult, StepResult } from './scenario.js';
import { SERVER_LABELS, type ServerKind } from './wire.js';

export interface Check {
  name: string;
  target: string;
  actual: string;
  met: boolean;
}

export interface Summary {
  saturation: Partial<
    Record<
      ServerKind,
      {
        deliveriesPerSec: number;
        publishRate: number;
        /** True when the search stopped for a reason other than this server failing: the real figure is higher. */
        lowerBound: boolean;
        /** Why the search stopped: the server failed the next step, the load generator was busy at it, or --max-rate. */
        limitedBy: 'server' | 'load generator' | 'max rate';
      } | null
    >
  >;
  ratios: {
    saturationVsSocketIo?: number;
    saturationVsWs?: number;
    idleMemoryVsWs?: number;
    /** Like for like: V8 heap + external only, which RSS noise cannot hide. */
    idleHeapVsWs?: number;
    targetP99VsSocketIo?: number;
    targetP99VsWs?: number;
    targetServerCpuVsSocketIo?: number;
    targetServerCpuVsWs?: number;
  };
  checks: Check[];
}

export interface HubBenchResults {
  benchmark: 'hub';
  date: string;
  wallSeconds: number;
  /** The command-line arguments of the run, as given. */
  args: string[];
  machine: { cpus: number; cpuModel: string; memoryGB: number; node: string; loadAverageBefore: number; loadAverageAfter: number };
  options: HubBenchOptions;
  load: Partial<Record<ServerKind, LoadResult>>;
  idle: Partial<Record<ServerKind, IdleResult>>;
  summary: Summary;
}

const r2 = (v: number) => Math.round(v * 100) / 100;

export function summarize(opts: HubBenchOptions, load: HubBenchResults['load'], idle: HubBenchResults['idle']): Summary {
  const saturation: Summary['saturation'] = {};
  for (const [kind, res] of Object.entries(load) as [ServerKind, LoadResult][]) {
    if (!opts.saturation || !res.saturation) {
      saturation[kind] = null;
      continue;
    }
    // No failing step above the best pass means the ladder hit --max-rate: a lower bound. A failing
    // step whose generator was busy may be the generator's limit, not the server's.
    const failedAbove = res.ladder.filter((s) => !s.pass && s.targetRate > res.saturation!.targetRate);
    const limitedBy = failedAbove.length === 0 ? 'max rate' : failedAbove.every((s) => s.generatorBound) ? 'load generator' : 'server';
    saturation[kind] = {
      deliveriesPerSec: res.saturation.deliveredPerSec,
      publishRate: res.saturation.targetRate,
      lowerBound: limitedBy !== 'server',
      limitedBy,
    };
  }
  // Two decimals, or three significant digits for small ratios (a latency ratio can be 0.005).
  const ratio = (a?: number, b?: number) => {
    if (a === undefined || b === undefined || !(b > 0)) return undefined;
    const v = a / b;
    return v !== 0 && Math.abs(v) < 0.1 ? Number(v.toPrecision(3)) : r2(v);
  };
  const aw = load.airwaves?.target;
  const ratios: Summary['ratios'] = {
    saturationVsSocketIo: ratio(saturation.airwaves?.deliveriesPerSec, saturation.socketio?.deliveriesPerSec),
    saturationVsWs: ratio(saturation.airwaves?.deliveriesPerSec, saturation.ws?.deliveriesPerSec),
    idleMemoryVsWs: ratio(idle.airwaves?.bytesPerConnection, idle.ws?.bytesPerConnection),
    idleHeapVsWs: ratio(idle.airwaves?.heapBytesPerConnection, idle.ws?.heapBytesPerConnection),
    targetP99VsSocketIo: ratio(aw?.latencyMs.p99, load.socketio?.target.latencyMs.p99),
    targetP99VsWs: ratio(aw?.latencyMs.p99, load.ws?.target.latencyMs.p99),
    targetServerCpuVsSocketIo: ratio(aw?.cpuPercent.server, load.socketio?.target.cpuPercent.server),
    targetServerCpuVsWs: ratio(aw?.cpuPercent.server, load.ws?.target.cpuPercent.server),
  };
  const checks: Check[] = [];
  if (aw) {
    checks.push({ name: `target scenario loss (${opts.clients} subscribers, ${opts.rate} msg/s)`, target: '0', actual: String(aw.lost), met: aw.lost === 0 && aw.duplicated === 0 });
    checks.push({ name: 'target scenario p99 delivery latency', target: `< ${opts.targetP99Ms} ms`, actual: `${aw.latencyMs.p99} ms`, met: aw.latencyMs.p99 < opts.targetP99Ms });
  }
  if (ratios.saturationVsSocketIo !== undefined) {
    checks.push({ name: 'saturation vs Socket.IO', target: '≥ 4×', actual: `${ratios.saturationVsSocketIo}×`, met: ratios.saturationVsSocketIo >= 4 });
  }
  if (ratios.saturationVsWs !== undefined) {
    checks.push({ name: 'saturation vs naive ws loop', target: '≥ 1.5×', actual: `${ratios.saturationVsWs}×`, met: ratios.saturationVsWs >= 1.5 });
  }
  if (idle.airwaves) {
    const kb = idle.airwaves.bytesPerConnection / 1024;
    checks.push({ name: `server memory per idle connection (${idle.airwaves.connected} clients)`, target: '≤ 12 KB', actual: `${r2(kb)} KB`, met: kb <= 12 });
  }
  if (ratios.idleMemoryVsWs !== undefined) {
    checks.push({ name: 'idle memory vs bare ws server', target: '≤ 1.2×', actual: `${ratios.idleMemoryVsWs}×`, met: ratios.idleMemoryVsWs <= 1.2 });
  }
  return { saturation, ratios, checks };
}

function stepRow(kind: ServerKind, s: StepResult): string {
  return `| ${SERVER_LABELS[kind]} | ${s.targetRate} | ${s.deliveredPerSec.toLocaleString('en-US')} | ${s.latencyMs.p50} | ${s.latencyMs.p95} | ${s.latencyMs.p99} | ${s.latencyMs.max} | ${s.lost} | ${s.messagesPerFrame} | ${s.cpuPercent.server} | ${s.serverPeakRssMB} | ${s.cpuPercent.receivers.join(' + ')} | ${s.cpuPercent.publisher} | ${s.cpuPercent.other} | ${s.pass ? 'pass' : `fail: ${s.failure}`}${s.generatorBound ? ' (load generator busy)' : ''}${s.disturbed ? ' (machine busy)' : ''} |`;
}

const STEP_HEADER = [
  '| server | publish msg/s | delivered msgs/s | p50 ms | p95 ms | p99 ms | max ms | lost | msgs/frame | server CPU % | server peak RSS MB | receivers CPU % | publisher CPU % | other processes CPU % | verdict |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
];

export function renderMarkdown(res: HubBenchResults): string {
  const o = res.options;
  const kinds = Object.keys(res.load) as ServerKind[];
  const lines: string[] = [];
  lines.push('# Hub benchmark', '');
  lines.push(
    `${res.date} · ${res.machine.cpus} × ${res.machine.cpuModel} · ${res.machine.memoryGB} GB · Node ${res.machine.node} · ${res.wallSeconds} s wall`,
    '',
    `Command: \`npm run bench -- hub${res.args.length ? ' ' + res.args.join(' ') : ''}\` · ${o.clients} subscribers on ${o.channels} channel(s) over ${o.receivers} receiver processes, ` +
      `${o.payloadBytes}-byte payload, one publisher process. Server, receivers and publisher share the machine's ${res.machine.cpus} cores; ` +
      'CPU % is of one core, read from /proc for each process; "other processes" is whatever else ran on the machine meanwhile ' +
      `(1-minute load average ${res.machine.loadAverageBefore} before the run, ${res.machine.loadAverageAfter} after).`,
    '',
  );
  lines.push(`## Target scenario: ${o.rate} msg/s for ${o.durationMs / 1000} s (${(o.rate * o.clients / o.channels).toLocaleString('en-US')} deliveries/s expected)`, '');
  lines.push(...STEP_HEADER);
  for (const k of kinds) lines.push(stepRow(k, res.load[k]!.target));
  lines.push('');
  if (o.saturation) {
    lines.push(`## Saturation: highest deliveries/s with p99 ≤ ${o.p99LimitMs} ms and nothing lost`, '');
    lines.push('| server | publish msg/s | deliveries/s | p99 ms | server CPU % | receivers CPU % | next step failed by |', '|---|---:|---:|---:|---:|---:|---|');
    for (const k of kinds) {
      const s = res.load[k]!.saturation;
      const sat = res.summary.saturation[k];
      if (!s || !sat) lines.push(`| ${SERVER_LABELS[k]} | — | below ${o.minRate} msg/s | | | | |`);
      else {
        lines.push(
          `| ${SERVER_LABELS[k]} | ${s.targetRate} | ${sat.lowerBound ? '≥ ' : ''}${s.deliveredPerSec.toLocaleString('en-US')} | ${s.latencyMs.p99} | ` +
            `${s.cpuPercent.server} | ${s.cpuPercent.receivers.join(' + ')} | ${sat.limitedBy} |`,
        );
      }
    }
    lines.push('', '### Every step', '', ...STEP_HEADER);
    for (const k of kinds) for (const s of res.load[k]!.ladder) lines.push(stepRow(k, s));
    lines.push('');
  }
  const idleKinds = Object.keys(res.idle) as ServerKind[];
  if (idleKinds.length) {
    lines.push(`## Server memory per idle connection (${o.idleClients} idle clients, RSS after a full GC)`, '');
    lines.push(
      '| server | connected | RSS before MB | RSS after MB | KB RSS per connection | KB heap+external per connection | KB per connection (larger of the two) |',
      '|---|---:|---:|---:|---:|---:|---:|',
    );
    for (const k of idleKinds) {
      const r = res.idle[k]!;
      lines.push(
        `| ${k === 'ws' ? 'bare ws server' : SERVER_LABELS[k]} | ${r.connected} | ${r.rssBeforeMB} | ${r.rssAfterMB} | ${r2(r.rssBytesPerConnection / 1024)} | ` +
          `${r2(r.heapBytesPerConnection / 1024)} | ${r2(r.bytesPerConnection / 1024)} |`,
      );
    }
    lines.push(
      '',
      'RSS alone can hide new connections in pages a large process already holds (the Airwaves server carries its embedded database), ' +
        'so each server also reports its V8 heap plus external memory after the same full GC; the targets use the larger figure.',
      '',
    );
  }
  const ra = res.summary.ratios;
  const fmt = (v?: number) => (v === undefined ? '—' : `${v}×`);
  lines.push('## Ratios (Airwaves ÷ peer, same run)', '');
  lines.push('| measure | vs Socket.IO | vs naive ws loop |', '|---|---:|---:|');
  lines.push(`| saturation deliveries/s (higher is better) | ${fmt(ra.saturationVsSocketIo)} | ${fmt(ra.saturationVsWs)} |`);
  lines.push(`| target-scenario p99 latency (lower is better) | ${fmt(ra.targetP99VsSocketIo)} | ${fmt(ra.targetP99VsWs)} |`);
  lines.push(`| target-scenario server CPU (lower is better) | ${fmt(ra.targetServerCpuVsSocketIo)} | ${fmt(ra.targetServerCpuVsWs)} |`);
  lines.push(`| memory per idle connection (lower is better) | | ${fmt(ra.idleMemoryVsWs)} |`);
  lines.push(`| heap + external per idle connection (lower is better) | | ${fmt(ra.idleHeapVsWs)} |`);
  lines.push('');
  if (res.summary.checks.length) {
    lines.push('## Targets', '', '| target | wanted | measured | met |', '|---|---|---|---|');
    for (const c of res.summary.checks) lines.push(`| ${c.name} | ${c.target} | ${c.actual} | ${c.met ? 'yes' : '**no**'} |`);
    lines.push('');
  }
  return lines.join('\n');
}
