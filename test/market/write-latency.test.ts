/**
 * The venue → write latency (pipeline/write-latency.ts): one observation per venue per event-loop
 * turn, of the oldest event time published in that turn, taken after the hub's flush pass; a
 * venue that published nothing in a turn is not observed, and no turn's oldest time leaks into
 * the next (its per-venue slots are emptied, not a Map cleared: docs/market.md, "Garbage collection").
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WriteLatency } from '../../src/apps/market/pipeline/write-latency.js';
import { nowMs, VENUES, type VenueName } from '../../src/apps/market/types.js';

/** Each venue's slot, as the dispatcher passes it. */
const at = Object.fromEntries(VENUES.map((v, i) => [v, i])) as Record<VenueName, number>;
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

test('one observation per venue per turn, of its oldest event time', async () => {
  const seen: { venue: VenueName; seconds: number }[] = [];
  const latency = new WriteLatency((venue, seconds) => seen.push({ venue, seconds }));
  const now = nowMs();
  latency.published(at.binance, now - 500);
  latency.published(at.binance, now - 2000); // the oldest of the turn
  latency.published(at.binance, now - 1000);
  latency.published(at.kraken, now - 300);
  latency.published(at.kraken, 0); // no usable time: ignored
  await turn();
  assert.deepEqual(seen.map((s) => s.venue), ['binance', 'kraken']);
  assert.ok(seen[0].seconds >= 2 && seen[0].seconds < 3, `binance: ${seen[0].seconds} s`);
  assert.ok(seen[1].seconds >= 0.3 && seen[1].seconds < 1.3, `kraken: ${seen[1].seconds} s`);

  // The next turn starts empty: only what it published is observed, not the last turn's oldest.
  seen.length = 0;
  latency.published(at.coinbase, nowMs() - 100);
  latency.published(at.binance, nowMs() - 50);
  await turn();
  assert.deepEqual(seen.map((s) => s.venue).sort(), ['binance', 'coinbase']);
  assert.ok(seen.every((s) => s.seconds < 1), JSON.stringify(seen));

  seen.length = 0;
  await turn();
  assert.equal(seen.length, 0, 'a turn with no publication observes nothing');
});
