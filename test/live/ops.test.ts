/**
 * @module test/live/ops
 * The live app's operator artefacts, checked by the real tools: promtool validates and
 * unit-tests ops/prometheus/live-alerts.yml, every query of ops/grafana/live.json is valid
 * PromQL, every metric they name is one the live app exports, and every runbook link points
 * at a heading of docs/live.md.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLive, type LiveTestServer } from './harness.js';

const promtool = (...args: string[]) => execFileSync('promtool', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const dashboard = JSON.parse(readFileSync('ops/grafana/live.json', 'utf8')) as { panels: { title: string; targets?: { expr: string }[] }[] };
const dashboardExprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));
const alertsText = readFileSync('ops/prometheus/live-alerts.yml', 'utf8');
const alertExprs = [...alertsText.matchAll(/^\s+expr: (.+)$/gm)].map((m) => m[1]!);

function metricNames(expr: string): string[] {
  const names = new Set<string>();
  for (const m of expr.matchAll(/\b([a-z_][a-z0-9_]*)\s*(?=\{|\[)/g)) names.add(m[1]!);
  for (const m of expr.matchAll(/(?<!\b(?:by|without)\s*)\(\s*([a-z_][a-z0-9_]*)\s*\)/g)) names.add(m[1]!);
  return [...names].filter((n) => n.startsWith('live_')).map((n) => n.replace(/_(bucket|count|sum)$/, ''));
}

let live: LiveTestServer;
before(async () => {
  live = await startLive();
});
after(() => live.server.close());

test('live alert rules pass promtool check and their unit tests, and prometheus.yml loads them', () => {
  assert.match(promtool('check', 'rules', 'ops/prometheus/live-alerts.yml'), /SUCCESS: 7 rules found/);
  assert.match(promtool('test', 'rules', 'ops/prometheus/live-alerts.test.yml'), /SUCCESS/);
  assert.match(readFileSync('ops/prometheus/prometheus.yml', 'utf8'), /- live-alerts\.yml/);
});

test('every runbook link of the live alerts is a heading of docs/live.md', () => {
  const headings = new Set([...readFileSync('docs/live.md', 'utf8').matchAll(/^#+ (.+)$/gm)].map((m) => m[1]!.toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-')));
  const anchors = [...alertsText.matchAll(/runbook: docs\/live\.md#(\S+)/g)].map((m) => m[1]!);
  assert.equal(anchors.length, 7);
  assert.deepEqual(anchors.filter((a) => !headings.has(a)), []);
});

test('every live dashboard query is valid PromQL', () => {
  const dir = mkdtempSync(join(tmpdir(), 'airwaves-live-dash-'));
  try {
    const rules = dashboardExprs.map((q, i) => `      - record: dashboard:q${i}\n        expr: ${JSON.stringify(q.expr.replaceAll('$instance', '.*'))}`).join('\n');
    writeFileSync(join(dir, 'dash.yml'), `groups:\n  - name: dashboard\n    rules:\n${rules}\n`);
    assert.match(promtool('check', 'rules', join(dir, 'dash.yml')), new RegExp(`SUCCESS: ${dashboardExprs.length} rules found`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('every metric the live alerts and dashboard name is exported by the live app', async () => {
  const text = await (await fetch(`${live.server.url}/metrics`)).text();
  const exported = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
  const missing = [...alertExprs, ...dashboardExprs.map((q) => q.expr)].flatMap(metricNames).filter((n) => !exported.has(n));
  assert.deepEqual([...new Set(missing)], []);
});
