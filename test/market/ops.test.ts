/**
 * The market's operator artefacts: promtool validates and unit-tests ops/prometheus/market-alerts.yml,
 * every Grafana panel query in ops/grafana/market.json is valid PromQL, every metric they name is
 * exported by a server running the market app, and every runbook link names a heading of docs/market.md.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMarket, waitUntil } from './harness.js';

const promtool = (...args: string[]) => execFileSync('promtool', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const alertsText = readFileSync('ops/prometheus/market-alerts.yml', 'utf8');
const alertExprs = [...alertsText.matchAll(/^\s+expr: (.+)$/gm)].map((m) => m[1]);
const dashboard = JSON.parse(readFileSync('ops/grafana/market.json', 'utf8')) as { panels: { targets: { expr: string }[] }[] };
const dashboardExprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));

function metricNames(expr: string): string[] {
  const names = new Set<string>();
  for (const m of expr.matchAll(/\b([a-z_][a-z0-9_]*)\s*(?=\{|\[)/g)) names.add(m[1]);
  return [...names].map((n) => n.replace(/_(bucket|count|sum)$/, ''));
}

test('market alert rules pass promtool check and their unit tests, and prometheus.yml loads them', () => {
  assert.match(promtool('check', 'rules', 'ops/prometheus/market-alerts.yml'), /SUCCESS: 5 rules found/);
  assert.match(promtool('test', 'rules', 'ops/prometheus/market-alerts.test.yml'), /SUCCESS/);
  assert.match(readFileSync('ops/prometheus/prometheus.yml', 'utf8'), /^\s+- market-alerts\.yml$/m);
});

test('every market dashboard query is valid PromQL', () => {
  const dir = mkdtempSync(join(tmpdir(), 'market-dash-'));
  try {
    const rules = dashboardExprs.map((e, i) => `      - record: dashboard:q${i}\n        expr: ${JSON.stringify(e.replaceAll('$instance', '.*'))}`).join('\n');
    writeFileSync(join(dir, 'dash.yml'), `groups:\n  - name: dashboard\n    rules:\n${rules}\n`);
    assert.match(promtool('check', 'rules', join(dir, 'dash.yml')), new RegExp(`SUCCESS: ${dashboardExprs.length} rules found`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('every metric named by the market alerts and dashboard is exported; runbooks point at docs/market.md headings', async () => {
  const { server, app } = await startMarket({ marketSimRate: 50 });
  try {
    await waitUntil(() => (app.gateway.book('kraken', 'BTC-USDT')?.bids.size ?? 0) > 0, 10_000, 'books live');
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const exported = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
    const missing = [...alertExprs, ...dashboardExprs].flatMap(metricNames).filter((n) => !exported.has(n));
    assert.deepEqual([...new Set(missing)], []);
    // Venue event → client write is observed for every venue, and is a sane duration (the
    // simulator's event time is our clock: never negative, far below a minute).
    for (const venue of ['binance', 'coinbase', 'kraken']) {
      const count = Number(new RegExp(`^market_venue_to_write_seconds_count\\{venue="${venue}"\\} (\\S+)$`, 'm').exec(text)?.[1]);
      const sum = Number(new RegExp(`^market_venue_to_write_seconds_sum\\{venue="${venue}"\\} (\\S+)$`, 'm').exec(text)?.[1]);
      assert.ok(count > 0, `${venue}: venue → write observed`);
      assert.ok(sum >= 0 && sum / count < 60, `${venue}: mean venue → write ${sum / count} s`);
    }
  } finally {
    await server.close();
  }
  const headings = new Set([...readFileSync('docs/market.md', 'utf8').matchAll(/^#+ (.+)$/gm)].map((m) => m[1].toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-')));
  const anchors = [...alertsText.matchAll(/runbook: docs\/market\.md#(\S+)/g)].map((m) => m[1]);
  assert.equal(anchors.length, 5);
  assert.deepEqual(anchors.filter((a) => !headings.has(a)), []);
});
