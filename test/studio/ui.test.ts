/**
 * The studio UI in a real Chromium over 10,000 conversations on PostgreSQL: filter, sort,
 * search, scroll to the bottom of an infinite list, review from the keyboard, and an optimistic
 * change rolled back (with a toast) when the server refuses it.
 */
import { describe, before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page, Request } from 'playwright-core';
import { startServer, adminFetch, TEST_API_KEY } from '../helpers/server.js';
import { startPostgres, type PostgresInstance } from '../helpers/postgres.js';
import { createStudioApp } from '../../src/apps/studio/index.js';
import { seedStudio } from '../../src/apps/studio/seed.js';
import type { Database } from '../../src/db/database.js';
import type { StudioDB } from '../../src/apps/studio/types.js';
import { describeStudioPage, ensureStudioBuilt, launchChromium, waitFor } from './ui-helpers.js';

const ROWS = 10_000;
const API = '/api/v1/studio';

describe('studio UI in Chromium over 10,000 conversations', () => {
  let pg: PostgresInstance;
  let server: Awaited<ReturnType<typeof startServer>>;
  let database: Database<StudioDB>;
  let browser: Browser;
  let page: Page;
  const pageRequests: string[] = [];

  const api = async <T>(path: string): Promise<T> => (await (await adminFetch(server.url + API + path)).json()) as T;
  const rowIds = () => page.$$eval('[data-testid=conversation-table] .tr[data-id]', (els) => els.map((e) => (e as HTMLElement).dataset.id!));
  const firstRow = async () => (await rowIds())[0];

  before(async () => {
    ensureStudioBuilt();
    pg = await startPostgres();
    server = await startServer({ databaseUrl: pg.url }, { apps: [createStudioApp({ onReady: (d) => void (database = d) })] });
    await seedStudio(database.db, { count: ROWS, seed: 11 });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on('request', (r) => {
      if (r.url().includes(`${API}/conversations?`)) pageRequests.push(r.url());
    });
    // Signs in as the admin the way the first-start link does (/signin#key=…), then lands on the studio.
    await page.goto(`${server.url}/signin?next=${encodeURIComponent('/studio/')}#key=${TEST_API_KEY}`);
    await page.waitForURL(`${server.url}/studio/`);
    await page.waitForSelector('[data-testid=conversation-table] .tr[data-id]');
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await pg?.stop();
  });

  test('the first screen shows the newest conversations and the totals', async () => {
    const expected = await api<{ items: { id: string }[] }>('/conversations?limit=5&fields=id');
    assert.equal(await firstRow(), expected.items[0].id);
    await waitFor(page, () => document.querySelector('.cards .v')?.textContent === '10,000');
  });

  test('filtering by status shows only matching rows and the matching count', async () => {
    await page.selectOption('select[aria-label=status]', 'approved');
    const expected = await api<{ items: { id: string }[] }>('/conversations?status=approved&limit=1&fields=id');
    await waitFor(page, (id) => document.querySelector('[data-testid=conversation-table] .tr[data-id]')?.getAttribute('data-id') === id, expected.items[0].id);
    const statuses = await page.$$eval('[data-testid=conversation-table] .tr[data-id]', (els) => els.map((e) => (e as HTMLElement).dataset.status));
    assert.ok(statuses.length > 10 && statuses.every((s) => s === 'approved'), `all approved: ${statuses.join(',')}`);
    const count = await api<{ count: number }>('/conversations/count?status=approved');
    await waitFor(page, (n) => document.querySelector('[data-testid=count]')?.textContent === `${n.toLocaleString('en-US')} matching`, count.count);
  });

  test('clicking a column header sorts by it, again reverses it', async () => {
    await page.click('button[data-sort=quality_score]');
    const desc = await api<{ items: { id: string }[] }>('/conversations?status=approved&sort=quality_score&order=desc&limit=1&fields=id');
    await waitFor(page, (id) => document.querySelector('[data-testid=conversation-table] .tr[data-id]')?.getAttribute('data-id') === id, desc.items[0].id);
    const qualities = await page.$$eval('[data-testid=conversation-table] .tr[data-id] [data-col=quality]', (els) => els.map((e) => Number(e.textContent)));
    for (let i = 1; i < qualities.length; i++) assert.ok(qualities[i - 1] >= qualities[i], 'descending quality on screen');
    await page.click('button[data-sort=quality_score]');
    const asc = await api<{ items: { id: string }[] }>('/conversations?status=approved&sort=quality_score&order=asc&limit=1&fields=id');
    await waitFor(page, (id) => document.querySelector('[data-testid=conversation-table] .tr[data-id]')?.getAttribute('data-id') === id, asc.items[0].id);
  });

  test('search (debounced) shows ranked matches', async () => {
    await page.fill('input[aria-label=search]', 'thermostat');
    const expected = await api<{ items: { id: string }[] }>('/conversations?status=approved&q=thermostat&limit=1&fields=id');
    await waitFor(page, (id) => document.querySelector('[data-testid=conversation-table] .tr[data-id]')?.getAttribute('data-id') === id, expected.items[0].id);
    const titles = await page.$$eval('[data-testid=conversation-table] .tr[data-id] [data-col=title]', (els) => els.map((e) => e.textContent ?? ''));
    assert.ok(titles.length > 0 && titles.every((t) => /thermostat/i.test(t)), titles.join(' | '));
    await page.fill('input[aria-label=search]', '');
    // Filters live in the query string (location.search): this waits for the debounced clear to land.
    await waitFor(page, () => !location.search.includes('q=') && document.querySelectorAll('[data-testid=conversation-table] .tr[data-id]').length > 20);
  });

  test('scrolling reaches the bottom of an infinite list, one request per page', async () => {
    await page.selectOption('select[aria-label=tier]', 'edge_case');
    const count = await api<{ count: number }>('/conversations/count?status=approved&tier=edge_case');
    await waitFor(page, (n) => document.querySelector('[data-testid=count]')?.textContent === `${n.toLocaleString('en-US')} matching`, count.count);
    pageRequests.length = 0;
    // Scrolls until the list says it ended (a deadline, not a count of scrolls: a loaded CI machine
    // answers pages more slowly), then says what the page showed if it never did.
    for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
      if (await page.$('[data-testid=end-of-list]')) break;
      await page.$eval('[data-testid=conversation-table]', (el) => el.scrollTo({ top: el.scrollHeight }));
      await page.waitForTimeout(40);
    }
    assert.ok(await page.$('[data-testid=end-of-list]'), `the end of the list was never reached; the page showed ${await describeStudioPage(page)}`);
    const text = await page.textContent('[data-testid=end-of-list]');
    assert.equal(text, `${count.count.toLocaleString('en-US')} rows · end of list`);
    assert.equal(new Set(pageRequests).size, pageRequests.length, 'no page was requested twice');
  });

  test('the browse scroll position survives a visit to the review queue', async () => {
    const before = await page.$eval('[data-testid=conversation-table]', (el) => el.scrollTop);
    assert.ok(before > 1000);
    await page.click('a[href="#/review"]');
    await page.waitForSelector('[data-testid=review-queue] .tr[data-id]');
    await page.click('a[href="#/"]');
    await page.waitForSelector('[data-testid=conversation-table] .tr[data-id]');
    await waitFor(page, (top) => Math.abs((document.querySelector('[data-testid=conversation-table]') as HTMLElement).scrollTop - top) < 40, before);
  });

  test('the review queue is driven from the keyboard: a approves, j moves, r rejects', async () => {
    await page.click('a[href="#/review"]');
    await page.waitForSelector('[data-testid=review-queue] .tr[data-id]');
    const queue = await api<{ items: { id: string }[] }>('/conversations?status=pending_review&sort=created_at&order=asc&limit=3&fields=id');
    const [first, second, third] = queue.items.map((i) => i.id);
    await waitFor(page, (id) => document.querySelector('[data-testid=review-current]')?.getAttribute('data-id') === id, first);
    await page.waitForSelector('[data-testid=review-current] [data-testid=detail-title]');
    await page.keyboard.press('a');
    await waitFor(page, (id) => document.querySelector(`[data-testid=review-queue] [data-id="${id}"]`)?.getAttribute('data-status') === 'approved', first);
    await waitFor(page, (id) => document.querySelector('[data-testid=review-current]')?.getAttribute('data-id') === id, second);
    await page.keyboard.press('j');
    await waitFor(page, (id) => document.querySelector('[data-testid=review-current]')?.getAttribute('data-id') === id, third);
    await page.keyboard.press('k');
    await page.keyboard.press('r');
    await waitFor(page, (id) => document.querySelector(`[data-testid=review-queue] [data-id="${id}"]`)?.getAttribute('data-status') === 'rejected', second);
    for (let i = 0; i < 50; i++) {
      const [a, b] = await Promise.all([api<{ status: string }>(`/conversations/${first}`), api<{ status: string }>(`/conversations/${second}`)]);
      if (a.status === 'approved' && b.status === 'rejected') return;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.fail('the server did not record the keyboard decisions');
  });

  test('when the server refuses a change the optimistic status rolls back and a toast says why', async () => {
    const current = await page.getAttribute('[data-testid=review-current]', 'data-id');
    assert.ok(current);
    await page.route(`**${API}/conversations/*`, (route) =>
      route.request().method() === 'PATCH'
        ? route.fulfill({ status: 500, contentType: 'application/json', body: JSON.stringify({ error: { code: 'internal', message: 'forced failure' } }) })
        : route.continue(),
    );
    const patches: string[] = [];
    const onRequest = (r: Request) => void (r.method() === 'PATCH' && patches.push(r.url()));
    page.on('request', onRequest);
    await page.keyboard.press('a');
    await page.waitForSelector('[data-testid=toast]', { timeout: 30_000 }).catch(async (err: unknown) => {
      throw new Error(`no toast after "a" on ${current}; PATCH requests: ${JSON.stringify(patches)}; the page showed ${await describeStudioPage(page)}`, { cause: err });
    });
    page.off('request', onRequest);
    assert.match((await page.textContent('[data-testid=toast]')) ?? '', /forced failure/);
    await waitFor(page, (id) => document.querySelector(`[data-testid=review-queue] [data-id="${id}"]`)?.getAttribute('data-status') === 'pending_review', current);
    const server_ = await api<{ status: string }>(`/conversations/${current}`);
    assert.equal(server_.status, 'pending_review');
    await page.unroute(`**${API}/conversations/*`);
  });
});
