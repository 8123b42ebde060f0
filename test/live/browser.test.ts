/**
 * @module test/live/browser
 * The viewer page in real Chromium: ffmpeg publishes a test pattern, the page (hls.js, LL-HLS)
 * plays it — the video's currentTime advances — and shows the live viewer count, which moves
 * when a second viewer opens the stream's event door. Also prints the page's first-frame time
 * and hls.js's latency estimate (timing targets are measured in `npm run bench -- live`).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { build } from 'vite';
import type { Browser } from 'playwright-core';
import { RawClient } from '../helpers/server.js';
import { launchChromium, publish, startLive, waitFor, type LiveTestServer } from './harness.js';

const ROOT = new URL('../../', import.meta.url).pathname;
let live: LiveTestServer;
let browser: Browser;

before(async () => {
  // Builds only the live page into dist/web, as `npm run build` would place it.
  await build({
    configFile: false,
    root: `${ROOT}web`,
    base: '/',
    logLevel: 'warn',
    build: { outDir: `${ROOT}dist/web`, emptyOutDir: false, target: 'es2022', rollupOptions: { input: { live: `${ROOT}web/live/index.html` } } },
  });
  live = await startLive();
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await live?.server.close();
});

test('Chromium plays the live stream with hls.js and shows the viewer count moving', { timeout: 120_000 }, async () => {
  const key = await live.api<{ id: string; key: string }>('POST', '/api/v1/streams/keys', { label: 'browser' });
  const ffmpeg = publish(live.rtmpUrl(key.body.key), 25);
  const id = await waitFor('ACTIVE', () => live.service.liveStreamOfKey(key.body.id) ?? undefined, 20_000);
  await waitFor('two segments', () => (live.service.broadcastOf(id)?.segmenter.segments.length ?? 0) >= 2, 20_000);

  const page = await browser.newPage();
  const supported = await page.evaluate(() => MediaSource.isTypeSupported('video/mp4; codecs="avc1.64001e,mp4a.40.2"'));
  assert.ok(supported, 'this Chromium decodes H.264 + AAC through MSE');
  await page.goto(`${live.server.url}/live/#/watch/${id}`);
  const playing = await waitFor('video currentTime > 2 s', async () => {
    const s = await page.evaluate(() => window.__liveStats);
    return s && s.currentTime > 2 ? s : undefined;
  }, 30_000, 250);
  const t1 = playing.currentTime;
  await new Promise((r) => setTimeout(r, 2000));
  const later = await page.evaluate(() => window.__liveStats!);
  assert.ok(later.currentTime > t1 + 1, `currentTime advanced ${t1.toFixed(2)} → ${later.currentTime.toFixed(2)}`);
  assert.equal(later.status, 'ACTIVE');
  assert.equal(await page.textContent('#viewers'), '1', 'the page counts itself once (WebSocket and playlist share its viewer id)');

  const other = await RawClient.open(live.server.wsUrl.replace('/ws', `/api/v1/streams/${id}/ws`));
  await waitFor('count 2 on the page', async () => (await page.textContent('#viewers')) === '2', 2000, 20);
  other.ws.close();
  await waitFor('count back to 1', async () => (await page.textContent('#viewers')) === '1', 2000, 20);
  console.log(`# first frame ${later.firstFrameMs?.toFixed(0)} ms after navigation; hls.js latency estimate ${later.latencyS?.toFixed(2)} s`);
  ffmpeg.kill('SIGINT');
  await ffmpeg.exited;
});
