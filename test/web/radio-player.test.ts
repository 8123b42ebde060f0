/**
 * @module test/web/radio-player
 * The radio page keeps one player at a time, in real Chromium: every AudioContext the page makes
 * is counted (an init script wraps the constructor and close()), and after a station switch, a
 * pause and a play again at most one is alive, none after a pause, and no underrun report leaves
 * a paused page; playing again after the pause starts at the live edge (the station says the
 * stream nobody received is not live), replaying no stale audio. Also the
 * now-playing line, the plain-words health panel with technical values on hover, and the space
 * bar. After a dropped connection the page says so and plays on, once the SDK has reconnected and
 * resubscribed.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { startServer } from '../helpers/server.js';
import { radioApp } from '../../src/apps/radio/index.js';
import { ensureBuilt, launchChromium, openPage } from './harness.js';

let server: Awaited<ReturnType<typeof startServer>>;
let browser: Browser;

before(async () => {
  ensureBuilt();
  server = await startServer({}, { apps: [radioApp] });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

const alive = (page: Page) => page.evaluate(() => (window as unknown as { __contexts: { made: number; closed: number } }).__contexts);
const framesPlayed = (page: Page) => page.evaluate(() => window.__radioStats.framesPlayed);

test('one player at a time across a station switch, a pause and a play; no report from a paused page', async () => {
  const { page, context, errors } = await openPage(browser, 'about:blank');
  await page.addInitScript(() => {
    const counts = { made: 0, closed: 0 };
    (window as unknown as { __contexts: typeof counts }).__contexts = counts;
    const Original = window.AudioContext;
    window.AudioContext = class extends Original {
      constructor(options?: AudioContextOptions) {
        super(options);
        counts.made++;
      }
      override close(): Promise<void> {
        counts.closed++;
        return super.close();
      }
    };
  });
  const reports: string[] = [];
  page.on('request', (r) => r.url().includes('/reports') && reports.push(r.url()));
  await page.goto(`${server.url}/radio/`);
  await page.locator('#station option').nth(1).waitFor({ state: 'attached' });

  await page.click('#play');
  await page.waitForFunction(() => window.__radioStats.framesPlayed > 48_000 / 2);
  assert.match(await page.locator('#now-playing').innerText(), /^Now playing: Calm, a calm ambient piece/);
  // Plain words on the tile, the technical value on hover.
  assert.match(await page.locator('#s-tier').innerText(), /^(snappy|normal|extra safe)$/);
  assert.match((await page.locator('#s-tier').locator('..').getAttribute('title')) ?? '', /^buffer tier \d · \d+ ms/);

  await page.selectOption('#station', 'dusk');
  await page.waitForFunction(() => window.__radioStats.station === 'dusk' && window.__radioStats.framesPlayed > 48_000 / 2);
  let c = await alive(page);
  assert.equal(c.made - c.closed, 1, `after a switch: ${JSON.stringify(c)}`);

  await page.click('#play'); // pause
  await page.locator('#state').filter({ hasText: 'paused' }).waitFor();
  c = await alive(page);
  assert.equal(c.made - c.closed, 0, `after a pause: ${JSON.stringify(c)}`);
  const frames = await framesPlayed(page);
  const reportsAtPause = reports.length;
  await new Promise((r) => setTimeout(r, 6000)); // longer than the 5 s report interval
  assert.equal(reports.length, reportsAtPause, 'a paused page sends no underrun report');
  assert.equal(await framesPlayed(page), frames, 'nothing plays while paused');

  // The space bar plays again (focus on the page, not on a control).
  await page.locator('h1').click();
  await page.keyboard.press('Space');
  await page.waitForFunction(() => window.__radioStats.playing && window.__radioStats.framesPlayed > 0);
  // Nobody received dusk for the 6 s pause, so its ring ended 4.5 s ago and the stream does not
  // go on from it: the station says it is not live, and the player starts at the live edge rather
  // than replay old audio and then run dry waiting for live audio.
  const again = await page.evaluate(() => ({ rewound: window.__radioStats.rewound, stale: window.__radioStats.staleSkipped }));
  assert.deepEqual(again, { rewound: 0, stale: 0 }, 'no replay of the stream nobody received');
  c = await alive(page);
  assert.equal(c.made - c.closed, 1, `after play again: ${JSON.stringify(c)}`);
  assert.equal(c.made, 3, 'one context per play');
  assert.deepEqual(errors, []);
  await context.close();
});

test('a dropped connection: the page says so, the SDK reconnects and resubscribes, and the same player plays on', async () => {
  const { page, context, errors } = await openPage(browser, 'about:blank');
  // Every WebSocket the page opens, so the test can drop the live one.
  await page.addInitScript(() => {
    const sockets: WebSocket[] = [];
    (window as unknown as { __sockets: WebSocket[] }).__sockets = sockets;
    const Original = window.WebSocket;
    window.WebSocket = class extends Original {
      constructor(url: string | URL, protocols?: string | string[]) {
        super(url, protocols);
        sockets.push(this);
      }
    };
  });
  const states: string[] = [];
  await page.exposeFunction('__stateSeen', (s: string) => void states.push(s));
  await page.goto(`${server.url}/radio/`);
  await page.locator('#station option').nth(1).waitFor({ state: 'attached' });
  await page.evaluate(() => {
    const line = document.getElementById('state')!;
    new MutationObserver(() => void (window as unknown as { __stateSeen: (s: string) => void }).__stateSeen(line.textContent ?? '')).observe(line, { childList: true, characterData: true, subtree: true });
  });
  await page.click('#play');
  await page.waitForFunction(() => window.__radioStats.framesPlayed > 48_000 / 2);
  const before = await page.evaluate(() => ({ chunks: window.__radioStats.chunksReceived, players: window.__radioPlayers.created }));

  await page.evaluate(() => (window as unknown as { __sockets: WebSocket[] }).__sockets.at(-1)!.close());
  await page.waitForFunction(() => (window as unknown as { __sockets: WebSocket[] }).__sockets.length === 2, undefined, { timeout: 15_000 });
  await page.locator('#state').filter({ hasText: /^playing / }).waitFor({ timeout: 15_000 });
  // Chunks flow again and are played by the player that was already there.
  await page.waitForFunction((n) => window.__radioStats.chunksReceived > n + 50, before.chunks, { timeout: 15_000 });
  const framesAfter = await framesPlayed(page);
  await page.waitForFunction((f) => window.__radioStats.framesPlayed > f + 48_000 / 4, framesAfter, { timeout: 15_000 });
  assert.ok(states.includes('connection lost; reconnecting…'), `the page said the connection was lost: ${JSON.stringify(states)}`);
  assert.equal(await page.evaluate(() => window.__radioPlayers.created), before.players, 'no new player for a reconnect');
  assert.deepEqual(errors, []);
  await context.close();
});
