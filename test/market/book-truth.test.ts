/**
 * Book correctness against simulator truth: the Binance sync state machine, fed the simulator's
 * exact wire messages through the hot-path scanner with injected gaps, duplicates, reordering and
 * stale snapshots, holds a book identical to the true book at every checkpoint where it is live,
 * never crossed, and recovers from every gap within one snapshot round trip (one more per stale
 * snapshot, which nothing can bridge). A gap while an earlier snapshot request is still in flight
 * asks again at once and takes whichever answer bridges first. MARKET_TRUTH_DIFFS sets the count (200,000 here; `npm run bench -- market`
 * runs 1,000,000).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkBinanceAgainstTruth } from '../../src/apps/market/simulator/truth-check.js';
import { TruthBook } from '../../src/apps/market/simulator/truth.js';
import { BinanceBookSync } from '../../src/apps/market/venues/binance/sync.js';
import { noCounters, type MarketSink } from '../../src/apps/market/venues/sink.js';
import { DEFAULT_SYMBOLS } from '../../src/apps/market/types.js';

const DIFFS = Number(process.env.MARKET_TRUTH_DIFFS ?? 200_000);
const ROUND_TRIP = 3;

test(`Binance sync equals simulator truth at every live checkpoint over ${DIFFS} diffs with gaps, duplicates, reordering and stale snapshots`, () => {
  const r = checkBinanceAgainstTruth({ diffs: DIFFS, roundTrip: ROUND_TRIP });
  assert.deepEqual(r.mismatches, []);
  assert.equal(r.crossed, 0, 'a crossed book was published');
  assert.equal(r.scanFailures, 0);
  assert.ok(r.gaps > 0 && r.duplicates > 0 && r.resyncs > r.gaps, `faults were exercised (stale snapshots too): ${JSON.stringify(r)}`);
  assert.ok(r.compared / r.checkpoints > 0.9, `compared ${r.compared} of ${r.checkpoints} checkpoints`);
  // Within one snapshot round trip when the snapshot is current; each stale answer (it predates
  // the diffs after the gap: nothing can bridge it) costs exactly one more.
  assert.ok(r.recoveriesByStaleAnswers[0] > 0 && r.recoveriesByStaleAnswers.length > 1, `both kinds of recovery happened: ${JSON.stringify(r.recoveriesByStaleAnswers)}`);
  assert.ok(r.slowestFreshRecoveryDiffs <= ROUND_TRIP, `slowest recovery with a current snapshot took ${r.slowestFreshRecoveryDiffs} diffs`);
  const mostStale = r.recoveriesByStaleAnswers.length - 1;
  assert.ok(r.slowestRecoveryDiffs <= (mostStale + 1) * ROUND_TRIP, `slowest recovery took ${r.slowestRecoveryDiffs} diffs with at most ${mostStale} stale answers`);
  console.log(`# ${JSON.stringify(r)}`);
});

test('a gap with a snapshot request still in flight: a new request goes out at once, a stale early answer is not waited on twice, a bridging one is applied', () => {
  const truth = new TruthBook(DEFAULT_SYMBOLS[0], 5);
  const requests: number[] = [];
  const resyncs: string[] = [];
  const sink: MarketSink = { book() {}, trade() {}, bbo() {}, status() {} };
  const sync = new BinanceBookSync('BTC-USDT', sink, { ...noCounters, resync: (_v: string, reason: string) => resyncs.push(reason) }, (_s, id) => requests.push(id));
  const conv = (l: number[]) => l.flatMap((v, k) => (k % 2 === 0 ? [Number(truth.price(v))] : [Number(truth.qty(v))]));
  const snap = () => ({ id: truth.updateId, bids: conv(truth.book.bids.top(10_000)), asks: conv(truth.book.asks.top(10_000)) });
  const diff = () => {
    const c = truth.step(0);
    return () => sync.onDiff(c.firstId, c.lastId, conv(c.bids), conv(c.asks), 0, 0);
  };

  sync.start();
  diff()();
  assert.deepEqual(requests, [1]);
  const first = snap();
  sync.onSnapshot(first.id, first.bids, first.asks, 1);
  assert.equal(sync.live, true);

  // A gap: the dropped diff is never delivered. Request 2 goes out at once.
  diff();
  const beforeGap = snap(); // what an answer to a request made now would hold
  diff()();
  assert.equal(sync.live, false);
  assert.deepEqual(requests, [1, 2]);
  // Another gap right after recovery, while request 3 (made at the second gap) is in flight:
  sync.onSnapshot(snap().id, snap().bids, snap().asks, 2);
  assert.equal(sync.live, true);
  diff();
  diff()();
  assert.deepEqual(requests, [1, 2, 3], 'asked again at once');
  // An answer to the older request 2 that predates the buffer (taken before the first gap) is
  // skipped without asking a fourth time, because request 3 is still in flight.
  sync.onSnapshot(beforeGap.id, beforeGap.bids, beforeGap.asks, 2);
  assert.equal(sync.live, false);
  assert.deepEqual(requests, [1, 2, 3], 'no extra request for an old answer');
  assert.deepEqual(resyncs, ['gap', 'gap'], 'and no stale-snapshot resync counted for it');
  // An answer to the older request that does bridge is applied at once; request 3's, arriving
  // later, changes nothing.
  const now = snap();
  diff()();
  sync.onSnapshot(now.id, now.bids, now.asks, 2);
  assert.equal(sync.live, true, 'the current answer bridges to the diff buffered after it');
  assert.deepEqual(sync.book.depth(10_000), truth.depth(), 'the true book');
  sync.onSnapshot(beforeGap.id, beforeGap.bids, beforeGap.asks, 3);
  assert.deepEqual(sync.book.depth(10_000), truth.depth(), 'a late answer is ignored');
  // The latest request answering stale does ask again (nothing else is in flight).
  diff();
  diff()();
  const old = { ...now };
  sync.onSnapshot(old.id, old.bids, old.asks, 4);
  assert.deepEqual(requests, [1, 2, 3, 4, 5]);
  assert.deepEqual(resyncs, ['gap', 'gap', 'gap', 'stale_snapshot']);
});
