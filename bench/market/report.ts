/**
 * @module bench/market/report
 * The market benchmark's result shape and its Markdown rendering, with target checks.
 */
type Pcts = { p50: number; p99: number; p999: number };

export interface StepResult {
  ratePerVenueSymbol: number;
  offeredUpdatesPerSec: number;
  simUpdatesPerSec: number;
  venueMessagesPerSec: number;
  publicationsPerSec: number;
  deliveriesPerSec: number;
  internalMs: Pcts;
  clientMs: Pcts;
  gcPauseP99Ms: number;
  eventLoopBusy: number | null;
  load: number[];
  saturated?: string;
}

interface Measure {
  nsPerMsg: number;
  bytesPerMsg: number;
  runsWithoutGc: number;
  runs: number;
}

export interface MarketResults {
  startedAt: string;
  loadAtStart: number[];
  loadAtEnd: number[];
  options: Record<string, string>;
  hotPath: { messages: number; parse: { scanner: Measure; jsonParse: Measure }; pipeline: { lean: Measure; naive: Measure }; load: number[] };
  truth: { diffs: number; checkpoints: number; compared: number; mismatches: string[]; crossed: number; resyncs: number; gaps: number; duplicates: number; slowestRecoveryDiffs: number; ms: number; load: number[] };
  steps: StepResult[];
  soak: { seconds: number; rate: number; windows: { t: number; p99: number; heapMb: number }[]; p99SlopeMsPerMin: number; heapSlopeMbPerMin: number; load: number[] };
  ccxt: { symbols: number; ratePerVenueSymbol: number; ccxtUpdatesPerSec: number; oursUpdatesPerSec: number; ccxtEventToBookMs: Pcts; oursEventToHubMs: Pcts; load: number[] };
}

const f = (n: number, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : '–');

export function renderMarkdown(r: MarketResults): string {
  const h = r.hotPath;
  const allocCut = 1 - h.pipeline.lean.bytesPerMsg / h.pipeline.naive.bytesPerMsg;
  const lines = [
    '# Market benchmark (`npm run bench -- market`)',
    '',
    `Run ${r.startedAt}; options ${JSON.stringify(r.options)}.`,
    `Load average (1/5/15 min) at start ${r.loadAtStart.join(' / ')}, at end ${r.loadAtEnd.join(' / ')} — on the 2-core machine shared with other helpers' builds and tests: every timing below is inflated by that load.`,
    '',
    '## Hot path (captured Binance depth + trade messages, median of 5 runs)',
    '',
    '| path | ns/msg | bytes allocated/msg | runs without GC |',
    '|---|---|---|---|',
    `| field scanner (parse only) | ${f(h.parse.scanner.nsPerMsg, 0)} | ${f(h.parse.scanner.bytesPerMsg, 0)} | ${h.parse.scanner.runsWithoutGc}/${h.parse.scanner.runs} |`,
    `| JSON.parse (parse only) | ${f(h.parse.jsonParse.nsPerMsg, 0)} | ${f(h.parse.jsonParse.bytesPerMsg, 0)} | ${h.parse.jsonParse.runsWithoutGc}/${h.parse.jsonParse.runs} |`,
    `| lean pipeline (scanner → sync → pooled message → encode) | ${f(h.pipeline.lean.nsPerMsg, 0)} | ${f(h.pipeline.lean.bytesPerMsg, 0)} | ${h.pipeline.lean.runsWithoutGc}/${h.pipeline.lean.runs} |`,
    `| straightforward (JSON.parse → plain objects → encode) | ${f(h.pipeline.naive.nsPerMsg, 0)} | ${f(h.pipeline.naive.bytesPerMsg, 0)} | ${h.pipeline.naive.runsWithoutGc}/${h.pipeline.naive.runs} |`,
    '',
    `Allocation per message, lean vs straightforward: **${f(allocCut * 100, 0)} % less** (target ≥ 40 %: ${allocCut >= 0.4 ? 'met' : 'not met'}). Load during: ${h.load.join(' / ')}.`,
    '',
    '## Book correctness',
    '',
    `${r.truth.diffs} Binance diffs with injected gaps, duplicates, reordering and stale snapshots: ${r.truth.compared} of ${r.truth.checkpoints} checkpoints compared (the rest fell inside a resync), mismatches ${r.truth.mismatches.length}, crossed books ${r.truth.crossed}, ${r.truth.resyncs} resyncs, slowest recovery ${r.truth.slowestRecoveryDiffs} diffs (a snapshot round trip is 3 diffs here), ${f(r.truth.ms / 1000, 1)} s.`,
    '',
    '## Gateway: simulator (own process) → gateway + hub (this process) → subscribers (4 processes)',
    '',
    '| updates/s offered | sim produced | venue msgs/s received | publications/s | deliveries/s | internal p50 / p99 / p99.9 ms | tsRecv → client p50 / p99 ms | GC p99 ms | load |',
    '|---|---|---|---|---|---|---|---|---|',
    ...r.steps.map((s) => `| ${s.offeredUpdatesPerSec} | ${s.simUpdatesPerSec} | ${s.venueMessagesPerSec} | ${s.publicationsPerSec} | ${s.deliveriesPerSec} | ${f(s.internalMs.p50, 3)} / ${f(s.internalMs.p99, 3)} / ${f(s.internalMs.p999, 3)} | ${f(s.clientMs.p50)} / ${f(s.clientMs.p99)} | ${f(s.gcPauseP99Ms)} | ${s.load.join(' / ')} |${s.saturated ? ` saturated: ${s.saturated}` : ''}`),
    '',
    'Internal latency: from a venue message arriving (tsRecv) to its publication handed to the hub (encoded, offset assigned, queued to subscribers).',
    '',
    '## Soak',
    '',
    `${r.soak.seconds} s at ${r.soak.rate} updates/s per venue-symbol: internal p99 slope ${f(r.soak.p99SlopeMsPerMin, 4)} ms/min, heap slope ${f(r.soak.heapSlopeMbPerMin, 3)} MB/min over ${r.soak.windows.length} windows of 5 s (p99 per window: ${r.soak.windows.map((w) => f(w.p99, 3)).join(', ')}). Load ${r.soak.load.join(' / ')}. The 1 h and 24 h soaks were not run: \`--soak-seconds 3600\` runs one.`,
    '',
    '## Beside CCXT Pro (same simulator feed, Binance books)',
    '',
    `| client | book updates/s | venue event → book p50 / p99 / p99.9 ms |`,
    '|---|---|---|',
    `| CCXT Pro watchOrderBook (own process) | ${f(r.ccxt.ccxtUpdatesPerSec, 0)} | ${f(r.ccxt.ccxtEventToBookMs.p50)} / ${f(r.ccxt.ccxtEventToBookMs.p99)} / ${f(r.ccxt.ccxtEventToBookMs.p999)} |`,
    `| Airwaves gateway (to hub publish) | ${f(r.ccxt.oursUpdatesPerSec, 0)} | ${f(r.ccxt.oursEventToHubMs.p50)} / ${f(r.ccxt.oursEventToHubMs.p99)} / ${f(r.ccxt.oursEventToHubMs.p999)} |`,
    '',
    `${r.ccxt.symbols} symbols at ${r.ccxt.ratePerVenueSymbol} updates/s; event time has millisecond resolution. Load ${r.ccxt.load.join(' / ')}.`,
    '',
  ];
  return lines.join('\n');
}
