/**
 * @module test/web/studio-ui
 * The studio's newcomer fixes in real Chromium, on an empty database: the empty state says how
 * to seed or generate; a search over the server's 200-character limit shows a readable error
 * (not "…" and "0 rows"); the search field stops at the limit; filters live in the URL and
 * survive a reload.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { startServer } from '../helpers/server.js';
import { studioApp } from '../../src/apps/studio/index.js';
import { mintToken } from '../../src/auth/index.js';
import { ensureBuilt, launchChromium, openPage } from './harness.js';

let server: Awaited<ReturnType<typeof startServer>>;
let browser: Browser;
let token = '';

before(async () => {
  ensureBuilt();
  server = await startServer({ databaseUrl: 'pglite://memory' }, { apps: [studioApp] });
  token = await mintToken({ sub: 'curator-test', roles: ['curator'] }, server.config.jwtSecret, 600);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

async function studio(path: string) {
  const watched = await openPage(browser, 'about:blank');
  await watched.page.addInitScript((t) => sessionStorage.setItem('airwaves.token', t), token);
  await watched.page.goto(`${server.url}/studio/${path}`);
  return watched;
}

test('an empty studio says how to seed or generate', async () => {
  const { page, context, errors } = await studio('');
  const hint = page.getByTestId('empty-hint');
  await hint.waitFor();
  assert.match(await hint.innerText(), /Generate….*npm run studio:seed -- --count 10000/s);
  assert.deepEqual(errors, []);
  await context.close();
});

test('a search over 200 characters is a readable error; the field stops at 200', async () => {
  const { page, context, errors } = await studio(`?q=${'w'.repeat(201)}`);
  await page.getByTestId('list-error').filter({ hasText: 'the search is too long (at most 200 characters)' }).waitFor();
  await page.getByLabel('search').fill('v'.repeat(250));
  assert.equal((await page.getByLabel('search').inputValue()).length, 200);
  await page.getByTestId('search-count').filter({ hasText: '200 / 200' }).waitFor();
  // The 400 of the first load is the only console error (Chromium logs failed requests).
  assert.ok(errors.every((e) => e.includes('status of 400')), errors.join('\n'));
  await context.close();
});

test('filters and sort are in the URL and survive a reload', async () => {
  const { page, context, errors } = await studio('');
  await page.getByLabel('status').selectOption('approved');
  await page.waitForURL(/\?status=approved/);
  await page.reload();
  assert.equal(await page.getByLabel('status').inputValue(), 'approved');
  await page.getByTestId('empty-hint').filter({ hasText: 'Nothing matches these filters' }).waitFor();
  await page.getByRole('button', { name: 'Clear filters' }).click();
  await page.waitForURL((u) => u.search === '');
  assert.deepEqual(errors, []);
  await context.close();
});
