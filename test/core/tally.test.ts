/**
 * Hot-path metrics kept in plain numbers (src/core/metrics.ts: tallyCounter, tallyGauge,
 * TallyHistogram; used by the hub and the market gateway) render exactly as prom-client's own
 * Counter, Gauge and Histogram given the same observations: same buckets, sums, counts and label
 * sets on /metrics, so dashboards and alerts cannot tell them apart.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRegistry, prom, tallyCounter, tallyGauge, TallyHistogram } from '../../src/core/metrics.js';

/** A registry's text with the metric names made equal, lines sorted (label order within a line kept). */
async function rendered(registry: prom.Registry, from: string, to: string): Promise<string[]> {
  return (await registry.metrics()).replaceAll(from, to).split('\n').filter(Boolean).sort();
}

test('TallyHistogram renders as prom-client Histogram for the same observations', async () => {
  const ours = createRegistry(false);
  const theirs = createRegistry(false);
  const buckets = [1e-5, 1e-4, 1e-3, 0.01];
  const hot = new TallyHistogram({ name: 'x_seconds', help: 'h', label: 'venue', buckets, registers: [ours] });
  const ref = new prom.Histogram({ name: 'y_seconds', help: 'h', labelNames: ['venue'], buckets, registers: [theirs] });
  const values = [0, 1e-5, 2e-5, 1e-4, 5e-4, 1e-3, 0.5, 3, 1e-6];
  for (const [i, v] of values.entries()) {
    const venue = i % 2 === 0 ? 'binance' : 'kraken';
    hot.of(venue).observe(v);
    ref.observe({ venue }, v);
  }
  assert.deepEqual(await rendered(ours, 'x_seconds', 'm'), await rendered(theirs, 'y_seconds', 'm'));
  assert.match((await ours.metrics()), /x_seconds_bucket\{le="0\.0001",venue="binance"\} 3\n/);
  // Later observations show on the next scrape, and a scrape does not double what it read.
  hot.of('kraken').observe(2e-5);
  ref.observe({ venue: 'kraken' }, 2e-5);
  await ours.metrics();
  assert.deepEqual(await rendered(ours, 'x_seconds', 'm'), await rendered(theirs, 'y_seconds', 'm'));
  assert.equal((await hot.metric.get()).type, 'histogram');
});

test('tallyCounter and tallyGauge render as prom-client Counter and Gauge, and counts survive repeated scrapes', async () => {
  const ours = createRegistry(false);
  const theirs = createRegistry(false);
  const hot = tallyCounter({ name: 'x_total', help: 'h', label: 'venue', registers: [ours] }).tally;
  const gauge = tallyGauge({ name: 'x_last', help: 'h', label: 'venue', registers: [ours] }).tally;
  const ref = new prom.Counter({ name: 'y_total', help: 'h', labelNames: ['venue'], registers: [theirs] });
  const refGauge = new prom.Gauge({ name: 'y_last', help: 'h', labelNames: ['venue'], registers: [theirs] });
  for (let i = 0; i < 7; i++) {
    const venue = i % 3 === 0 ? 'coinbase' : 'binance';
    hot.cell(venue).n++;
    ref.inc({ venue });
    gauge.cell(venue).n = i;
    refGauge.set({ venue }, i);
  }
  await ours.metrics(); // a scrape must not reset or double what the next one reads
  assert.deepEqual(await rendered(ours, 'x_', 'm_'), await rendered(theirs, 'y_', 'm_'));
  hot.cell('binance').n += 2;
  assert.match(await ours.metrics(), /x_total\{venue="binance"\} 6\n/);
});
