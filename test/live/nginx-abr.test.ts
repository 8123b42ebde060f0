/**
 * @module test/live/nginx-abr
 * The ABR ladder for a stream nginx-rtmp ingests: ffmpeg publishes to a real nginx-rtmp
 * (ops/nginx-rtmp/nginx.conf), nginx asks the app and relays the media under the stream id to the
 * app's listener, and the app's ladder (240p here) transcodes the relayed source exactly as it
 * does for an embedded publish → the master playlist lists the source and the rendition → the
 * rendition's init + segment decode at 240 lines → the publisher stops and the stream completes.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Parser } from 'm3u8-parser';
import { parseLadder } from '../../src/apps/live/abr/ladder.js';
import { bytes, probe, publish, startLive, waitFor, type LiveTestServer } from './harness.js';
import { productionConf, startNginxRtmp, type NginxRtmp } from './nginx-rtmp.js';

let live: LiveTestServer;
let nginx: NginxRtmp;
const dir = mkdtempSync(join(tmpdir(), 'airwaves-nginx-abr-'));

before(async () => {
  live = await startLive({ abr: { specs: parseLadder('240:300'), preset: 'ultrafast' } });
  nginx = await startNginxRtmp(productionConf(live.server.url, live.rtmpPort));
});

after(async () => {
  await nginx?.stop();
  await live?.server.close();
  rmSync(dir, { recursive: true, force: true });
});

test('a stream ingested by nginx-rtmp gets the ABR ladder: master playlist, decodable 240p rendition', { timeout: 150_000 }, async () => {
  const key = await live.api<{ id: string; key: string }>('POST', '/api/v1/streams/keys', { label: 'abr via nginx' });
  const ffmpeg = publish(nginx.rtmpUrl(key.body.key), 40);
  let id = '';
  try {
    id = await waitFor('ACTIVE via nginx', () => live.service.liveStreamOfKey(key.body.id) ?? undefined, 30_000);
    const s = await live.api<{ ingest: string }>('GET', `/api/v1/streams/${id}`);
    assert.equal(s.body.ingest, 'nginx');
    const base = `${live.server.url}/api/v1/streams/${id}/media`;
    const variants = await waitFor('two variants', async () => {
      const p = new Parser();
      p.push(await (await fetch(`${base}/master.m3u8`)).text());
      p.end();
      return (p.manifest.playlists?.length ?? 0) === 2 ? p.manifest.playlists! : undefined;
    }, 90_000, 250);
    assert.deepEqual(variants.map((v) => v.uri), ['index.m3u8', '240p/index.m3u8']);
    assert.deepEqual(variants.map((v) => v.attributes.RESOLUTION?.height), [360, 240]);

    const plain = new Parser();
    plain.push(await (await fetch(`${base}/240p/plain.m3u8`)).text());
    plain.end();
    const seg = plain.manifest.segments[0];
    assert.ok(seg, 'the 240p rendition lists a segment');
    const probed = await probe(dir, 'r240.mp4', await bytes(`${base}/240p/init.mp4`), await bytes(`${base}/240p/${seg.uri}`));
    assert.equal(probed.height, 240);
    assert.ok(probed.frames >= 10, `${probed.frames} frames decode`);
  } finally {
    ffmpeg.kill('SIGINT');
    await ffmpeg.exited;
  }
  // SIGINT ends ffmpeg's publish cleanly: nginx's publish_done completes the stream.
  await waitFor('COMPLETED', async () => (await live.api<{ status: string }>('GET', `/api/v1/streams/${id}`)).body.status === 'COMPLETED', 30_000, 250);
});
