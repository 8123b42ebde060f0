/**
 * @module bench/hub/ladder-report
 * The black-box ladder's Markdown (`npm run bench -- hub --ladder`): per step, each server's
 * p50 / p99 / loss side by side; Airwaves ÷ the one-frame ws loop of the same run; the issue's
 * latency targets checked against those ratios; then every step in full (CPU of each process,
 * load average at the end of the step).
 */
import type { HubBenchResults } from './report.js';
import type { StepResult } from './scenario.js';
import { BUILT_CLI } from './servers.js';
import { SERVER_LABELS, type ServerKind } from './wire.js';

const AIRWAVES_KINDS: ServerKind[] = ['airwaves', 'airwaves-cli', 'airwaves-cli-all'];
const REFERENCE: ServerKind = 'ws-frame';
/** Targets of issue 18: at 25k–200k deliveries/s Airwaves ≤ 1.2× the one-frame loop (p50 and p99); at 1M/s p99 < 30 ms, 0 lost. */
const RATIO_LIMIT = 1.2;
const RATIO_STEPS_UP_TO = 200_000;
const TOP_STEP = 1_000_000;
const TOP_P99_MS = 30;
/** A reference whose p50 is past this is not keeping up (a backlog): a ratio against it says nothing. */
const REFERENCE_SATURATED_P50_MS = 50;

const r2 = (v: number) => Math.round(v * 100) / 100;
const k = (deliveries: number) => (deliveries >= 1_000_000 ? `${deliveries / 1_000_000}M` : `${Math.round(deliveries / 1000)}k`);

/** Each server's steps by the ladder rung they ran (deliveries/s asked for). */
function rungs(res: HubBenchResults): { rung: number; steps: Partial<Record<ServerKind, StepResult>> }[] {
  const o = res.options;
  const perPublication = o.clients / o.channels;
  return (o.ladder ?? []).map((rung) => {
    const rate = Math.max(1, Math.round(rung / perPublication));
    const steps: Partial<Record<ServerKind, StepResult>> = {};
    for (const [kind, load] of Object.entries(res.load) as [ServerKind, NonNullable<HubBenchResults['load'][ServerKind]>][]) {
      const s = load.ladder.find((x) => x.targetRate === rate);
      if (s) steps[kind] = s;
    }
    return { rung, steps };
  });
}

export function renderLadderMarkdown(res: HubBenchResults, notes: string[]): string {
  const o = res.options;
  const kinds = Object.keys(res.load) as ServerKind[];
  const lines: string[] = ['# Hub benchmark: black-box ladder', ''];
  lines.push(
    `${res.date} · ${res.machine.cpus} × ${res.machine.cpuModel} · ${res.machine.memoryGB} GB · Node ${res.machine.node} · ${res.wallSeconds} s wall`,
    '',
    `Command: \`npm run bench -- hub${res.args.length ? ' ' + res.args.join(' ') : ''}\` (under \`flock /tmp/airwaves-bench.lock\`) · ${o.clients} subscribers on ${o.channels} channel(s) ` +
      `over ${o.receivers} receiver processes, one publisher process sending \`publish\` commands over the WebSocket, ${o.payloadBytes}-byte payload, ` +
      `${o.durationMs / 1000} s per step after a ${o.warmupMs / 1000} s warm-up; every server is its own process and the load generators are the same for all. ` +
      `1-minute load average ${res.machine.loadAverageBefore} before the run, ${res.machine.loadAverageAfter} after; each step's own is in the last table.`,
    '',
    ...notes,
    '',
  );
  const table = rungs(res);
  lines.push('## p50 / p99 ms and lost, per step', '');
  lines.push(`| deliveries/s | ${kinds.map((x) => SERVER_LABELS[x]).join(' | ')} |`, `|---|${kinds.map(() => '---').join('|')}|`);
  for (const { rung, steps } of table) {
    const cells = kinds.map((x) => {
      const s = steps[x];
      return s ? `${s.latencyMs.p50} / ${s.latencyMs.p99}${s.lost ? `, **${s.lost} lost**` : ''}${s.deliveredPerSec < 0.95 * rung ? ` (${s.deliveredPerSec.toLocaleString('en-US')}/s delivered)` : ''}` : '—';
    });
    lines.push(`| ${rung.toLocaleString('en-US')} | ${cells.join(' | ')} |`);
  }
  lines.push('');
  const airwaves = kinds.filter((x) => AIRWAVES_KINDS.includes(x));
  if (kinds.includes(REFERENCE) && airwaves.length) {
    lines.push(`## Airwaves ÷ ${SERVER_LABELS[REFERENCE]} (same run): p50 ratio / p99 ratio`, '');
    lines.push(`| deliveries/s | ${airwaves.map((x) => SERVER_LABELS[x]).join(' | ')} |`, `|---|${airwaves.map(() => '---').join('|')}|`);
    for (const { rung, steps } of table) {
      const ref = steps[REFERENCE];
      const cells = airwaves.map((x) => {
        const s = steps[x];
        if (!s || !ref || !(ref.latencyMs.p50 > 0) || !(ref.latencyMs.p99 > 0)) return '—';
        return `${r2(s.latencyMs.p50 / ref.latencyMs.p50)}× / ${r2(s.latencyMs.p99 / ref.latencyMs.p99)}×${ref.lost ? ' (reference lost messages)' : ''}`;
      });
      lines.push(`| ${k(rung)} | ${cells.join(' | ')} |`);
    }
    lines.push('', '## Targets (issue 18)', '', '| target | server | measured | met |', '|---|---|---|---|');
    for (const x of airwaves) {
      for (const { rung, steps } of table) {
        const s = steps[x];
        const ref = steps[REFERENCE];
        if (!s) continue;
        if (rung <= RATIO_STEPS_UP_TO && ref) {
          const p50 = r2(s.latencyMs.p50 / ref.latencyMs.p50);
          const p99 = r2(s.latencyMs.p99 / ref.latencyMs.p99);
          const saturated = ref.latencyMs.p50 > REFERENCE_SATURATED_P50_MS || ref.lost > 0;
          const met = saturated ? `not comparable: the one-frame loop is saturated (p50 ${ref.latencyMs.p50} ms); Airwaves p50 / p99 ${s.latencyMs.p50} / ${s.latencyMs.p99} ms` : p50 <= RATIO_LIMIT && p99 <= RATIO_LIMIT ? 'yes' : '**no**';
          lines.push(`| ${k(rung)}/s: p50 and p99 ≤ ${RATIO_LIMIT}× the one-frame loop's | ${SERVER_LABELS[x]} | ${p50}× / ${p99}× | ${met} |`);
        }
        if (rung === TOP_STEP) {
          const ok = s.latencyMs.p99 < TOP_P99_MS && s.lost === 0;
          lines.push(`| 1M/s: p99 < ${TOP_P99_MS} ms, 0 lost | ${SERVER_LABELS[x]} | ${s.latencyMs.p99} ms, ${s.lost} lost | ${ok ? 'yes' : '**no**'} |`);
        }
      }
    }
    lines.push('');
  }
  lines.push('## Every step', '');
  lines.push(
    '| server | deliveries/s asked | delivered/s | p50 | p95 | p99 | max ms | lost | msgs/frame | server CPU % | server peak RSS MB | receivers CPU % | publisher CPU % | other processes CPU % | load avg (1 min) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  );
  const perPublication = o.clients / o.channels;
  for (const x of kinds) {
    for (const s of res.load[x]!.ladder) {
      lines.push(
        `| ${SERVER_LABELS[x]} | ${(s.targetRate * perPublication).toLocaleString('en-US')} | ${s.deliveredPerSec.toLocaleString('en-US')} | ${s.latencyMs.p50} | ${s.latencyMs.p95} | ${s.latencyMs.p99} | ${s.latencyMs.max} | ` +
          `${s.lost} | ${s.messagesPerFrame} | ${s.cpuPercent.server} | ${s.serverPeakRssMB} | ${s.cpuPercent.receivers.join(' + ')} | ${s.cpuPercent.publisher} | ${s.cpuPercent.other}${s.generatorBound ? ' (generator busy)' : ''} | ${s.loadAverage} |`,
      );
    }
  }
  lines.push('');
  return lines.join('\n');
}

/** What the ladder's servers are, in words, for the top of its Markdown. */
export function ladderNotes(): string[] {
  return [
    `Servers: **Airwaves, hub alone** is the built CLI (\`node ${BUILT_CLI.replace(/^.*\/dist\//, 'dist/')} serve\`, built by \`npm run build\`) with \`AIRWAVES_APPS=\` ` +
      '(empty: no app, the setting a user who wants only the hub makes); **Airwaves, default apps** is the same CLI with `AIRWAVES_APPS` unset (every app, ' +
      'embedded database, radio synthesis). Both get only what any user publishing at this rate from one connection would set: a `bench` namespace open to ' +
      'anonymous publish/subscribe (`AIRWAVES_NAMESPACES`) and per-client limits raised (`AIRWAVES_PUBLISH_RATE`, `AIRWAVES_COMMAND_RATE`, ' +
      '`AIRWAVES_PUBLISH_BYTES_RATE`, `AIRWAVES_MAX_CONNECTIONS_PER_IP`). The **one-frame ws loop** (bench/hub/peer-ws-server.ts `--one-frame`) frames each ' +
      'message once with `ws`\'s `Sender.frame` and writes that buffer to every socket; **Socket.IO** (bench/hub/peer-socketio-server.ts) broadcasts ' +
      'with `io.to(room).emit`. Both peers run through tsx.',
    '',
    'The default-apps server is measured once it has started: its hub serves first, so the bench waits for `/readyz?apps=all` (every app serves) ' +
      'and then for its start-up work to end (its CPU over 2 s under 10 % of a core, at most 60 s); the wait is printed with the run.',
    '',
    'Latency is publish (the publisher\'s clock, taken as it builds the message) to the receiver\'s read of the TCP segment holding it, both on ' +
      'CLOCK_MONOTONIC; every message of a batched frame is counted. "Lost" is published minus received per subscriber after a bounded drain.',
  ];
}
