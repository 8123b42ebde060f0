/**
 * @module test/web/studio-review
 * The studio's review queue in real Chromium: visible buttons beside the keyboard, "x of N",
 * skip, undo of the last decision, a note with a decision, and the reviewer recorded from the
 * signed-in user (never a fixed "studio-ui"), shown in the conversation's history.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { sql, type Kysely } from 'kysely';
import { startServer, adminFetch } from '../helpers/server.js';
import { createStudioApp } from '../../src/apps/studio/index.js';
import { seedStudio } from '../../src/apps/studio/seed.js';
import type { StudioDB } from '../../src/apps/studio/types.js';
import { mintToken } from '../../src/auth/index.js';
import { ensureBuilt, launchChromium, openPage } from './harness.js';

let server: Awaited<ReturnType<typeof startServer>>;
let browser: Browser;
let db: Kysely<StudioDB>;
let token = '';
const PENDING = 6;

before(async () => {
  ensureBuilt();
  const app = createStudioApp({ worker: false, onReady: (database) => void (db = database.db) });
  server = await startServer({ databaseUrl: 'pglite://memory' }, { apps: [app] });
  await seedStudio(db, { count: 30, seed: 7 });
  // A known queue: exactly PENDING conversations wait for review.
  const ids = (await db.selectFrom('studio_conversations').select('id').orderBy('created_at').execute()).map((r) => r.id);
  await sql`update studio_conversations set status = 'approved', review_history = '[]'::jsonb`.execute(db);
  await db.updateTable('studio_conversations').set({ status: 'pending_review' }).where('id', 'in', ids.slice(0, PENDING)).execute();
  token = await mintToken({ sub: 'rita-reviewer', roles: ['curator'] }, server.config.jwtSecret, 600);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

async function history(id: string): Promise<{ from: string; to: string; reviewer: string | null; note: string | null }[]> {
  const res = await adminFetch(`${server.url}/api/v1/studio/conversations/${id}`);
  return ((await res.json()) as { review_history: { from: string; to: string; reviewer: string | null; note: string | null }[] }).review_history;
}

test('review queue: buttons, x of N, skip, a note, undo; the reviewer is the signed-in user, shown in the history', async () => {
  const { page, context, errors } = await openPage(browser, 'about:blank');
  await page.addInitScript((t) => sessionStorage.setItem('airwaves.token', t), token);
  await page.goto(`${server.url}/studio/#/review`);
  const progress = page.getByTestId('review-progress');
  await progress.filter({ hasText: `1 of ${PENDING}` }).waitFor({ timeout: 30_000 });
  const current = page.getByTestId('review-current');

  // A note, then the Approve button: the decision carries both, by the signed-in user.
  const first = (await current.getAttribute('data-id'))!;
  await page.getByTestId('review-note').fill('tone is right');
  await page.locator('[data-decision="approved"]').click();
  await progress.filter({ hasText: `2 of ${PENDING}` }).waitFor();
  assert.equal(await page.getByTestId('review-note').inputValue(), '', 'the note went with the decision');
  await waitFor(async () => (await history(first)).at(-1)?.to === 'approved');
  assert.deepEqual(
    (await history(first)).map((h) => [h.from, h.to, h.reviewer, h.note]),
    [['pending_review', 'approved', 'rita-reviewer', 'tone is right']],
  );

  // Skip leaves the second untouched; Reject decides the third.
  const second = (await current.getAttribute('data-id'))!;
  await page.getByTestId('review-skip').click();
  await progress.filter({ hasText: `3 of ${PENDING}` }).waitFor();
  const third = (await current.getAttribute('data-id'))!;
  assert.notEqual(third, second);
  await page.locator('[data-decision="rejected"]').click();
  await progress.filter({ hasText: `4 of ${PENDING}` }).waitFor();
  await waitFor(async () => (await history(third)).at(-1)?.to === 'rejected');
  assert.deepEqual(await history(second), [], 'skipped: no decision recorded');

  // Undo brings the last decision back: the third is pending again, the step is in its history.
  await page.getByTestId('review-undo').click();
  await progress.filter({ hasText: `3 of ${PENDING}` }).waitFor();
  assert.equal(await current.getAttribute('data-id'), third);
  await waitFor(async () => (await history(third)).at(-1)?.to === 'pending_review');
  assert.deepEqual(
    (await history(third)).map((h) => [h.from, h.to, h.reviewer]),
    [
      ['pending_review', 'rejected', 'rita-reviewer'],
      ['rejected', 'pending_review', 'rita-reviewer'],
    ],
  );
  assert.equal(await page.getByTestId('review-undo').isDisabled(), true, 'one undo: the last decision only');

  // The keyboard mirrors the buttons (n: needs revision), and the view shows who decided.
  await page.keyboard.press('n');
  await progress.filter({ hasText: `4 of ${PENDING}` }).waitFor();
  await waitFor(async () => (await history(third)).at(-1)?.to === 'needs_revision');
  await page.keyboard.press('k');
  await progress.filter({ hasText: `3 of ${PENDING}` }).waitFor();
  await page.getByTestId('review-entry').filter({ hasText: 'rita-reviewer: rejected → pending_review' }).waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}
