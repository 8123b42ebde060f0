/**
 * @module test/radio/browser
 * The real player in real Chromium: builds the web UI if needed, opens /radio/, presses play and
 * reads window.__radioStats after a few seconds: audio frames played, no underruns, and the
 * server-to-speaker latency under 150 ms. Once with Opus (WebCodecs) and once with 16-bit PCM.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { build } from 'vite';
import { chromium, type Browser } from 'playwright-core';
import { startServer, sleep } from '../helpers/server.js';
import { radioApp } from '../../src/apps/radio/index.js';

const ROOT = new URL('../../', import.meta.url).pathname;

/**
 * Builds only the radio page into dist/web (as `npm run build` would place it), so this test does
 * not depend on other apps' pages building.
 */
async function buildRadioUi(): Promise<void> {
  await build({
    configFile: false,
    root: `${ROOT}web`,
    base: '/',
    logLevel: 'warn',
    build: { outDir: `${ROOT}dist/web`, emptyOutDir: false, target: 'es2022', rollupOptions: { input: { radio: `${ROOT}web/radio/index.html` } } },
  });
}

interface RadioStats {
  framesPlayed: number;
  underruns: number;
  bufferMs: number;
  tier: number;
  latencyMs: number;
  chunksReceived: number;
  format: string;
}

describe('radio player in Chromium', () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  let browser: Browser;

  before(async () => {
    if (!existsSync(`${ROOT}dist/web/radio/index.html`)) await buildRadioUi();
    server = await startServer({ radioStations: [{ id: 'calm', seed: 7, mood: 'calm' }] }, { apps: [radioApp] });
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--autoplay-policy=no-user-gesture-required'],
    });
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  for (const format of ['opus', 'pcm'] as const) {
    test(`plays the station (${format}) for a few seconds without underruns, latency under 150 ms`, async () => {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${server.url}/radio/?format=${format}`);
      await page.waitForFunction(() => document.querySelectorAll('#station option').length > 0, undefined, { timeout: 10_000 });
      await page.click('#play');
      await page.waitForFunction(() => window.__radioStats?.framesPlayed > 0, undefined, { timeout: 10_000 });
      await sleep(4000);
      const stats = (await page.evaluate(() => window.__radioStats)) as unknown as RadioStats;
      if (format === 'opus') await page.screenshot({ path: `${ROOT}.tmp/radio-player.png` }).catch(() => {});
      const state = await page.textContent('#state');
      const serverStatus = await (await fetch(`${server.url}/api/v1/radio/stations/calm`)).json();
      await page.close();
      console.log(`# browser ${format}: ${stats.framesPlayed} frames played, underruns ${stats.underruns}, buffer ${Math.round(stats.bufferMs)} ms, tier ${stats.tier}, latency ${stats.latencyMs.toFixed(1)} ms`);
      assert.deepEqual(errors, []);
      assert.equal(stats.format, format, `state: ${state}`);
      assert.ok(stats.framesPlayed > 48_000 * 3, `frames played ${stats.framesPlayed}`);
      assert.equal(stats.underruns, 0, `underruns (stats ${JSON.stringify(stats)}; server ${JSON.stringify(serverStatus.status)})`);
      assert.ok(stats.latencyMs > 0 && stats.latencyMs < 150, `latency ${stats.latencyMs} ms`);
    });
  }
});
