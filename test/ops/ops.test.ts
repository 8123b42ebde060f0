/**
 * @module test/ops/ops
 * The operator artefacts under ops/ are checked by the real tools and against a real server:
 * promtool validates and unit-tests the alert rules and validates every dashboard query, and every
 * metric they name must be one the server actually exports (a renamed metric breaks this test,
 * not a production dashboard).
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../helpers/server.js';
import { apps } from '../../src/apps/index.js';

const promtool = (...args: string[]) => execFileSync('promtool', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

interface Dashboard {
  panels: { title: string; type: string; targets?: { expr: string }[] }[];
}
const dashboard = JSON.parse(readFileSync('ops/grafana/airwaves.json', 'utf8')) as Dashboard;
const dashboardExprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));
const alertExprs = [...readFileSync('ops/prometheus/alerts.yml', 'utf8').matchAll(/^\s+expr: (.+)$/gm)].map((m) => m[1]);

/** Metric names in a PromQL expression: selectors (`name{`/`name[`) and bare `(name)` arguments, not `by (label)`. */
function metricNames(expr: string): string[] {
  const names = new Set<string>();
  for (const m of expr.matchAll(/\b([a-z_][a-z0-9_]*)\s*(?=\{|\[)/g)) names.add(m[1]);
  for (const m of expr.matchAll(/(?<!\b(?:by|without)\s*)\(\s*([a-z_][a-z0-9_]*)\s*\)/g)) names.add(m[1]);
  return [...names].filter((n) => n !== 'up').map((n) => n.replace(/_(bucket|count|sum)$/, ''));
}

describe('ops/prometheus', () => {
  test('alert rules pass promtool check rules', () => {
    assert.match(promtool('check', 'rules', 'ops/prometheus/alerts.yml'), /SUCCESS: \d+ rules found/);
  });

  test('alert rules pass their promtool unit tests', () => {
    assert.match(promtool('test', 'rules', 'ops/prometheus/alerts.test.yml'), /SUCCESS/);
  });

  test('every runbook link in the alerts points at a heading in docs/operations.md', () => {
    const headings = new Set([...readFileSync('docs/operations.md', 'utf8').matchAll(/^#+ (.+)$/gm)].map((m) => m[1].toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-')));
    const anchors = [...readFileSync('ops/prometheus/alerts.yml', 'utf8').matchAll(/runbook: docs\/operations\.md#(\S+)/g)].map((m) => m[1]);
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
    const dir = mkdtempSync(join(tmpdir(), 'airwaves-dash-'));
    try {
      const rules = dashboardExprs.map((q, i) => `      - record: dashboard:q${i}\n        expr: ${JSON.stringify(q.expr.replaceAll('$instance', '.*'))}`).join('\n');
      writeFileSync(join(dir, 'dash.yml'), `groups:\n  - name: dashboard\n    rules:\n${rules}\n`);
      assert.match(promtool('check', 'rules', join(dir, 'dash.yml')), new RegExp(`SUCCESS: ${dashboardExprs.length} rules found`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('every metric named by alerts and dashboards is exported by the server', () => {
  let exported: Set<string>;
  let server: Awaited<ReturnType<typeof startServer>>;
  before(async () => {
    server = await startServer({ databaseUrl: 'pglite://memory' }, { apps });
    const text = await (await fetch(`${server.url}/metrics`)).text();
    exported = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
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
