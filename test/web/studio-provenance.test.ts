/**
 * @module test/web/studio-provenance
 * The studio in real Chromium, what a curator needs to trust the data: a turn corrected in the
 * drawer (the limit shown, keys typed into it never act on the list) keeps its earlier text with
 * who and when, across a reload; every conversation says what wrote it (seed, offline writer);
 * the stats cards follow a generation job and a bulk action without a reload. Writes the
 * screenshots of the drawer and of the list with data (docs/screenshots/studio-drawer-*.png,
 * studio-browse-*.png).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import type { Kysely } from 'kysely';
import { startServer, adminFetch } from '../helpers/server.js';
import { createStudioApp } from '../../src/apps/studio/index.js';
import { seedStudio } from '../../src/apps/studio/seed.js';
import type { StudioDB } from '../../src/apps/studio/types.js';
import { mintToken } from '../../src/auth/index.js';
import { assertNoHorizontalScroll, ensureBuilt, launchChromium, openPage, screenshot } from './harness.js';

let server: Awaited<ReturnType<typeof startServer>>;
let browser: Browser;
let db: Kysely<StudioDB>;
let token = '';

before(async () => {
  ensureBuilt();
  const app = createStudioApp({ onReady: (database) => void (db = database.db) });
  server = await startServer({ databaseUrl: 'pglite://memory' }, { apps: [app] });
  await seedStudio(db, { count: 24, seed: 11 });
  // As the sign-in page mints a curator's token: job progress on studio:* is theirs to watch.
  token = await mintToken({ sub: 'cora-curator', roles: ['curator'], subscribe: ['studio:*'] }, server.config.jwtSecret, 600);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

async function signedIn(path: string, width: 'desktop' | 'phone' = 'desktop') {
  const watched = await openPage(browser, 'about:blank', width);
  await watched.page.addInitScript((t) => sessionStorage.setItem('airwaves.token', t), token);
  await watched.page.goto(`${server.url}${path}`);
  return watched;
}

/** The number a stats card shows (e.g. "Conversations"). */
async function card(page: Page, label: string): Promise<number> {
  const text = await page.locator('.card').filter({ has: page.locator('.k', { hasText: new RegExp(`^${label}$`) }) }).locator('.v').innerText();
  return Number(text.replace(/[^\d]/g, ''));
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('a curator corrects a turn in the drawer: the limit is shown, Save keeps the earlier text with who and when, and it survives a reload', async () => {
  const { page, context, errors } = await signedIn('/studio/');
  const row = page.locator('.tr[data-id]').first();
  await row.waitFor({ timeout: 60_000 });
  const id = (await row.getAttribute('data-id'))!;
  const statusBefore = (await (await adminFetch(`${server.url}/api/v1/studio/conversations/${id}`)).json()) as { status: string };
  await row.click();
  const drawer = page.getByTestId('drawer');
  await drawer.getByTestId('generator').filter({ hasText: 'seed · offline writer' }).waitFor({ timeout: 30_000 });
  assert.match((await drawer.getByTestId('generator').getAttribute('title')) ?? '', /no language model/, 'offline text says it is not a model');

  const turn = drawer.locator('[data-testid="turn"].assistant').first();
  const original = (await turn.innerText()).split('\n').slice(1).join('\n').replace(/^Edit\n?/, '');
  await turn.getByTestId('turn-edit').click();
  const box = turn.getByTestId('turn-text');
  assert.equal(await box.inputValue(), (await (await adminFetch(`${server.url}/api/v1/studio/conversations/${id}`)).json() as { turns: { role: string; content: string }[] }).turns.find((t) => t.role === 'assistant')!.content);
  assert.match(await turn.getByTestId('turn-count').innerText(), /\/ 20,000 characters/, 'the limit is shown');
  // Typing into the turn never reaches the list's keys (a: approve, r: reject).
  await box.fill('');
  await box.pressSequentially('A refund is on its way, arriving in 3 to 5 days.');
  await turn.getByTestId('turn-save').click();
  await turn.getByTestId('turn-edited').filter({ hasText: 'edited by cora-curator' }).waitFor({ timeout: 30_000 });
  assert.match(await turn.innerText(), /A refund is on its way, arriving in 3 to 5 days\./);
  const api = (await (await adminFetch(`${server.url}/api/v1/studio/conversations/${id}`)).json()) as { status: string; turns: { role: string; content: string; edits: { editor: string; before: string }[] }[] };
  assert.equal(api.status, statusBefore.status, 'the letters typed did not change the status');
  const saved = api.turns.find((t) => t.role === 'assistant')!;
  assert.equal(saved.content, 'A refund is on its way, arriving in 3 to 5 days.');
  assert.deepEqual(saved.edits.map((e) => e.editor), ['cora-curator']);
  assert.ok(original.includes(saved.edits[0]!.before.slice(0, 40)), 'the earlier text is the one the drawer showed');

  await page.reload();
  await page.locator(`.tr[data-id="${id}"]`).click();
  const again = page.getByTestId('drawer').locator('[data-testid="turn"].assistant').first();
  await again.getByTestId('turn-edited').waitFor({ timeout: 30_000 });
  await again.getByTestId('turn-history').locator('summary').click();
  assert.equal(await again.getByTestId('turn-version').count(), 1);
  assert.match(await again.getByTestId('turn-version').innerText(), /replaced by cora-curator/);
  await screenshot(page, 'studio-drawer', 'desktop');
  assert.deepEqual(errors, []);
  await context.close();

  const phone = await signedIn('/studio/', 'phone');
  await phone.page.locator(`.tr[data-id="${id}"]`).click();
  await phone.page.getByTestId('drawer').getByTestId('turn-edited').first().waitFor({ timeout: 30_000 });
  await assertNoHorizontalScroll(phone.page, 'studio drawer at 390 px');
  await screenshot(phone.page, 'studio-drawer', 'phone');
  assert.deepEqual(phone.errors, []);
  await phone.context.close();
});

test('the stats cards follow a generation job and a bulk action without a reload; generated rows say what wrote them, and the list filters by it', async () => {
  const { page, context, errors } = await signedIn('/studio/');
  await page.locator('.card .v').filter({ hasText: /\d/ }).first().waitFor({ timeout: 60_000 });
  const total = await card(page, 'Conversations');
  assert.equal(total, 24);

  await page.getByRole('button', { name: 'Generate…' }).click();
  const dialog = page.getByRole('dialog', { name: 'generate conversations' });
  await dialog.locator('input[type=number]').fill('5');
  await dialog.getByRole('button', { name: 'Start' }).click();
  await dialog
    .getByTestId('job-progress')
    .filter({ hasText: 'completed: 5 of 5' })
    .waitFor({ timeout: 120_000 })
    .catch(async (err: Error) => {
      // Say whether the job or the page is behind: the job's row as the API has it, and what the dialog shows.
      const jobs = (await (await adminFetch(`${server.url}/api/v1/studio/jobs`)).json()) as { items: unknown[] };
      const shown = await dialog.innerText().catch(() => '(no dialog)');
      throw new Error(`${err.message}\nthe newest job: ${JSON.stringify(jobs.items[0])}\nthe dialog shows: ${shown}\npage errors: ${JSON.stringify(errors)}`);
    });
  await until('the Conversations card to count the job', async () => (await card(page, 'Conversations')) === total + 5);
  await dialog.getByRole('button', { name: 'Close' }).click();
  await until('the list to show the generated rows', async () => (await page.getByTestId('row-generator').filter({ hasText: /^offline$/ }).count()) === 5);
  await screenshot(page, 'studio-browse', 'desktop');

  // The generator filter: only the job's rows, and it is in the URL (shareable, survives a reload).
  await page.getByRole('combobox', { name: 'generator' }).selectOption('offline');
  await until('the list to hold only the offline rows', async () => (await page.locator('.tr[data-id]').count()) === 5);
  assert.match(page.url(), /[?&]generator=offline/);
  assert.deepEqual([...new Set(await page.getByTestId('row-generator').allInnerTexts())], ['offline']);
  await page.reload();
  await until('the filter to survive a reload', async () => (await page.locator('.tr[data-id]').count()) === 5);
  assert.equal(await page.getByRole('combobox', { name: 'generator' }).inputValue(), 'offline');

  // Bulk: approve every pending row; the Approved and Pending cards move by exactly that many.
  await page.goto(`${server.url}/studio/?status=pending_review`);
  await page.locator('.tr[data-id]').first().waitFor({ timeout: 60_000 });
  await page.locator('.card .v').filter({ hasText: /\d/ }).first().waitFor();
  const pending = await card(page, 'Pending review');
  const approved = await card(page, 'Approved');
  const rows = await page.locator('.tr[data-id]').count();
  assert.equal(rows, pending, 'the filtered list holds every pending row');
  await page.getByRole('checkbox', { name: 'select all loaded rows' }).check();
  await page.getByRole('region', { name: 'bulk actions' }).getByRole('button', { name: 'Approve' }).click();
  await until('the cards to follow the bulk approval', async () => (await card(page, 'Approved')) === approved + pending && (await card(page, 'Pending review')) === 0);
  assert.deepEqual(errors, []);
  await context.close();

  const phone = await signedIn('/studio/', 'phone');
  await phone.page.getByTestId('row-generator').first().waitFor({ timeout: 60_000 });
  await assertNoHorizontalScroll(phone.page, 'studio list at 390 px');
  await screenshot(phone.page, 'studio-browse', 'phone');
  assert.deepEqual(phone.errors, []);
  await phone.context.close();
});
