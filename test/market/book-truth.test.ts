/**
 * Book correctness against simulator truth: the Binance sync state machine, fed the simulator's
 * exact wire messages through the hot-path scanner with injected gaps, duplicates, reordering and
 * stale snapshots, holds a book identical to the true book at every checkpoint where it is live,
 * never crossed, and recovers from every gap within one snapshot round trip.
 * MARKET_TRUTH_DIFFS (default 200,000 here; `npm run bench -- market` runs 1,000,000) sets the count.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TruthBook } from '../../src/apps/market/simulator/truth.js';
import { FaultInjector, FaultyStream } from '../../src/apps/market/simulator/faults.js';
import { binanceDepthUpdate } from '../../src/apps/market/simulator/binance.js';
import { BinanceBookSync } from '../../src/apps/market/venues/binance/sync.js';
import { BinanceKind, BinanceScan, scanBinance } from '../../src/apps/market/venues/binance/parse.js';
import type { MarketSink } from '../../src/apps/market/venues/sink.js';
import { noCounters } from '../../src/apps/market/venues/sink.js';
import { DEFAULT_SYMBOLS } from '../../src/apps/market/types.js';

const DIFFS = Number(process.env.MARKET_TRUTH_DIFFS ?? 200_000);
const CHECK_EVERY = 500;
/** A snapshot request is answered after this many further diffs (the REST round trip). */
const ROUND_TRIP = 3;

test(`Binance sync equals simulator truth at every live checkpoint over ${DIFFS} diffs with gaps, duplicates, reordering and stale snapshots`, () => {
  const truth = new TruthBook(DEFAULT_SYMBOLS[0], 7);
  const faults = new FaultInjector({ seed: 11, gap: 0.0005, duplicate: 0.001, reorder: 0.0005 });
  const staleFaults = new FaultInjector({ seed: 12, staleSnapshot: 0.3 });
  let crossed = 0;
  let applied = 0;
  let snapshots = 0;
  const sink: MarketSink = {
    book(u) {
      applied++;
      if (u.snapshot) snapshots++;
      if (u.book.isCrossed()) crossed++;
    },
    trade() {},
    bbo() {},
    status() {},
  };
  const counts = { gaps: 0, duplicates: 0, resyncs: 0 };
  const counters = { ...noCounters, gap: () => counts.gaps++, duplicate: () => counts.duplicates++, resync: () => counts.resyncs++ };
  let pendingSnapshotAt = -1;
  let requests = 0;
  const sync = new BinanceBookSync('BTC-USDT', sink, counters, () => {
    requests++;
    pendingSnapshotAt = step + ROUND_TRIP;
  });
  const scan = new BinanceScan();
  const inbox: string[] = [];
  const stream = new FaultyStream(faults, (text) => inbox.push(text));
  // Stale copies of the truth, to serve as "stale snapshots".
  let stale = { id: truth.updateId, bids: truth.book.bids.top(1000).slice(), asks: truth.book.asks.top(1000).slice() };
  const real = (flat: number[]) => flat.map((v, i) => Number(i % 2 === 0 ? truth.price(v) : truth.qty(v)));

  let step = 0;
  let checkpoints = 0;
  let compared = 0;
  let maxRecoverySteps = 0;
  let notLiveSince = -1;
  sync.start();
  for (step = 0; step < DIFFS; step++) {
    const change = truth.step(1_700_000_000_000 + step);
    stream.push(binanceDepthUpdate(truth, change));
    for (const text of inbox.splice(0)) {
      assert.ok(scanBinance(text, scan));
      assert.equal(scan.kind, BinanceKind.Depth);
      sync.onDiff(scan.firstId, scan.lastId, scan.bids, scan.asks, scan.eventTime, 0);
    }
    if (step === pendingSnapshotAt) {
      pendingSnapshotAt = -1;
      const useStale = staleFaults.chance(staleFaults.plan.staleSnapshot);
      const snap = useStale ? stale : { id: truth.updateId, bids: truth.book.bids.top(1000), asks: truth.book.asks.top(1000) };
      sync.onSnapshot(snap.id, real(snap.bids), real(snap.asks));
    }
    if (step % 50 === 0) stale = { id: truth.updateId, bids: truth.book.bids.top(1000).slice(), asks: truth.book.asks.top(1000).slice() };
    if (!sync.live) {
      if (notLiveSince < 0) notLiveSince = step;
    } else if (notLiveSince >= 0) {
      maxRecoverySteps = Math.max(maxRecoverySteps, step - notLiveSince);
      notLiveSince = -1;
    }
    if (step % CHECK_EVERY === 0) {
      checkpoints++;
      if (sync.live && sync.book.venueSeq === truth.updateId) {
        compared++;
        const want = truth.depth();
        const got = sync.book.depth(10_000);
        assert.deepEqual(got, want, `book differs from truth at update ${truth.updateId} (step ${step})`);
      }
    }
  }
  assert.equal(crossed, 0, 'a crossed book was published');
  assert.ok(counts.gaps > 0 && counts.duplicates > 0 && counts.resyncs > 0, `faults were exercised: ${JSON.stringify(counts)}`);
  assert.ok(compared / checkpoints > 0.9, `compared ${compared} of ${checkpoints} checkpoints`);
  // One round trip, or two when the first answer was a stale snapshot (and a held diff may add one).
  assert.ok(maxRecoverySteps <= 4 * ROUND_TRIP + 4, `slowest recovery took ${maxRecoverySteps} diffs`);
  console.log(`# ${DIFFS} diffs: ${checkpoints} checkpoints, ${compared} compared and identical, ${applied} updates applied, ${snapshots} snapshots, ${requests} snapshot requests, ${JSON.stringify(counts)}, slowest recovery ${maxRecoverySteps} diffs`);
});
