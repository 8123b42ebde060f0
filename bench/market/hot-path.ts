/**
 * @module bench/market/hot-path
 * Parse and allocation: the lean path (field scanner → sync → pooled message → encoded frame)
 * against the straightforward one (JSON.parse → plain canonical objects → apply → stringify a
 * fresh object) over the same captured Binance depth and trade messages. Run in a child started
 * with `--expose-gc --min-semi-space-size=256 --max-semi-space-size=256` so that no scavenge happens during a measured run
 * (checked with a GC observer): heapUsed after − before is the bytes allocated.
 * Prints one JSON line.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { SimMarket } from '../../src/apps/market/simulator/market.js';
import { binanceDepthUpdate, binanceTrade } from '../../src/apps/market/simulator/binance.js';
import { BinanceKind, BinanceScan, scanBinance } from '../../src/apps/market/venues/binance/parse.js';
import { BinanceBookSync } from '../../src/apps/market/venues/binance/sync.js';
import { OrderBook } from '../../src/apps/market/book.js';
import { BoundedPool } from '../../src/apps/market/pool.js';
import { BookMessage } from '../../src/apps/market/pipeline/messages.js';
import { noCounters, type MarketSink } from '../../src/apps/market/venues/sink.js';
import { DEFAULT_SYMBOLS } from '../../src/apps/market/types.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');
const N = Number(process.argv[2] ?? 20_000);

// Captured traffic: depth updates and trades of one symbol, in order.
const market = new SimMarket({ symbols: [DEFAULT_SYMBOLS[0]], updatesPerSecond: 0 });
const texts: string[] = [];
market.onChange((venue, truth, change) => {
  if (venue !== 'binance') return;
  texts.push(`{"stream":"btcusdt@depth@100ms","data":${binanceDepthUpdate(truth, change)}}`);
  if (change.trade) texts.push(`{"stream":"btcusdt@trade","data":${binanceTrade(truth, change)}}`);
});
market.step(N, ['binance']);
const firstId = Number(/"U":(\d+)/.exec(texts[0])![1]);
const snapshotBook = new OrderBook('x');


function leanRun(): { frames: number; bytes: number } {
  let frames = 0;
  let bytes = 0;
  const pool = new BoundedPool({ name: 'b', capacity: 64, create: () => new BookMessage() });
  const scan = new BinanceScan();
  let seq = 0;
  const sink: MarketSink = {
    book(u) {
      const m = pool.tryAcquire()!;
      m.t = 'delta';
      m.seq = ++seq;
      m.vseq = u.venueSeq;
      for (let i = 0; i < u.nb; i++) m.b.push(u.bids[i]);
      for (let i = 0; i < u.na; i++) m.a.push(u.asks[i]);
      bytes += JSON.stringify(m).length; // the hub's one encode
      frames++;
      pool.release(m);
    },
    trade() {},
    bbo() {},
    status() {},
  };
  const sync = new BinanceBookSync('BTC-USDT', sink, noCounters, () => {});
  sync.start();
  sync.onSnapshot(firstId - 1, snapshotBook.bids.top(0), snapshotBook.asks.top(0));
  for (let i = 0; i < texts.length; i++) {
    scanBinance(texts[i], scan);
    if (scan.kind === BinanceKind.Depth) sync.onDiff(scan.firstId, scan.lastId, scan.bids, scan.asks, scan.eventTime, 0, scan.bidCount, scan.askCount);
    else if (scan.kind === BinanceKind.Trade) bytes += JSON.stringify({ t: 'trade', seq: ++seq, id: String(scan.tradeId), p: scan.price, q: scan.qty, side: scan.buyerMaker ? 'sell' : 'buy', te: scan.tradeTime, tr: 0 }).length;
  }
  return { frames, bytes };
}

interface NaiveLevel {
  price: number;
  qty: number;
}
function naiveRun(): { frames: number; bytes: number } {
  let frames = 0;
  let bytes = 0;
  let seq = 0;
  const book = new OrderBook('BTC-USDT');
  let last = firstId - 1;
  for (let i = 0; i < texts.length; i++) {
    const msg = JSON.parse(texts[i]) as { data: Record<string, unknown> };
    const d = msg.data;
    if (d.e === 'depthUpdate') {
      const toLevels = (l: [string, string][]): NaiveLevel[] => l.map(([p, q]) => ({ price: Number(p), qty: Number(q) }));
      const event = { type: 'delta', venue: 'binance', symbol: 'BTC-USDT', firstId: d.U as number, lastId: d.u as number, tsEvent: d.E as number, bids: toLevels(d.b as [string, string][]), asks: toLevels(d.a as [string, string][]) };
      if (event.firstId > last + 1 || event.lastId <= last) continue;
      last = event.lastId;
      for (const l of event.bids) book.set('bid', l.price, l.qty);
      for (const l of event.asks) book.set('ask', l.price, l.qty);
      bytes += JSON.stringify({ t: 'delta', seq: ++seq, vseq: event.lastId, b: event.bids.map((l) => [l.price, l.qty]), a: event.asks.map((l) => [l.price, l.qty]) }).length;
      frames++;
    } else if (d.e === 'trade') {
      const event = { type: 'trade', venue: 'binance', symbol: 'BTC-USDT', tradeId: String(d.t), price: Number(d.p), qty: Number(d.q), side: d.m ? 'sell' : 'buy', tsEvent: d.T as number };
      bytes += JSON.stringify({ t: 'trade', seq: ++seq, id: event.tradeId, p: event.price, q: event.qty, side: event.side, te: event.tsEvent, tr: 0 }).length;
    }
  }
  return { frames, bytes };
}

/** GC entries by start time, to tell which measured windows had a collection. */
const gcTimes: number[] = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcTimes.push(e.startTime);
}).observe({ entryTypes: ['gc'] });

async function measure(run: () => { frames: number; bytes: number }) {
  for (let w = 0; w < 3; w++) run(); // warm up (JIT)
  const samples: { nsPerMsg: number; bytesPerMsg: number; from: number; to: number }[] = [];
  for (let k = 0; k < 5; k++) {
    gc!();
    await new Promise((r) => setImmediate(r));
    const h0 = process.memoryUsage().heapUsed;
    const from = performance.now();
    const t0 = process.hrtime.bigint();
    run();
    const ns = Number(process.hrtime.bigint() - t0);
    const to = performance.now();
    const h1 = process.memoryUsage().heapUsed;
    samples.push({ nsPerMsg: ns / texts.length, bytesPerMsg: (h1 - h0) / texts.length, from, to });
  }
  await new Promise((r) => setTimeout(r, 20));
  const clean = samples.filter((s) => !gcTimes.some((t) => t >= s.from && t <= s.to));
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return {
    nsPerMsg: median(samples.map((s) => s.nsPerMsg)),
    // Only runs without a collection measure allocation (heap growth = bytes allocated).
    bytesPerMsg: clean.length ? median(clean.map((s) => s.bytesPerMsg)) : NaN,
    runsWithoutGc: clean.length,
    runs: samples.length,
  };
}

// Same output on both paths (checked, not assumed).
const a = leanRun();
const b = naiveRun();
// The lean path also publishes the (empty) starting snapshot.
if (a.frames !== b.frames + 1) throw new Error(`paths disagree: ${a.frames} vs ${b.frames} frames`);

// Parse only: scanner vs JSON.parse.
function parseOnly(fn: (t: string) => void) {
  return () => {
    for (let i = 0; i < texts.length; i++) fn(texts[i]);
    return { frames: 0, bytes: 0 };
  };
}
const scan = new BinanceScan();
const result = {
  messages: texts.length,
  parse: { scanner: await measure(parseOnly((t) => scanBinance(t, scan))), jsonParse: await measure(parseOnly((t) => JSON.parse(t))) },
  pipeline: { lean: await measure(leanRun), naive: await measure(naiveRun) },
};
console.log(JSON.stringify(result));
