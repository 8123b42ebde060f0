/**
 * @module test/live/ops
 * The live app's operator artefacts, checked by the real tools: promtool validates and
 * unit-tests ops/prometheus/live-alerts.yml, every query of ops/grafana/live.json is valid
 * PromQL, every metric they name is one the live app exports, and every runbook link points
 * at a heading of docs/live.md.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { alertExpressions, checkPromQL, dashboardQueries, exportedMetrics, metricNames, promtool, runbookLinks } from '../helpers/ops-artefacts.js';
import { startLive, type LiveTestServer } from './harness.js';

const dashboardExprs = dashboardQueries('ops/grafana/live.json');
const alertExprs = alertExpressions('ops/prometheus/live-alerts.yml');
const liveMetricNames = (expr: string) => metricNames(expr).filter((n) => n.startsWith('live_'));

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
  const { anchors, headings } = runbookLinks('ops/prometheus/live-alerts.yml', 'docs/live.md');
  assert.equal(anchors.length, 7);
  assert.deepEqual(anchors.filter((a) => !headings.has(a)), []);
});

test('every live dashboard query is valid PromQL', () => {
  assert.match(checkPromQL(dashboardExprs), new RegExp(`SUCCESS: ${dashboardExprs.length} rules found`));
});

test('every metric the live alerts and dashboard name is exported by the live app', async () => {
  const exported = await exportedMetrics(live.server.url);
  const missing = [...alertExprs, ...dashboardExprs.map((q) => q.expr)].flatMap(liveMetricNames).filter((n) => !exported.has(n));
  assert.deepEqual([...new Set(missing)], []);
});
