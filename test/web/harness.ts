/**
 * @module test/web/harness
 * Browser-test plumbing for every UI: a fresh build (scripts/build.mjs --if-stale, what
 * `npm start` runs), the system Chromium (test/helpers/chromium), pages that record every console
 * error, the 390 px horizontal-scroll check, the largest contentful paint (also read by
 * bench/pages), and screenshots into docs/screenshots/.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../helpers/chromium.js';

export { launchChromium };

export const repoRoot = join(import.meta.dirname, '../..');
export const SCREENSHOTS = join(repoRoot, 'docs/screenshots');
export const WIDTHS = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } } as const;
export type Width = keyof typeof WIDTHS;

/** Builds server and web UIs when a source is newer than the last build (as `npm start` does). */
export function ensureBuilt(): void {
  execFileSync(process.execPath, ['scripts/build.mjs', '--if-stale'], { cwd: repoRoot, stdio: 'inherit', timeout: 300_000 });
}

export interface WatchedPage {
  page: Page;
  context: BrowserContext;
  /** Console errors and uncaught page errors, in order. */
  errors: string[];
}

/** A page in its own context at the given width, with console errors collected. */
export async function openPage(browser: Browser, url: string, width: Width = 'desktop'): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport: WIDTHS[width], deviceScaleFactor: 1 });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()} (${m.location().url})`);
  });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  await page.goto(url);
  return { page, context, errors };
}

/** The document is no wider than the viewport (no horizontal scroll), naming the widest element if it is. */
export async function assertNoHorizontalScroll(page: Page, label: string): Promise<void> {
  const overflow = await page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const scroll = document.documentElement.scrollWidth;
    let culprit = '';
    if (scroll > width) {
      for (const el of document.querySelectorAll('body *')) {
        const r = el.getBoundingClientRect();
        if (r.right > width + 1) {
          culprit = `${el.tagName.toLowerCase()}.${(el as HTMLElement).className} right=${Math.round(r.right)}`;
          break;
        }
      }
    }
    return { width, scroll, culprit };
  });
  assert.ok(overflow.scroll <= overflow.width, `${label}: page is ${overflow.scroll} px wide in a ${overflow.width} px viewport (${overflow.culprit})`);
}

/**
 * Largest contentful paint of the page as Chromium measured it (ms from navigation start), or -1
 * when it reports none within 3 s (a page that never painted its content).
 */
export async function largestPaint(page: Page): Promise<number> {
  return page.evaluate(
    () =>
      new Promise<number>((resolve) => {
        new PerformanceObserver((list) => {
          const entries = list.getEntries();
          resolve(entries[entries.length - 1]!.startTime);
        }).observe({ type: 'largest-contentful-paint', buffered: true });
        setTimeout(() => resolve(-1), 3000);
      }),
  );
}

export async function screenshot(page: Page, name: string, width: Width): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}-${WIDTHS[width].width}.png`) });
}
