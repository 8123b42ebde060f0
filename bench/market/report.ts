/**
 * @module bench/market/report
 * The market benchmark's result shape and its Markdown rendering, with target checks.
 */
import { availableParallelism } from 'node:os';
import type { Pcts, Window } from './rig.js';
import type { IdleResult } from './idle.js';

export interface Rung extends Window {
  offeredMsgsPerSec: number;
  saturated: string | null;
  /** The scavenger mode of this window, when the run compared several (`--gc-modes`). */
  gcMode?: string;
  /** Where the processes ran for this window, when the run compared placements (`--cpu-modes`, cpuset.ts). */
  cpuMode?: string;
  /** Who swept the young ArrayBuffers in this window, when the run compared it (`--ab-sweeps`, ab-sweep.ts). */
  abSweep?: string;
  /** A rung fed from rendered tapes: each simulator's render time and how late its playing ran. */
  tape?: { renderMs: number[]; startedLateMs: number; maxLagMs: number[]; closedTracks: number[] };
}

interface Measure {
  nsPerMsg: number;
  bytesPerMsg: number;
  runsWithoutGc: number;
  runs: number;
}

interface PeerSide {
  updatesPerSec: number;
  latencyMs: Pcts;
  errors: string[];
}

export interface MarketResults {
  startedAt: string;
  loadAtStart: number[];
  loadAtEnd: number[];
  /** Cores of the machine that ran it (the load figures are read against it). */
  cores?: number;
  /** The node flags the measured process (the bench's own) ran with (`--node-flags`; older results have none). */
  nodeFlags?: string[];
  /** `--cpu-modes`: each placement the run used, as the CPUs each side was allowed (cpuset.ts). */
  cpuModes?: Record<string, string>;
  options: Record<string, string>;
  parts: string[];
  hotPath: { messages: number; parse: { scanner: Measure; jsonParse: Measure }; pipeline: { lean: Measure; naive: Measure }; load: number[]; at: string };
  truth: { diffs: number; checkpoints: number; compared: number; mismatches: string[]; crossed: number; resyncs: number; gaps: number; duplicates: number; slowestRecoveryDiffs: number; slowestFreshRecoveryDiffs?: number; recoveriesByStaleAnswers?: number[]; staleAnswers?: number; ms: number; load: number[]; at: string };
  warmup: { seconds: number; msgsPerUpdate: number; window: Window };
  ladder: Rung[];
  ladderAt: string;
  bareLadder?: Rung[];
  bareLadderAt?: string;
  soak: { seconds: number; msgsPerSec: number; windows: (Window & { t: number })[]; internalP99SlopeMsPerMin: number; endToEndP99SlopeMsPerMin: number; rssSlopeMbPerMin: number; heapSlopeMbPerMin: number; load: number[]; at: string };
  idle?: IdleResult;
  ccxt: { symbols: number; feedMsgsPerSec: number; bookUpdatesPerSecPerSymbol: number; ccxt: PeerSide; ours: PeerSide; load: number[]; at: string };
}

const f = (n: number | undefined, d = 2) => (n !== undefined && Number.isFinite(n) ? n.toFixed(d) : '–');
/** A rung's offered rate, with its scavenger mode and its CPU placement when the run compared them. */
const rate = (s: Rung) => {
  const modes = [s.gcMode ? `${s.gcMode} scavenge` : '', s.cpuMode ?? '', s.abSweep ? `${s.abSweep} AB sweep` : ''].filter(Boolean);
  return modes.length ? `${s.offeredMsgsPerSec} (${modes.join(', ')})` : String(s.offeredMsgsPerSec);
};
const p3 = (p: Pcts, d = 3) => `${f(p.p50, d)} / ${f(p.p99, d)} / ${f(p.p999, d)}`;
/** A rung's GC pause p99 / max with the pauses it rests on (older results have no count). */
const gcCell = (s: Rung) => `${f(s.gcPauseP99Ms)} / ${f(s.gcPauseMaxMs)}${s.gcCount !== undefined ? ` (${s.gcCount})` : ''}`;

/**
 * The GC pause p99 over several rungs' pauses together (those that kept every pause): with under
 * ~100 pauses per rung a rung's own p99 is its worst pause, so the target is read on the pool.
 */
export function pooledGcPauses(rungs: Rung[]): { p99: number; max: number; count: number } | null {
  const all = rungs.flatMap((r) => r.gcPausesMs ?? []).sort((a, b) => a - b);
  if (all.length === 0) return null;
  return { p99: all[Math.min(all.length - 1, Math.ceil(0.99 * all.length) - 1)], max: all[all.length - 1], count: all.length };
}

/**
 * Where the machine's CPU went per rung, and the GC split by kind. CPU time is inflated far less
 * by the other helpers' load than wall-clock figures are: the gateway's µs per venue message is
 * the figure to compare between runs. Runs from before these columns existed show dashes.
 */
function cpuTable(rungs: Rung[]): string[] {
  return [
    '| venue msg/s offered | gateway + hub CPU µs per venue msg | gateway + hub CPU (% of a core) | simulators CPU % | subscribers CPU % | GC ms per s | scavenges: count / p99 ms | mark-compacts | main thread waiting for a core: ms per s / µs per slice |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rungs.map((s) => `| ${rate(s)} | ${f(s.gatewayCpuUsPerMsg, 1)} | ${f(s.gatewayCpuPct, 0)} | ${f(s.simCpuPct, 0)} | ${f(s.subscriberCpuPct, 0)} | ${f(s.gcMsPerSec, 1)} | ${s.gcMinorCount ?? '–'} / ${f(s.gcMinorP99Ms)} | ${s.gcMajorCount ?? '–'} | ${s.mainThreadWait ? `${f(s.mainThreadWait.waitMsPerSec, 1)} / ${s.mainThreadWait.waitUsPerSlice}` : '–'} |`),
    '',
  ];
}

/**
 * The heap's flow per rung (V8's accounting, rig.ts / heap-flow.ts): counts, robust under load,
 * where GC pause times are not. Promotion fills the old generation; its inflow per minute sets how
 * often a mark-compact comes. Runs from before these columns existed show dashes.
 */
function heapTable(rungs: Rung[]): string[] {
  return [
    '| venue msg/s offered | heap bytes allocated per venue msg | bytes promoted per 10k venue msgs | old-generation inflow MB/min | scavenges per 10k venue msgs | mark-compacts per min |',
    '|---|---|---|---|---|---|',
    ...rungs.map((s) => `| ${rate(s)} | ${f(s.heapAllocatedBytesPerMsg, 0)} | ${f(s.promotedBytesPer10kMsgs, 0)} | ${f(s.oldInflowMbPerMin, 2)} | ${f(s.scavengesPer10kMsgs, 1)} | ${f(s.markCompactsPerMin, 1)} |`),
    '',
  ];
}

function hotSection(h: MarketResults['hotPath']): string[] {
  const allocCut = 1 - h.pipeline.lean.bytesPerMsg / h.pipeline.naive.bytesPerMsg;
  const row = (name: string, m: Measure) => `| ${name} | ${f(m.nsPerMsg, 0)} | ${f(m.bytesPerMsg, 0)} | ${m.runsWithoutGc}/${m.runs} |`;
  return [
    `## Hot path (captured Binance depth + trade messages, median of 5 runs; ${h.at ?? 'earlier run'})`,
    '',
    '| path | ns/msg | bytes allocated/msg | runs without GC |',
    '|---|---|---|---|',
    row('field scanner (parse only)', h.parse.scanner),
    row('JSON.parse (parse only)', h.parse.jsonParse),
    row('lean pipeline (scanner → sync → pooled message → encode)', h.pipeline.lean),
    row('straightforward (JSON.parse → plain objects → encode)', h.pipeline.naive),
    '',
    `Allocation per message, lean vs straightforward: **${f(allocCut * 100, 0)} % less** (target ≥ 40 %: ${allocCut >= 0.4 ? 'met' : 'not met'}). Load during: ${h.load.join(' / ')}.`,
    '',
  ];
}

function ladderSection(r: MarketResults): string[] {
  const at100k = r.ladder.find((x) => x.offeredMsgsPerSec >= 100_000 && !x.saturated);
  const sat = r.ladder.find((x) => x.saturated);
  const kept = r.ladder.filter((x) => !x.saturated);
  const best = kept.at(-1);
  const targetRungs = kept.filter((x) => x.offeredMsgsPerSec >= 1000 && x.offeredMsgsPerSec <= 10_000);
  // One verdict per CPU placement when the run compared them: pooling shared and pinned windows would answer neither.
  const variant = (x: Rung) => [x.cpuMode, x.abSweep ? `${x.abSweep} AB sweep` : undefined].filter(Boolean).join(', ') || undefined;
  const placements = [...new Set(targetRungs.map(variant))];
  const verdictOf = (rungs: Rung[]) => {
    const pooled = pooledGcPauses(rungs);
    if (!pooled) return null;
    return `pooled over the ${rungs.map((x) => x.offeredMsgsPerSec).join(' and ')} msg/s rungs: p99 ${f(pooled.p99)} ms of ${pooled.count} pauses (max ${f(pooled.max)} ms): ${pooled.p99 < 2 ? 'met' : 'not met'}${pooled.count < 100 ? ' (under 100 pauses: read it as the worst one or two)' : ''}; per rung: ${rungs.map((x) => `${x.offeredMsgsPerSec}: ${f(x.gcPauseP99Ms)} ms of ${x.gcCount}`).join(', ')}`;
  };
  const verdicts = placements.map((mode) => {
    const v = verdictOf(targetRungs.filter((x) => variant(x) === mode));
    return v && mode ? `**${mode}**: ${v}` : v;
  });
  const gcVerdict = verdicts.length && verdicts.every(Boolean)
    ? verdicts.join('; ')
    : kept.length ? (kept.every((x) => x.gcPauseP99Ms < 2) ? 'met on every unsaturated rung' : 'not met on every unsaturated rung') : '–';
  return [
    `## Gateway rate ladder (${r.ladderAt})`,
    '',
    `Simulator: one process per venue; gateway + hub: the measured process; ${r.options.subscribers} hub subscribers in 4 processes (each on one symbol's Binance book, consolidated BBO and Coinbase trades). Warm-up: all ${Number(r.options.symbols) * 3} books synced after ${f(r.warmup.seconds, 1)} s, then a calibration window (${f(r.warmup.msgsPerUpdate)} feed messages per book update). ${r.options['step-seconds']} s per rung after 2 s to settle${r.options['gc-pauses'] && r.options['gc-pauses'] !== '0' ? `, longer (up to ${r.options['gc-max-seconds']} s) until the window has seen ${r.options['gc-pauses']} GC pauses` : ''}.`,
    '',
    '| venue msg/s offered | sent | received by gateway | publications/s | deliveries/s | internal p50 / p99 / p99.9 ms | end to end p50 / p99 / p99.9 ms | GC pause p99 / max ms (pauses) | event loop busy | RSS MB | load |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...r.ladder.map(
      (s) =>
        `| ${rate(s)} | ${s.venueSentPerSec} | ${s.venueReceivedPerSec} | ${s.publicationsPerSec} | ${s.deliveriesPerSec} | ${p3(s.internalMs)} | ${p3(s.endToEndMs, 2)} | ${gcCell(s)} | ${f(s.eventLoopUtilisation * 100, 0)} % | ${s.rssMb} | ${s.load.join(' / ')} |${s.saturated ? ` **saturated**: ${s.saturated}` : ''}`,
    ),
    '',
    ...cpuTable(r.ladder),
    ...heapTable(r.ladder),
    'Internal: a venue message received by the gateway (`tsRecv`, when its socket delivers it) → its publication handed to the hub (encoded, offset assigned, queued to subscribers). End to end: the simulator\'s send time (the event time it writes into the message, sub-ms) → a subscriber process parsing the frame (1 in 4 sampled; Binance book deltas). Histograms of 10 µs resolution (values are bucket upper edges).',
    '',
    `**Saturation:** ${sat ? `at ${sat.offeredMsgsPerSec} venue msg/s (${sat.saturated}); the highest rung kept up with was ${best ? `${best.offeredMsgsPerSec} msg/s (internal p99 ${f(best.internalMs.p99, 3)} ms, end to end p99 ${f(best.endToEndMs.p99)} ms)` : 'none'}` : 'not reached within the ladder'}.`,
    `**Target** internal p99 < 1 ms and p99.9 < 5 ms at 100,000 venue msg/s: ${at100k ? (at100k.internalMs.p99 < 1 && at100k.internalMs.p999 < 5 ? 'met' : 'not met') : 'not met — the gateway does not reach 100,000 msg/s on this machine (see saturation)'}. GC pause p99 < 2 ms at 1k and 10k msg/s: ${gcVerdict}.`,
    '',
  ];
}

/** What the measured load says of the timings (from the figures, not a fixed phrase). */
export function loadVerdict(r: Pick<MarketResults, 'loadAtStart' | 'loadAtEnd' | 'cores'>): string {
  const cores = r.cores ?? availableParallelism();
  const peak = Math.max(r.loadAtStart[0], r.loadAtEnd?.[0] ?? 0);
  const perCore = peak / cores;
  if (perCore <= 1) return `at most ${peak} runnable tasks on ${cores} cores at start and end (1-min), not oversubscribed then.`;
  return `up to ${f(perCore, 1)} runnable tasks per core (${peak} on ${cores} cores, 1-min) — timings include waiting for a core${perCore >= 3 ? ' and are inflated by that load' : ''}.`;
}

export function renderMarkdown(r: MarketResults): string {
  const lines = [
    '# Market benchmark (`npm run bench -- market`)',
    '',
    `Run ${r.startedAt} (parts: ${r.parts?.join(', ')}); options ${JSON.stringify(r.options)}${r.nodeFlags?.length ? `; the measured process ran under node ${r.nodeFlags.join(' ')}` : ''}${r.cpuModes ? `; CPU placements, alternated window by window on one rig (cpuset.ts): ${Object.entries(r.cpuModes).map(([mode, cpus]) => `**${mode}**: ${cpus}`).join('; ')}` : ''}.`,
    `Load average (1/5/15 min) at start ${r.loadAtStart.join(' / ')}, at end ${r.loadAtEnd.join(' / ')}: ${loadVerdict(r)} Each rung's own load is in its table.`,
    '',
  ];
  if (r.hotPath) lines.push(...hotSection(r.hotPath));
  if (r.truth) {
    lines.push(
      `## Book correctness (${r.truth.at ?? 'earlier run'})`,
      '',
      `${r.truth.diffs} Binance diffs with injected gaps, duplicates, reordering and stale snapshots: ${r.truth.compared} of ${r.truth.checkpoints} checkpoints compared (the rest fell inside a resync), mismatches ${r.truth.mismatches.length}, crossed books ${r.truth.crossed}, ${r.truth.resyncs} resyncs, slowest recovery ${r.truth.slowestRecoveryDiffs} diffs (a snapshot round trip is 3 diffs here), ${f(r.truth.ms / 1000, 1)} s.`,
      '',
      ...(r.truth.recoveriesByStaleAnswers
        ? [
            `Recovery from a gap: the slowest with a current snapshot took **${r.truth.slowestFreshRecoveryDiffs} diffs** (target: within one round trip, 3 diffs: ${r.truth.slowestFreshRecoveryDiffs! <= 3 ? 'met' : 'not met'}). Recoveries by stale snapshots received (index = how many): ${JSON.stringify(r.truth.recoveriesByStaleAnswers)}; ${r.truth.staleAnswers} stale answers in all (30 % injected). A stale snapshot predates the diffs after the gap, so nothing can bridge it: each costs one more round trip, which is where the slowest recovery comes from.`,
            '',
          ]
        : []),
    );
  }
  if (r.ladder?.length) lines.push(...ladderSection(r));
  if (r.idle) {
    lines.push(
      `## Idle (${r.idle.at}, load ${r.idle.load.join(' / ')})`,
      '',
      `\`AIRWAVES_APPS=market\`, default configuration (embedded simulator), from source through tsx: **${f(r.idle.idleCpuPctOfCore)} % of a core** over ${r.idle.seconds} s with nobody connected; ${r.idle.subscribedCpuPctOfCore === null ? 'not measured' : `${f(r.idle.subscribedCpuPctOfCore)} %`} with one client subscribed to a book.`,
      '',
    );
  }
  if (r.bareLadder?.length) {
    const sat = r.bareLadder.find((x) => x.saturated);
    lines.push(
      `## The gateway alone: the same ladder with no hub subscriber (${r.bareLadderAt})`,
      '',
      'Parse → books → orchestrator → hub publish (encoded, stored in history), no fan-out: the gateway\'s own ceiling, to tell its cost from the fan-out\'s.',
      '',
      '| venue msg/s offered | sent | received by gateway | publications/s | internal p50 / p99 / p99.9 ms | GC pause p99 / max ms (pauses) | event loop busy | load |',
      '|---|---|---|---|---|---|---|---|',
      ...r.bareLadder.map((s) => `| ${rate(s)} | ${s.venueSentPerSec} | ${s.venueReceivedPerSec} | ${s.publicationsPerSec} | ${p3(s.internalMs)} | ${gcCell(s)} | ${f(s.eventLoopUtilisation * 100, 0)} % | ${s.load.join(' / ')} |${s.saturated ? ` **saturated**: ${s.saturated}` : ''}`),
      '',
      ...cpuTable(r.bareLadder),
      ...heapTable(r.bareLadder),
      `Saturation without subscribers: ${sat ? `at ${sat.offeredMsgsPerSec} venue msg/s` : 'not reached within the ladder'}.`,
      '',
    );
  }
  if (r.ccxt) {
    const c = r.ccxt;
    lines.push(
      `## Beside CCXT Pro (${c.at})`,
      '',
      `Same simulator feed (${c.feedMsgsPerSec} venue msg/s in total, ${f(c.bookUpdatesPerSecPerSymbol, 1)} book updates/s per symbol), same ${c.symbols} Binance symbols, each client in its own process, measured over the same window. Latency: the venue event time (truncated to whole ms on both sides, as CCXT keeps it) → the update in the client's hands.`,
      '',
      '| client | book updates/s | event → client p50 / p99 / p99.9 ms | errors |',
      '|---|---|---|---|',
      `| CCXT Pro \`watchOrderBook\` (one resolution per await: several diffs can fold into one) | ${f(c.ccxt.updatesPerSec, 0)} | ${p3(c.ccxt.latencyMs, 2)} | ${c.ccxt.errors.length ? c.ccxt.errors.join('; ') : 'none'} |`,
      `| Airwaves hub client (every delta, through the gateway and the hub with ${r.options.subscribers} other subscribers) | ${f(c.ours.updatesPerSec, 0)} | ${p3(c.ours.latencyMs, 2)} | ${c.ours.errors.length ? c.ours.errors.join('; ') : 'none'} |`,
      '',
      `Load ${c.load.join(' / ')}.`,
      '',
    );
  }
  if (r.soak) {
    const s = r.soak;
    const w = s.windows;
    lines.push(
      `## Soak (${s.at})`,
      '',
      `${f(s.seconds / 60, 1)} min at ${s.msgsPerSec} venue msg/s with the subscribers, ${w.length} windows of ${r.options['soak-window']} s. Slopes (least squares over the windows): internal p99 ${f(s.internalP99SlopeMsPerMin, 4)} ms/min, end-to-end p99 ${f(s.endToEndP99SlopeMsPerMin, 4)} ms/min, RSS ${f(s.rssSlopeMbPerMin, 3)} MB/min, heap ${f(s.heapSlopeMbPerMin, 3)} MB/min.`,
      `Windows with no delivery to any subscriber: ${w.filter((x) => x.deliveriesPerSec === 0).length} of ${w.length}; subscriber connections the server closed over the run (each reopened after 1 s): ${w.at(-1)?.subscriberConnectionsClosed ?? '– (not counted before 16:20 UTC: subscribers did not reconnect)'}.`,
      `Internal p99 per window: min ${f(Math.min(...w.map((x) => x.internalMs.p99)), 3)}, median ${f(w.map((x) => x.internalMs.p99).sort((a, b) => a - b)[w.length >> 1], 3)}, max ${f(Math.max(...w.map((x) => x.internalMs.p99)), 3)} ms; RSS first ${w[0]?.rssMb} MB, last ${w.at(-1)?.rssMb} MB; load from ${w[0]?.load[0]} to ${w.at(-1)?.load[0]} (1-min).`,
      '',
    );
  }
  return lines.join('\n');
}
