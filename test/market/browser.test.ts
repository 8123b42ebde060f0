/**
 * The /market/ page in a real Chromium: it shows a live book per venue (best bid below best ask),
 * the consolidated BBO, trades and per-venue health, all from the simulator through the hub.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { launchChromium } from '../helpers/chromium.js';
import { startMarket } from './harness.js';

test('the market page shows live books, the consolidated BBO, trades and venue health', async () => {
  if (!existsSync('dist/web/market/index.html')) execFileSync('npx', ['vite', 'build', '--logLevel', 'warn'], { stdio: 'inherit', timeout: 240_000 });
  const { server } = await startMarket({ marketSimRate: 50 });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto(`${server.url}/market/`);
    await page.locator('#state', { hasText: 'live' }).waitFor({ timeout: 15_000 });
    for (const venue of ['binance', 'coinbase', 'kraken']) {
      await page.locator('.card', { hasText: `${venue} · BTC-USDT` }).locator('td.bid').first().waitFor({ timeout: 15_000 });
    }
    const books = await page.$$eval('#books .card', (cards) =>
      cards.map((c) => ({
        bestAsk: Number([...c.querySelectorAll('td.ask')].pop()?.textContent),
        bestBid: Number(c.querySelector('td.bid')?.textContent),
      })),
    );
    assert.equal(books.length, 3);
    for (const b of books) assert.ok(b.bestBid > 0 && b.bestBid < b.bestAsk, `uncrossed book ${JSON.stringify(b)}`);
    await page.locator('#cbbo', { hasText: '/' }).waitFor({ timeout: 10_000 });
    await page.locator('#trades div').first().waitFor({ timeout: 15_000 });
    await page.locator('#health .live').first().waitFor({ timeout: 10_000 });
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await server.close();
  }
});
