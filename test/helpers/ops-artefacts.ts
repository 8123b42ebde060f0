/**
 * @module test/helpers/ops-artefacts
 * What every test of an operator artefact under ops/ needs: promtool, the PromQL queries of a
 * Grafana dashboard and of an alert-rules file, the metric names a query mentions, a check that
 * queries are valid PromQL (promtool, as recording rules), the runbook anchors of alert rules
 * beside the headings of the page they point at, and the metric families a server exports.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const promtool = (...args: string[]): string => execFileSync('promtool', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

export interface PanelQuery {
  panel: string;
  expr: string;
}

/** Every target expression of a dashboard file, with its panel's title. */
export function dashboardQueries(file: string): PanelQuery[] {
  const dashboard = JSON.parse(readFileSync(file, 'utf8')) as { panels: { title: string; targets?: { expr: string }[] }[] };
  return dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));
}

/** Every `expr:` of an alert-rules file. */
export function alertExpressions(file: string): string[] {
  return [...readFileSync(file, 'utf8').matchAll(/^\s+expr: (.+)$/gm)].map((m) => m[1]!);
}

/** Metric names in a PromQL expression: selectors (`name{`/`name[`) and bare `(name)` arguments, not `by (label)`; histogram suffixes dropped. */
export function metricNames(expr: string): string[] {
  const names = new Set<string>();
  for (const m of expr.matchAll(/\b([a-z_][a-z0-9_]*)\s*(?=\{|\[)/g)) names.add(m[1]!);
  for (const m of expr.matchAll(/(?<!\b(?:by|without)\s*)\(\s*([a-z_][a-z0-9_]*)\s*\)/g)) names.add(m[1]!);
  return [...names].filter((n) => n !== 'up').map((n) => n.replace(/_(bucket|count|sum)$/, ''));
}

/** promtool's verdict on the queries as recording rules (`$instance` read as any instance). */
export function checkPromQL(queries: PanelQuery[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'airwaves-promql-'));
  try {
    const rules = queries.map((q, i) => `      - record: dashboard:q${i}\n        expr: ${JSON.stringify(q.expr.replaceAll('$instance', '.*'))}`).join('\n');
    writeFileSync(join(dir, 'dash.yml'), `groups:\n  - name: dashboard\n    rules:\n${rules}\n`);
    return promtool('check', 'rules', join(dir, 'dash.yml'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The runbook anchors an alert-rules file links into `page`, and the anchors that page's headings make. */
export function runbookLinks(rulesFile: string, page: string): { anchors: string[]; headings: Set<string> } {
  const headings = new Set([...readFileSync(page, 'utf8').matchAll(/^#+ (.+)$/gm)].map((m) => m[1]!.toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-')));
  const link = new RegExp(`runbook: ${page.replace(/[.]/g, '\\.')}#(\\S+)`, 'g');
  const anchors = [...readFileSync(rulesFile, 'utf8').matchAll(link)].map((m) => m[1]!);
  return { anchors, headings };
}

/** The metric families a running server exports on /metrics. */
export async function exportedMetrics(serverUrl: string): Promise<Set<string>> {
  const text = await (await fetch(`${serverUrl}/metrics`)).text();
  return new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
}
