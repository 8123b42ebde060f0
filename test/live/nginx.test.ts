/**
 * @module test/live/nginx
 * The production ingest path with a real nginx-rtmp (ops/nginx-rtmp/nginx.conf, ports and paths
 * rewritten to a temporary prefix): ffmpeg publishes to nginx, nginx asks the live app, the
 * stream goes ACTIVE with ingest "nginx", nginx applies the app's 302 rename to the stream id,
 * media flows (nginx's HLS writer produces segments, kept off HTTP), the publisher stops →
 * COMPLETED. A bad key is refused by nginx
 * because the app said 403, and counted.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { publish, startLive, waitFor, type LiveTestServer } from './harness.js';
import { productionConf, startNginxRtmp, type NginxRtmp } from './nginx-rtmp.js';

let live: LiveTestServer;
let nginx: NginxRtmp;

before(async () => {
  live = await startLive({}, { liveRtmpEnabled: false });
  nginx = await startNginxRtmp(productionConf(live.server.url));
});

after(async () => {
  await nginx?.stop();
  await live.server.close();
});

test('nginx-rtmp asks the app: a good key goes live under its stream id and completes; a bad key is refused', { timeout: 90_000 }, async () => {
  const key = await live.api<{ id: string; key: string }>('POST', '/api/v1/streams/keys', { label: 'via nginx' });
  const ffmpeg = publish(nginx.rtmpUrl(key.body.key), 8);
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
