/**
 * @module bench/pages
 * Largest contentful paint of every public page, as a newcomer meets them: the built CLI with
 * default configuration (every app, a fresh data directory) started from another process, and
 * cold loads in Chromium (a new context per load, no cache) at 1280 and 390 px, once every app
 * serves. The browser tests only check that each page paints at all (a timing target belongs in a
 * benchmark); this prints the figure against issue 16's target (LCP < 1 s on each app page).
 *
 * Usage: npm run bench -- pages [--loads 3] [--out bench/results/pages]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../../test/helpers/chromium.js';
import { largestPaint } from '../../test/web/harness.js';
import { CLI_BASE_ENV, CliProcess } from '../shared/cli-process.js';

const PAGES = [
  { name: 'landing', path: '/' },
  { name: 'hub inspector', path: '/hub/' },
  { name: 'help desk', path: '/support/' },
  { name: 'radio', path: '/radio/' },
  { name: 'studio', path: '/studio/' },
  { name: 'market', path: '/market/' },
  { name: 'live', path: '/live/' },
];
const WIDTHS = { 1280: { width: 1280, height: 800 }, 390: { width: 390, height: 844 } } as const;

/** One cold load: LCP as Chromium reports it (ms from navigation start), or null if none. */
async function coldLcp(browser: Browser, url: string, viewport: { width: number; height: number }): Promise<number | null> {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1 });
  try {
    const page = await context.newPage();
    await page.goto(url, { waitUntil: 'load' });
    const lcp = await largestPaint(page);
    return lcp < 0 ? null : lcp;
  } finally {
    await context.close();
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { loads: { type: 'string', default: '3' }, out: { type: 'string', default: 'bench/results/pages' } } });
  const loads = Math.max(1, Number(values.loads));
  const loadBefore = loadavg().map((x) => x.toFixed(2)).join(' ');
  const dataDir = mkdtempSync(join(tmpdir(), 'airwaves-pages-'));
  const server = await CliProcess.start({ env: (port) => ({ ...CLI_BASE_ENV, AIRWAVES_PORT: String(port), AIRWAVES_DATA_DIR: dataDir }), stderr: 'inherit' });
  const { base } = server;
  const browser = await launchChromium();
  const rows: { page: string; width: number; lcps: (number | null)[]; median: number | null }[] = [];
  try {
    await server.waitAllApps(180_000, 100);
    // Let the apps' start-up work settle, as a user opening a page a moment after start would.
    await new Promise((r) => setTimeout(r, 3000));
    for (const p of PAGES) {
      for (const width of [1280, 390] as const) {
        const lcps: (number | null)[] = [];
        for (let i = 0; i < loads; i++) lcps.push(await coldLcp(browser, base + p.path, WIDTHS[width]));
        const seen = lcps.filter((x): x is number => x !== null);
        const row = { page: p.name, width, lcps, median: seen.length ? Math.round(median(seen)) : null };
        rows.push(row);
        console.log(`${p.name.padEnd(14)} ${String(width).padStart(4)} px  LCP median ${row.median ?? '—'} ms  (${lcps.map((x) => (x === null ? '—' : Math.round(x))).join(', ')})`);
      }
    }
  } finally {
    await browser.close();
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  const loadAfter = loadavg().map((x) => x.toFixed(2)).join(' ');
  const at = new Date().toISOString();
  writeFileSync(`${values.out}.json`, JSON.stringify({ benchmark: 'pages', at, cpus: cpus().length, node: process.version, loadBefore, loadAfter, loads, rows }, null, 2) + '\n');
  const md = [
    '# Pages: largest contentful paint of a cold load (npm run bench -- pages)',
    '',
    `${at}, ${cpus().length} cores, Node ${process.version}; load average before ${loadBefore}, after ${loadAfter}.`,
    'The built CLI with default configuration and a fresh data directory, measured once every app serves (plus 3 s); each load in a new Chromium context (no cache). Target (issue 16): LCP < 1 s on each app page.',
    '',
    '| page | width | LCP median (ms) | each load (ms) | < 1 s |',
    '|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.page} | ${r.width} px | ${r.median ?? '—'} | ${r.lcps.map((x) => (x === null ? '—' : Math.round(x))).join(', ')} | ${r.median !== null && r.median < 1000 ? 'yes' : '**no**'} |`),
    '',
  ].join('\n');
  writeFileSync(`${values.out}.md`, md);
  console.log(`wrote ${values.out}.json and ${values.out}.md`);
}
