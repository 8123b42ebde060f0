/**
 * Book correctness against simulator truth: the Binance sync state machine, fed the simulator's
 * exact wire messages through the hot-path scanner with injected gaps, duplicates, reordering and
 * stale snapshots, holds a book identical to the true book at every checkpoint where it is live,
 * never crossed, and recovers from every gap within one snapshot round trip (two when the first
 * snapshot was stale). MARKET_TRUTH_DIFFS sets the count (200,000 here; `npm run bench -- market`
 * runs 1,000,000).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkBinanceAgainstTruth } from '../../src/apps/market/simulator/truth-check.js';

const DIFFS = Number(process.env.MARKET_TRUTH_DIFFS ?? 200_000);
const ROUND_TRIP = 3;

test(`Binance sync equals simulator truth at every live checkpoint over ${DIFFS} diffs with gaps, duplicates, reordering and stale snapshots`, () => {
  const r = checkBinanceAgainstTruth({ diffs: DIFFS, roundTrip: ROUND_TRIP });
  assert.deepEqual(r.mismatches, []);
  assert.equal(r.crossed, 0, 'a crossed book was published');
  assert.equal(r.scanFailures, 0);
  assert.ok(r.gaps > 0 && r.duplicates > 0 && r.resyncs > r.gaps, `faults were exercised (stale snapshots too): ${JSON.stringify(r)}`);
  assert.ok(r.compared / r.checkpoints > 0.9, `compared ${r.compared} of ${r.checkpoints} checkpoints`);
  // One round trip, plus one per stale answer in a row, plus the held diff of a reorder.
  assert.ok(r.slowestRecoveryDiffs <= 4 * ROUND_TRIP + 4, `slowest recovery took ${r.slowestRecoveryDiffs} diffs`);
  console.log(`# ${JSON.stringify(r)}`);
});
