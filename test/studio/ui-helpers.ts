/**
 * Browser-test plumbing shared by the studio UI test and benchmark: build the UI when it is
 * missing, and the shared Chromium launch (test/helpers/chromium).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { launchChromium } from '../helpers/chromium.js';

export { launchChromium };

export const repoRoot = join(import.meta.dirname, '../..');

/** Builds the web UIs with Vite unless dist/web/studio is already there. */
export function ensureStudioBuilt(): void {
  if (existsSync(join(repoRoot, 'dist/web/studio/index.html'))) return;
  execFileSync('npx', ['vite', 'build', '--logLevel', 'warn'], { cwd: repoRoot, stdio: 'inherit' });
}

/** What the studio page shows, for a failure message: where it is, its count, its rows, its toasts. */
export function describeStudioPage(page: Page): Promise<string> {
  return page
    .evaluate(() =>
      JSON.stringify({
        url: location.href,
        count: document.querySelector('[data-testid=count]')?.textContent,
        rows: document.querySelectorAll('.tr[data-id]').length,
        endOfList: document.querySelector('[data-testid=end-of-list]')?.textContent ?? null,
        reviewCurrent: document.querySelector('[data-testid=review-current]')?.getAttribute('data-id') ?? null,
        focused: document.activeElement?.outerHTML.slice(0, 120) ?? null,
        toasts: [...document.querySelectorAll('[data-testid=toast]')].map((t) => t.textContent),
      }),
    )
    .catch((err: unknown) => `(the page could not be read: ${String(err)})`);
}

/**
 * page.waitForFunction that, when it times out, says what the page showed instead — a flaky
 * browser test is only fixable with that in the CI log.
 */
export async function waitFor<A>(page: Page, fn: (arg: A) => unknown, arg?: A, timeout = 30_000): Promise<void> {
  try {
    // Playwright types the argument as it arrives in the page (Unboxed<A>); ours are plain values.
    await page.waitForFunction(fn as (arg: unknown) => unknown, arg, { timeout });
  } catch (err) {
    throw new Error(`waited ${timeout} ms for ${fn.toString().replace(/\s+/g, ' ').slice(0, 200)} (${JSON.stringify(arg)}); the page showed ${await describeStudioPage(page)}`, { cause: err });
  }
}
