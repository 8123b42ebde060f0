/**
 * @module test/live/nginx
 * The production ingest path with a real nginx-rtmp (ops/nginx-rtmp/nginx.conf, ports and paths
 * rewritten to a temporary prefix): ffmpeg publishes to nginx, nginx asks the live app, the
 * stream goes ACTIVE with ingest "nginx", nginx applies the app's 302 rename to the stream id,
 * media flows (nginx's HLS writer produces segments, kept off HTTP) and is pushed under the
 * stream id to the app's own listener, which packages it: Chromium plays the LL-HLS playlist of
 * the nginx-ingested stream (hls.js, currentTime advances). The publisher stops → COMPLETED. A bad
 * key is refused by nginx because the app said 403, and counted; a relay publish under an id that
 * is not a live nginx-ingested stream is refused.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { launchChromium, publish, startLive, waitFor, type LiveTestServer } from './harness.js';
import { productionConf, startNginxRtmp, type NginxRtmp } from './nginx-rtmp.js';

let live: LiveTestServer;
let nginx: NginxRtmp;

before(async () => {
  live = await startLive();
  nginx = await startNginxRtmp(productionConf(live.server.url, live.rtmpPort));
});

after(async () => {
  await nginx?.stop();
  await live.server.close();
});

test('nginx-rtmp asks the app: a good key goes live under its stream id and completes; a bad key is refused', { timeout: 90_000 }, async () => {
  const key = await live.api<{ id: string; key: string }>('POST', '/api/v1/streams/keys', { label: 'via nginx' });
  const ffmpeg = publish(nginx.rtmpUrl(key.body.key), 25);
  const streamId = await waitFor('ACTIVE via nginx', () => live.service.liveStreamOfKey(key.body.id) ?? undefined, 20_000);
  const s = await live.api<{ status: string; ingest: string }>('GET', `/api/v1/streams/${streamId}`);
  assert.equal(s.body.status, 'ACTIVE');
  assert.equal(s.body.ingest, 'nginx');

  // Media flows through nginx (its HLS writer produces segments), and nginx applied the app's
  // redirect to the stream id. nginx-rtmp's HLS writer still names files by the original publish
  // name (the key), which is why ops/nginx-rtmp/nginx.conf keeps that directory off HTTP.
  await waitFor('nginx HLS segments', () => readdirSync(nginx.hlsDir).filter((f) => f.endsWith('.ts')).length >= 2, 20_000);
  assert.match(readFileSync(join(nginx.prefix, 'logs', 'error.log'), 'utf8'), new RegExp(`notify: publish redirect to '${streamId}'`));
  const served = await fetch(`http://127.0.0.1:${nginx.httpPort}/hls/${key.body.key}.m3u8`);
  assert.equal(served.status, 404, 'nothing named by a key is served over HTTP');

  // nginx pushes the stream, under its id, to the app's listener: playback goes through the app.
  await waitFor('relayed segments', () => (live.service.broadcastOf(streamId)?.segmenter.segments.length ?? 0) >= 2, 30_000);
  const played = await playInChromium(`${live.server.url}/api/v1/streams/${streamId}/media/index.m3u8`, live.server.url);
  assert.ok(played.later > played.first + 1, `Chromium played the nginx-ingested stream: currentTime ${played.first.toFixed(2)} → ${played.later.toFixed(2)}`);

  assert.equal(await ffmpeg.exited, 0);
  const done = await waitFor('COMPLETED', async () => {
    const r = await live.api<{ status: string; durationMs: number }>('GET', `/api/v1/streams/${streamId}`);
    return r.body.status === 'COMPLETED' ? r.body : undefined;
  });
  assert.ok(done.durationMs > 4000, `duration ${done.durationMs} ms`);

  const bad = publish(nginx.rtmpUrl('live_wrong-key'), 3);
  assert.notEqual(await bad.exited, 0, 'nginx refuses the publish the app refused');
  const metrics = await fetch(`${live.server.url}/metrics`).then((r) => r.text());
  assert.match(metrics, /live_rtmp_rejected_total\{reason="bad_key"\} 1/);
  assert.ok(!existsSync(join(nginx.hlsDir, 'live_wrong-key.m3u8')));
});

test('a relay publish under an id that is not a live nginx-ingested stream is refused', { timeout: 60_000 }, async () => {
  const bogus = publish(live.rtmpUrl('00000000-0000-4000-8000-000000000000'), 3);
  assert.notEqual(await bogus.exited, 0);
  const metrics = await fetch(`${live.server.url}/metrics`).then((r) => r.text());
  assert.match(metrics, /live_rtmp_rejected_total\{reason="bad_relay"\} 1/);
});

const require = createRequire(import.meta.url);

/** hls.js in Chromium on `origin` (same origin as the media): currentTime once past 1 s, and 2 s later. */
async function playInChromium(url: string, origin: string): Promise<{ first: number; later: number }> {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.route(`${origin}/__play`, (route) => route.fulfill({ contentType: 'text/html', body: '<!doctype html><html><body><video muted autoplay playsinline></video></body></html>' }));
    await page.goto(`${origin}/__play`);
    await page.addScriptTag({ path: require.resolve('hls.js/dist/hls.min.js') });
    await page.evaluate((src) => {
      const Hls = (window as unknown as { Hls: new (c: object) => { loadSource(u: string): void; attachMedia(v: HTMLVideoElement): void } }).Hls;
      const hls = new Hls({ lowLatencyMode: true });
      hls.loadSource(src);
      hls.attachMedia(document.querySelector('video')!);
    }, url);
    const currentTime = () => page.evaluate(() => document.querySelector('video')!.currentTime);
    const first = await waitFor('currentTime > 1 s', async () => {
      const t = await currentTime();
      return t > 1 ? t : undefined;
    }, 40_000, 250);
    await new Promise((r) => setTimeout(r, 2000));
    return { first, later: await currentTime() };
  } finally {
    await browser.close();
  }
}
