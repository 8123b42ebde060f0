/**
 * The market's operator artefacts, checked by the real tools (test/helpers/ops-artefacts, as
 * every ops test): promtool validates and unit-tests ops/prometheus/market-alerts.yml, every
 * Grafana panel query in ops/grafana/market.json is valid PromQL, every metric they name is
 * exported by a server running the market app, and every runbook link names a heading of docs/market.md.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { alertExpressions, checkPromQL, dashboardQueries, exportedMetrics, metricNames, promtool, runbookLinks } from '../helpers/ops-artefacts.js';
import { closeMarkets, startMarket, waitUntil } from './harness.js';

const alertExprs = alertExpressions('ops/prometheus/market-alerts.yml');
const dashboardExprs = dashboardQueries('ops/grafana/market.json');

let market: Awaited<ReturnType<typeof startMarket>>;
before(async () => {
  market = await startMarket({ marketSimRate: 50 });
});
after(closeMarkets);

test('market alert rules pass promtool check and their unit tests, and prometheus.yml loads them', () => {
  assert.match(promtool('check', 'rules', 'ops/prometheus/market-alerts.yml'), /SUCCESS: 5 rules found/);
  assert.match(promtool('test', 'rules', 'ops/prometheus/market-alerts.test.yml'), /SUCCESS/);
  assert.match(readFileSync('ops/prometheus/prometheus.yml', 'utf8'), /^\s+- market-alerts\.yml$/m);
});

test('every runbook link of the market alerts is a heading of docs/market.md', () => {
  const { anchors, headings } = runbookLinks('ops/prometheus/market-alerts.yml', 'docs/market.md');
  assert.equal(anchors.length, 5);
  assert.deepEqual(anchors.filter((a) => !headings.has(a)), []);
});

test('every market dashboard query is valid PromQL', () => {
  assert.match(checkPromQL(dashboardExprs), new RegExp(`SUCCESS: ${dashboardExprs.length} rules found`));
});

test('every metric named by the market alerts and dashboard is exported; venue → write latency is observed', async () => {
  const { server, app } = market;
  await waitUntil(() => (app.gateway.book('kraken', 'BTC-USDT')?.bids.size ?? 0) > 0, 60_000, 'books live');
  const exported = await exportedMetrics(server.url);
  const missing = [...alertExprs, ...dashboardExprs.map((q) => q.expr)].flatMap(metricNames).filter((n) => !exported.has(n));
  assert.deepEqual([...new Set(missing)], []);
  // Venue event → client write is observed for every venue, and is a sane duration (the
  // simulator's event time is our clock: never negative, far below a minute).
  const text = await (await fetch(`${server.url}/metrics`)).text();
  for (const venue of ['binance', 'coinbase', 'kraken']) {
    const count = Number(new RegExp(`^market_venue_to_write_seconds_count\\{venue="${venue}"\\} (\\S+)$`, 'm').exec(text)?.[1]);
    const sum = Number(new RegExp(`^market_venue_to_write_seconds_sum\\{venue="${venue}"\\} (\\S+)$`, 'm').exec(text)?.[1]);
    assert.ok(count > 0, `${venue}: venue → write observed`);
    assert.ok(sum >= 0 && sum / count < 60, `${venue}: mean venue → write ${sum / count} s`);
  }
});
