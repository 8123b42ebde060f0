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
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { publish, startLive, waitFor, type LiveTestServer } from './harness.js';

let live: LiveTestServer;
let nginx: ChildProcess;
let rtmpPort = 0;
let httpPort = 0;
const prefix = mkdtempSync(join(tmpdir(), 'airwaves-nginx-'));

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

before(async () => {
  live = await startLive({}, { liveRtmpEnabled: false });
  [rtmpPort, httpPort] = [await freePort(), await freePort()];
  const apiPort = new URL(live.server.url).port;
  const conf = readFileSync('ops/nginx-rtmp/nginx.conf', 'utf8')
    .replace('listen 1935;', `listen 127.0.0.1:${rtmpPort};`)
    .replace('listen 8088;', `listen 127.0.0.1:${httpPort};`)
    .replaceAll('http://127.0.0.1:8080/', `http://127.0.0.1:${apiPort}/`)
    .replace('hls_path /var/lib/airwaves-nginx/hls;', `hls_path ${join(prefix, 'hls')};`)
    .replace('error_log logs/error.log warn;', `error_log ${join(prefix, 'logs', 'error.log')} info;\ndaemon off;`);
  // nginx's workers run as an unprivileged user: they read the prefix and write the HLS files.
  chmodSync(prefix, 0o755);
  mkdirSync(join(prefix, 'logs'));
  mkdirSync(join(prefix, 'hls'));
  chmodSync(join(prefix, 'hls'), 0o777);
  writeFileSync(join(prefix, 'nginx.conf'), conf);
  nginx = spawn('nginx', ['-p', prefix, '-c', join(prefix, 'nginx.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  nginx.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  await waitFor('nginx listening', async () => {
    if (nginx.exitCode !== null) throw new Error(`nginx exited: ${err}`);
    return fetch(`http://127.0.0.1:${httpPort}/hls/none.m3u8`).then((r) => r.status > 0, () => false);
  }, 10_000);
});

after(async () => {
  nginx?.kill('SIGTERM');
  await new Promise((r) => (nginx?.exitCode !== null ? r(null) : nginx.once('exit', r)));
  await live.server.close();
  rmSync(prefix, { recursive: true, force: true });
});

test('nginx-rtmp asks the app: a good key goes live under its stream id and completes; a bad key is refused', { timeout: 90_000 }, async () => {
  const key = await live.api<{ id: string; key: string }>('POST', '/api/v1/streams/keys', { label: 'via nginx' });
  const ffmpeg = publish(`rtmp://127.0.0.1:${rtmpPort}/live/${key.body.key}`, 8);
  const streamId = await waitFor('ACTIVE via nginx', () => live.service.liveStreamOfKey(key.body.id) ?? undefined, 20_000);
  const s = await live.api<{ status: string; ingest: string }>('GET', `/api/v1/streams/${streamId}`);
  assert.equal(s.body.status, 'ACTIVE');
  assert.equal(s.body.ingest, 'nginx');

  // Media flows through nginx (its HLS writer produces segments), and nginx applied the app's
  // redirect to the stream id. nginx-rtmp's HLS writer still names files by the original publish
  // name (the key), which is why ops/nginx-rtmp/nginx.conf keeps that directory off HTTP.
  await waitFor('nginx HLS segments', () => readdirSync(join(prefix, 'hls')).filter((f) => f.endsWith('.ts')).length >= 2, 20_000);
  assert.match(readFileSync(join(prefix, 'logs', 'error.log'), 'utf8'), new RegExp(`notify: publish redirect to '${streamId}'`));
  const served = await fetch(`http://127.0.0.1:${httpPort}/hls/${key.body.key}.m3u8`);
  assert.equal(served.status, 404, 'nothing named by a key is served over HTTP');

  assert.equal(await ffmpeg.exited, 0);
  const done = await waitFor('COMPLETED', async () => {
    const r = await live.api<{ status: string; durationMs: number }>('GET', `/api/v1/streams/${streamId}`);
    return r.body.status === 'COMPLETED' ? r.body : undefined;
  });
  assert.ok(done.durationMs > 4000, `duration ${done.durationMs} ms`);

  const bad = publish(`rtmp://127.0.0.1:${rtmpPort}/live/live_wrong-key`, 3);
  assert.notEqual(await bad.exited, 0, 'nginx refuses the publish the app refused');
  const metrics = await fetch(`${live.server.url}/metrics`).then((r) => r.text());
  assert.match(metrics, /live_rtmp_rejected_total\{reason="bad_key"\} 1/);
  assert.ok(!existsSync(join(prefix, 'hls', 'live_wrong-key.m3u8')));
});
