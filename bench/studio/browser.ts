/**
 * @module bench/studio/browser
 * What a curator feels, measured in a real Chromium: cold page loads (LCP, CLS, time to the
 * first rows), the time from a filter change or a column-header click to the moment the table
 * shows the new first row (DOM mutation, then the next frame), and the gzipped size of the
 * JavaScript the first screen loads. Every interaction lands on a query key not yet cached, so
 * each timing includes the network round trip and the database.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, repoRoot } from '../../test/studio/ui-helpers.js';
import { BENCH_AUTH_HEADER, browserToken } from './auth.js';

const API = '/api/v1/studio';
const TABLE_ROW = '[data-testid=conversation-table] .tr[data-id]';

export interface PageLoad {
  /** navigationStart → largest contentful paint */
  lcpMs: number | null;
  /** layout shifts during the load (not caused by input), summed */
  cls: number;
  /** navigationStart → first conversation rows in the DOM */
  rowsMs: number;
  /** What the page fetched until then (resource timing, ms from navigationStart): where the load's time went. */
  timeline: { name: string; startMs: number; endMs: number }[];
}

export interface BrowserResult {
  rows: number;
  loads: PageLoad[];
  filterMs: number[];
  sortMs: number[];
  /** Layout shifts over the whole session (loads excluded), not caused by input. */
  sessionCls: number;
  initialJs: { files: { file: string; bytes: number; gzip: number }[]; bytes: number; gzip: number };
}

/** Installed before any page script: collects LCP and layout shifts as the browser reports them. */
const OBSERVERS = `
  window.__lcp = null; window.__cls = 0;
  try {
    new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__lcp = e.renderTime || e.startTime; }).observe({ type: 'largest-contentful-paint', buffered: true });
    new PerformanceObserver((l) => { for (const e of l.getEntries()) if (!e.hadRecentInput) window.__cls += e.value; }).observe({ type: 'layout-shift', buffered: true });
  } catch {}
`;

async function firstId(baseUrl: string, query: string): Promise<string> {
  const res = await fetch(`${baseUrl}${API}/conversations?${query}&limit=1&fields=id`, { headers: BENCH_AUTH_HEADER });
  const body = (await res.json()) as { items: { id: string }[] };
  if (!body.items[0]) throw new Error(`no rows for ${query}`);
  return body.items[0].id;
}

/**
 * Runs `action` inside the page and resolves with the ms until the table's first row is
 * `expected` and a frame has been produced after it.
 */
/**
 * In-page timer, kept as source text: the bundler's name helpers must not leak into code that
 * runs in the browser. Resolves with the ms from the action to the first frame after the
 * table's first row became the expected one.
 */
const TIME_UNTIL_FIRST_ROW = `(args) => new Promise((resolve, reject) => {
  const table = document.querySelector('[data-testid=conversation-table]');
  if (!table) return reject(new Error('no table'));
  const firstRow = () => { const el = document.querySelector(args.rowSelector); return el ? el.getAttribute('data-id') : null; };
  let t0 = 0;
  const observer = new MutationObserver(() => {
    if (firstRow() !== args.expected) return;
    observer.disconnect();
    clearTimeout(timeout);
    requestAnimationFrame(() => resolve(performance.now() - t0));
  });
  const timeout = setTimeout(() => { observer.disconnect(); reject(new Error('first row never became ' + args.expected + ' (is ' + firstRow() + ')')); }, 15000);
  observer.observe(table, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-id'] });
  t0 = performance.now();
  if (args.select) {
    const select = document.querySelector(args.select[0]);
    select.value = args.select[1];
    select.dispatchEvent(new Event('change', { bubbles: true }));
  } else {
    document.querySelector(args.click).click();
  }
})`;

async function timeUntilFirstRow(page: Page, expected: string, action: { select?: [string, string]; click?: string }): Promise<number> {
  return (await page.evaluate(`(${TIME_UNTIL_FIRST_ROW})(${JSON.stringify({ expected, rowSelector: TABLE_ROW, ...action })})`)) as number;
}

/** The navigation and every resource fetched before the rows, as [start, end] from navigationStart. */
const TIMELINE = `[...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')]
  .map((e) => ({ name: e.name.replace(location.origin, ''), startMs: Math.round(e.startTime), endMs: Math.round(e.responseEnd) }))`;

/** The page starts signed in, as after /signin (the token is where web/shared/auth.ts reads it). */
const signedIn = (token: string) => `sessionStorage.setItem('airwaves.token', ${JSON.stringify(token)})`;

async function coldLoad(browser: Browser, baseUrl: string, token: string, jsUrls?: Set<string>): Promise<PageLoad> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  try {
    const page = await context.newPage();
    await page.addInitScript(OBSERVERS);
    await page.addInitScript(signedIn(token));
    if (jsUrls) page.on('request', (r) => r.resourceType() === 'script' && jsUrls.add(new URL(r.url()).pathname));
    await page.goto(`${baseUrl}/studio/`);
    await page.waitForSelector(TABLE_ROW);
    const rowsMs = (await page.evaluate('performance.now()')) as number;
    // LCP settles once the page is quiet; give it a moment after the rows arrive.
    await page.waitForTimeout(600);
    const { lcp, cls } = (await page.evaluate('({ lcp: window.__lcp, cls: window.__cls })')) as { lcp: number | null; cls: number };
    return { lcpMs: lcp, cls, rowsMs, timeline: (await page.evaluate(TIMELINE)) as PageLoad['timeline'] };
  } finally {
    await context.close();
  }
}

export async function measureBrowser(baseUrl: string, rows: number, options: { loads?: number } = {}): Promise<BrowserResult> {
  const browser = await launchChromium();
  try {
    const jsUrls = new Set<string>();
    const loads: PageLoad[] = [];
    const token = await browserToken(baseUrl);
    for (let i = 0; i < (options.loads ?? 3); i++) loads.push(await coldLoad(browser, baseUrl, token, i === 0 ? jsUrls : undefined));

    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    await page.addInitScript(OBSERVERS);
    await page.addInitScript(signedIn(token));
    await page.goto(`${baseUrl}/studio/`);
    await page.waitForSelector(TABLE_ROW);
    await page.waitForTimeout(300);
    const clsAfterLoad = (await page.evaluate('window.__cls')) as number;

    // Filters: each status once (never cached before), default sort.
    const filterMs: number[] = [];
    for (const status of ['approved', 'rejected', 'pending_review', 'generated', 'needs_revision']) {
      const expected = await firstId(baseUrl, `status=${status}`);
      filterMs.push(await timeUntilFirstRow(page, expected, { select: ['select[aria-label=status]', status] }));
    }
    // Sorts within the last filter: a new column sorts descending (title ascending), a second click flips it.
    const sortMs: number[] = [];
    const steps: [string, string][] = [
      ['quality_score', 'desc'],
      ['quality_score', 'asc'],
      ['total_tokens', 'desc'],
      ['total_tokens', 'asc'],
      ['title', 'asc'],
      ['title', 'desc'],
    ];
    for (const [column, order] of steps) {
      const expected = await firstId(baseUrl, `status=needs_revision&sort=${column}&order=${order}`);
      sortMs.push(await timeUntilFirstRow(page, expected, { click: `button[data-sort=${column}]` }));
    }
    const sessionCls = ((await page.evaluate('window.__cls')) as number) - clsAfterLoad;
    await context.close();

    const files = [...jsUrls]
      .filter((p) => p.endsWith('.js'))
      .map((p) => {
        const body = readFileSync(join(repoRoot, 'dist/web', p.replace(/^\/studio\//, '/')));
        return { file: p, bytes: body.length, gzip: gzipSync(body, { level: 9 }).length };
      });
    return {
      rows,
      loads,
      filterMs,
      sortMs,
      sessionCls,
      initialJs: { files, bytes: files.reduce((a, f) => a + f.bytes, 0), gzip: files.reduce((a, f) => a + f.gzip, 0) },
    };
  } finally {
    await browser.close();
  }
}
