/**
 * @module apps/market/simulator/truth-check
 * Drives the Binance sync state machine with the simulator's exact wire messages (through the
 * hot-path scanner) for `diffs` updates with injected gaps, duplicates, reordering and stale
 * snapshots, comparing the book with the true book at every checkpoint where it is live. No
 * sockets: a snapshot request is answered `roundTrip` diffs later, like a REST round trip.
 * Used by test/market/book-truth.test.ts (asserts) and bench/market (the million-diff run).
 */
import { isDeepStrictEqual } from 'node:util';
import { TruthBook } from './truth.js';
import { FaultInjector, FaultyStream, type FaultPlanInput } from './faults.js';
import { binanceDepthUpdate } from './binance.js';
import { BinanceBookSync } from '../venues/binance/sync.js';
import { BinanceKind, BinanceScan, scanBinance } from '../venues/binance/parse.js';
import { noCounters, type MarketSink } from '../venues/sink.js';
import { DEFAULT_SYMBOLS } from '../types.js';

export interface TruthCheckOptions {
  diffs: number;
  checkEvery?: number;
  roundTrip?: number;
  faults?: FaultPlanInput;
  staleSnapshot?: number;
  seed?: number;
}

export interface TruthCheckResult {
  diffs: number;
  checkpoints: number;
  compared: number;
  mismatches: string[];
  crossed: number;
  snapshots: number;
  snapshotRequests: number;
  gaps: number;
  duplicates: number;
  resyncs: number;
  scanFailures: number;
  /** Longest run of diffs (after the first snapshot) during which the book was not live. */
  slowestRecoveryDiffs: number;
  /**
   * The same over recoveries that received no stale snapshot: the target "within one snapshot
   * round trip" (`roundTrip` diffs). A stale answer predates the diffs after the gap, so nothing
   * can bridge it: each costs one more round trip, counted in `recoveriesByStaleAnswers`.
   */
  slowestFreshRecoveryDiffs: number;
  /** Recoveries by how many stale snapshots they received: index 0 = none. */
  recoveriesByStaleAnswers: number[];
  staleAnswers: number;
  ms: number;
}

export function checkBinanceAgainstTruth(options: TruthCheckOptions): TruthCheckResult {
  const started = performance.now();
  const checkEvery = options.checkEvery ?? 500;
  const roundTrip = options.roundTrip ?? 3;
  const truth = new TruthBook(DEFAULT_SYMBOLS[0], options.seed ?? 7);
  const faults = new FaultInjector({ seed: 11, gap: 0.0005, duplicate: 0.001, reorder: 0.0005, ...options.faults });
  const staleFaults = new FaultInjector({ seed: 12, staleSnapshot: options.staleSnapshot ?? 0.3 });
  const r: TruthCheckResult = { diffs: options.diffs, checkpoints: 0, compared: 0, mismatches: [], crossed: 0, snapshots: 0, snapshotRequests: 0, gaps: 0, duplicates: 0, resyncs: 0, scanFailures: 0, slowestRecoveryDiffs: 0, slowestFreshRecoveryDiffs: 0, recoveriesByStaleAnswers: [], staleAnswers: 0, ms: 0 };
  const sink: MarketSink = {
    book(u) {
      if (u.snapshot) r.snapshots++;
      if (u.book.isCrossed()) r.crossed++;
    },
    trade() {},
    bbo() {},
    status() {},
  };
  const counters = { ...noCounters, gap: () => r.gaps++, duplicate: () => r.duplicates++, resync: () => r.resyncs++ };
  let step = 0;
  // Requests in flight (several when a gap follows a request still unanswered), each answered
  // `roundTrip` diffs after it was made.
  const inFlight: { at: number; id: number }[] = [];
  const sync = new BinanceBookSync('BTC-USDT', sink, counters, (_symbol, id) => {
    r.snapshotRequests++;
    inFlight.push({ at: step + roundTrip, id });
  });
  const scan = new BinanceScan();
  const inbox: string[] = [];
  const stream = new FaultyStream(faults, (text) => inbox.push(text));
  const copy = () => ({ id: truth.updateId, bids: truth.book.bids.top(10_000), asks: truth.book.asks.top(10_000) });
  let stale = copy();
  const real = (flat: number[]) => flat.map((v, i) => Number(i % 2 === 0 ? truth.price(v) : truth.qty(v)));
  let notLiveSince = -1;
  let staleInOutage = 0;
  sync.start();
  for (step = 0; step < options.diffs; step++) {
    stream.push(binanceDepthUpdate(truth, truth.step(1_700_000_000_000 + step)));
    for (let i = 0; i < inbox.length; i++) {
      if (!scanBinance(inbox[i], scan) || scan.kind !== BinanceKind.Depth) {
        r.scanFailures++;
        continue;
      }
      sync.onDiff(scan.firstId, scan.lastId, scan.bids, scan.asks, scan.eventTime, 0, scan.bidCount, scan.askCount);
    }
    inbox.length = 0;
    while (inFlight.length > 0 && inFlight[0].at <= step) {
      const { id } = inFlight.shift()!;
      const isStale = staleFaults.chance(staleFaults.plan.staleSnapshot);
      if (isStale && !sync.live) {
        r.staleAnswers++;
        staleInOutage++;
      }
      const snap = isStale ? stale : copy();
      sync.onSnapshot(snap.id, real(snap.bids), real(snap.asks), id);
    }
    if (step % 50 === 0) stale = copy();
    if (!sync.live) {
      if (notLiveSince < 0) notLiveSince = step;
    } else if (notLiveSince >= 0) {
      if (r.snapshots > 1) {
        const took = step - notLiveSince;
        r.slowestRecoveryDiffs = Math.max(r.slowestRecoveryDiffs, took);
        if (staleInOutage === 0) r.slowestFreshRecoveryDiffs = Math.max(r.slowestFreshRecoveryDiffs, took);
        r.recoveriesByStaleAnswers[staleInOutage] = (r.recoveriesByStaleAnswers[staleInOutage] ?? 0) + 1;
      }
      notLiveSince = -1;
      staleInOutage = 0;
    }
    if (step % checkEvery === 0) {
      r.checkpoints++;
      if (sync.live && sync.book.venueSeq === truth.updateId) {
        r.compared++;
        if (!isDeepStrictEqual(sync.book.depth(10_000), truth.depth()) && r.mismatches.length < 5) r.mismatches.push(`update ${truth.updateId} (diff ${step})`);
      }
    }
  }
  r.ms = performance.now() - started;
  return r;
}
