/**
 * @module test/ops/ops
 * The operator artefacts under ops/ are checked by the real tools and against a real server:
 * promtool validates and unit-tests the alert rules and validates every dashboard query, and every
 * metric they name must be one the server actually exports (a renamed metric breaks this test,
 * not a production dashboard).
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../helpers/server.js';
import { alertExpressions, checkPromQL, dashboardQueries, exportedMetrics, metricNames, promtool, runbookLinks } from '../helpers/ops-artefacts.js';
import { apps } from '../../src/apps/index.js';

const dashboardExprs = dashboardQueries('ops/grafana/airwaves.json');
const alertExprs = alertExpressions('ops/prometheus/alerts.yml');

describe('ops/prometheus', () => {
  test('alert rules pass promtool check rules', () => {
    assert.match(promtool('check', 'rules', 'ops/prometheus/alerts.yml'), /SUCCESS: \d+ rules found/);
  });

  test('alert rules pass their promtool unit tests', () => {
    assert.match(promtool('test', 'rules', 'ops/prometheus/alerts.test.yml'), /SUCCESS/);
  });

  test('every runbook link in the alerts points at a heading in docs/operations.md', () => {
    const { anchors, headings } = runbookLinks('ops/prometheus/alerts.yml', 'docs/operations.md');
    assert.ok(anchors.length >= 5);
    assert.deepEqual(anchors.filter((a) => !headings.has(a)), []);
  });

  test('the scrape configuration passes promtool check config', () => {
    assert.match(promtool('check', 'config', 'ops/prometheus/prometheus.yml'), /valid prometheus config/);
  });
});

describe('ops/grafana dashboard', () => {
  test('every panel query is valid PromQL (checked by promtool as recording rules)', () => {
    assert.ok(dashboardExprs.length >= 20, `${dashboardExprs.length} queries`);
    assert.match(checkPromQL(dashboardExprs), new RegExp(`SUCCESS: ${dashboardExprs.length} rules found`));
  });
});

describe('every metric named by alerts and dashboards is exported by the server', () => {
  let exported: Set<string>;
  let server: Awaited<ReturnType<typeof startServer>>;
  before(async () => {
    server = await startServer({ databaseUrl: 'pglite://memory' }, { apps });
    exported = await exportedMetrics(server.url);
  });
  after(() => server.close());

  test('alert rules', () => {
    const missing = alertExprs.flatMap(metricNames).filter((n) => !exported.has(n));
    assert.deepEqual([...new Set(missing)], []);
  });

  test('dashboard panels', () => {
    const missing = dashboardExprs.flatMap((q) => metricNames(q.expr).filter((n) => !exported.has(n)).map((n) => `${q.panel}: ${n}`));
    assert.deepEqual(missing, []);
  });
});
