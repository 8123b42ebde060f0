/**
 * @module test/live/broadcast
 * The whole path with real parts: ffmpeg publishes a test pattern over RTMP to the embedded
 * listener → the stream goes ACTIVE in the database → the LL-HLS playlist, the plain HLS
 * playlist and the DASH manifest parse with the expected durations → segments and parts decode
 * with ffprobe → WebSocket viewers (through the stream's event door) get viewer_count_changed
 * → the publisher stops → COMPLETED with a duration and the peak viewers, and a history.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Parser } from 'm3u8-parser';
import { parse as parseMpd } from 'mpd-parser';
import { RawClient } from '../helpers/server.js';
import { publish, run, startLive, waitFor, type LiveTestServer } from './harness.js';

let live: LiveTestServer;
const dir = mkdtempSync(join(tmpdir(), 'airwaves-live-'));

before(async () => {
  live = await startLive({ partTargetMs: 250, segmentTargetMs: 1000 });
});
after(async () => {
  await live.server.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The next viewer_count_changed push to `client` after this call (not one it already had) with `viewers`. */
function countReaches(client: RawClient, viewers: number, timeoutMs = 2000): Promise<unknown> {
  const from = client.pushes.length;
  return waitFor(`viewer count ${viewers}`, () => client.pushes.slice(from).find((f) => (f.data as { type?: string } | undefined)?.type === 'viewer_count_changed' && (f.data as { viewers: number }).viewers === viewers), timeoutMs, 10);
}

/** Every playlist request of the test itself is one viewer ("probe"). */
async function get(path: string): Promise<{ status: number; type: string | null; cache: string | null; nosniff: string | null; csp: string | null; etag: string | null; bytes: Buffer; ms: number }> {
  const t0 = performance.now();
  const res = await fetch(live.server.url + path + (path.includes('.m3u8') || path.includes('.mpd') ? `${path.includes('?') ? '&' : '?'}viewer=probe` : ''));
  const bytes = Buffer.from(await res.arrayBuffer());
  return { status: res.status, type: res.headers.get('content-type'), cache: res.headers.get('cache-control'), nosniff: res.headers.get('x-content-type-options'), csp: res.headers.get('content-security-policy'), etag: res.headers.get('etag'), bytes, ms: performance.now() - t0 };
}

async function probeFrames(name: string, ...parts: Buffer[]): Promise<{ video: number; audio: number; width: number }> {
  const file = join(dir, name);
  writeFileSync(file, Buffer.concat(parts));
  const r = await run('ffprobe', ['-v', 'error', '-count_frames', '-show_entries', 'stream=codec_type,width,nb_read_frames', '-of', 'json', file]);
  assert.equal(r.code, 0, r.stderr);
  const streams = (JSON.parse(r.stdout) as { streams: { codec_type: string; width?: number; nb_read_frames?: string }[] }).streams;
  const v = streams.find((s) => s.codec_type === 'video');
  const a = streams.find((s) => s.codec_type === 'audio');
  return { video: Number(v?.nb_read_frames ?? 0), audio: Number(a?.nb_read_frames ?? 0), width: v?.width ?? 0 };
}

test('a published test pattern goes live, plays as LL-HLS, HLS and DASH, counts its viewers and completes', { timeout: 90_000 }, async () => {
  const created = await live.api<{ id: string; key: string; prefix: string }>('POST', '/api/v1/streams/keys', { label: 'test pattern', owner: 'alice' });
  assert.equal(created.status, 201);
  assert.match(created.body.key, /^live_[A-Za-z0-9_-]{43}$/);
  const scheduled = await live.api<{ id: string; status: string }>('POST', '/api/v1/streams', { title: 'Test pattern', keyId: created.body.id });
  assert.equal(scheduled.status, 201);
  assert.equal(scheduled.body.status, 'PENDING');
  const id = scheduled.body.id;

  const ffmpeg = publish(live.rtmpUrl(created.body.key), 12);
  let ffmpegErr = '';
  ffmpeg.stderr.on('data', (d: Buffer) => (ffmpegErr += d.toString()));

  const active = await waitFor('ACTIVE', async () => {
    const s = await live.api<{ status: string; startedAt: string | null }>('GET', `/api/v1/streams/${id}`);
    return s.body.status === 'ACTIVE' ? s.body : undefined;
  });
  assert.ok(active.startedAt);
  const listed = await live.api<{ streams: { id: string }[] }>('GET', '/api/v1/streams');
  assert.ok(listed.body.streams.some((s) => s.id === id), 'the active list shows the stream');

  // Two WebSocket viewers through the event door; each must see the count reach 2.
  const t0 = Date.now();
  const viewers = await Promise.all([RawClient.open(live.server.wsUrl.replace('/ws', `/api/v1/streams/${id}/ws`)), RawClient.open(live.server.wsUrl.replace('/ws', `/api/v1/streams/${id}/ws`))]);
  for (const v of viewers) {
    const push = await v.waitPush((f) => (f.data as { type?: string; viewers?: number } | undefined)?.type === 'viewer_count_changed' && (f.data as { viewers: number }).viewers >= 2, 2000);
    assert.equal((push.data as { streamId: string }).streamId, id);
  }
  assert.ok(Date.now() - t0 < 2000, `viewer count arrived in ${Date.now() - t0} ms`);

  // Wait for three complete segments, then read the playlists.
  await waitFor('three segments', () => (live.service.broadcastOf(id)?.segmenter.segments.length ?? 0) >= 3, 20_000);
  const probeCounted = countReaches(viewers[0]!, 3);
  const ll = await get(`/api/v1/streams/${id}/media/index.m3u8`);
  await probeCounted;
  assert.equal(ll.status, 200);
  assert.equal(ll.type, 'application/vnd.apple.mpegurl');
  assert.equal(ll.cache, 'public, max-age=1');
  assert.equal(ll.nosniff, 'nosniff', 'media answers carry the security headers');
  assert.equal(ll.csp?.startsWith("default-src 'self'"), true, 'the same headers as every route (helmet no longer bypassed)');
  // The same state revalidated: 304 without a body; the ETag names this version only.
  const etag = ll.etag;
  assert.match(etag ?? '', /^"[^"]+"$/);
  const again = await fetch(`${live.server.url}/api/v1/streams/${id}/media/index.m3u8?viewer=probe`, { headers: { 'if-none-match': etag! } });
  const againBody = Buffer.from(await again.arrayBuffer());
  assert.ok(again.status === 304 ? againBody.length === 0 : again.headers.get('etag') !== etag, `revalidation answered ${again.status} with ETag ${again.headers.get('etag')} (sent ${etag})`);
  const p = new Parser();
  p.push(ll.bytes.toString());
  p.end();
  const m = p.manifest;
  assert.equal(m.targetDuration, 1);
  assert.equal(m.partTargetDuration, 0.25);
  assert.equal(m.serverControl?.canBlockReload, true);
  assert.equal(m.serverControl?.partHoldBack, 0.75);
  assert.ok(m.segments.length >= 3);
  for (const s of m.segments) assert.ok(s.duration > 0.9 && s.duration < 1.1, `segment of ${s.duration} s`);
  const withParts = m.segments.filter((s) => s.parts?.length);
  assert.ok(withParts.length >= 1, 'recent segments list their parts');
  for (const s of withParts) for (const part of s.parts!) assert.ok(part.duration <= 0.25 + 1e-9, `part of ${part.duration} s exceeds PART-TARGET`);
  const hints = m.preloadSegment?.preloadHints ?? [];
  assert.equal(hints[0]?.type, 'PART');

  // Blocking reload: ask for the part after the hint's; the answer comes once it exists.
  const hint = /seg-(\d+)\.(\d+)\.m4s/.exec(hints[0]!.uri)!;
  const blocked = await get(`/api/v1/streams/${id}/media/index.m3u8?_HLS_msn=${hint[1]}&_HLS_part=${hint[2]}`);
  assert.equal(blocked.status, 200);
  assert.ok(blocked.bytes.toString().includes(`seg-${hint[1]}.${hint[2]}.m4s`), 'the blocked playlist lists the part it waited for');
  assert.ok(blocked.ms < 1500, `blocking reload took ${blocked.ms.toFixed(0)} ms`);
  assert.notEqual(blocked.etag, etag, 'a newer playlist has a new ETag');
  const stale = await fetch(`${live.server.url}/api/v1/streams/${id}/media/index.m3u8?viewer=probe`, { headers: { 'if-none-match': etag! } });
  assert.equal(stale.status, 200, 'an old ETag gets the current playlist');
  assert.ok((await stale.text()).includes(`seg-${hint[1]}.${hint[2]}.m4s`));

  // Segments and parts decode; they are immutable.
  const init = await get(`/api/v1/streams/${id}/media/init.mp4`);
  assert.equal(init.type, 'video/mp4');
  const seg = await get(`/api/v1/streams/${id}/media/${m.segments[0]!.uri}`);
  assert.equal(seg.status, 200);
  assert.equal(seg.type, 'video/iso.segment');
  assert.equal(seg.cache, 'public, max-age=31536000, immutable');
  const frames = await probeFrames('seg.mp4', init.bytes, seg.bytes);
  assert.equal(frames.width, 640);
  assert.ok(frames.video >= 29 && frames.video <= 31, `${frames.video} video frames in a 1 s segment`);
  assert.ok(frames.audio >= 40, `${frames.audio} AAC frames in a 1 s segment`);
  const firstPart = withParts[0]!.parts![0]!;
  const part = await get(`/api/v1/streams/${id}/media/${firstPart.uri}`);
  assert.equal(part.status, 200);
  assert.ok(firstPart.independent, 'the first part of a segment starts on a keyframe');
  assert.ok((await probeFrames('part.mp4', init.bytes, part.bytes)).video >= 1);

  // Plain HLS and DASH describe the same media.
  const plain = await get(`/api/v1/streams/${id}/media/plain.m3u8`);
  assert.ok(!plain.bytes.toString().includes('#EXT-X-PART'));
  const mpd = await get(`/api/v1/streams/${id}/media/manifest.mpd`);
  assert.equal(mpd.type, 'application/dash+xml');
  const dash = parseMpd(mpd.bytes.toString(), { manifestUri: `${live.server.url}/api/v1/streams/${id}/media/manifest.mpd` });
  assert.equal(dash.playlists.length, 1);
  assert.ok(dash.playlists[0]!.segments.length >= 3);
  const dv = dash.playlists[0]!.segments[0]!;
  assert.ok(Math.abs(dv.duration - 1) < 0.1, `DASH segment of ${dv.duration} s`);
  const vInit = await fetch(dv.map!.resolvedUri).then((r) => r.arrayBuffer());
  const vSeg = await fetch(dv.resolvedUri).then((r) => r.arrayBuffer());
  assert.ok((await probeFrames('dash.mp4', Buffer.from(vInit), Buffer.from(vSeg))).video >= 29);
  assert.ok(Object.keys(dash.mediaGroups.AUDIO).length >= 1, 'DASH lists an audio adaptation set');

  // Another viewer without a WebSocket counts too (2 WebSocket viewers + the probe + this one).
  const fourth = countReaches(viewers[0]!, 4);
  await fetch(`${live.server.url}/api/v1/streams/${id}/media/index.m3u8?viewer=hls-only-1`);
  await fourth;

  // One viewer leaves: the other sees the count drop.
  const third = countReaches(viewers[0]!, 3);
  viewers[1]!.ws.close();
  await third;

  // The publisher finishes: COMPLETED with a duration and the peak.
  assert.equal(await ffmpeg.exited, 0, ffmpegErr);
  const ended = await viewers[0]!.waitPush((f) => (f.data as { type?: string } | undefined)?.type === 'stream_ended', 10_000);
  assert.equal((ended.data as { status: string }).status, 'COMPLETED');
  const done = await live.api<{ status: string; durationMs: number; peakViewers: number; endedAt: string }>('GET', `/api/v1/streams/${id}`);
  assert.equal(done.body.status, 'COMPLETED');
  // 12 s of media; a starved encoder (load 18 measured 32.6 s) stretches the wall clock, not below.
  assert.ok(done.body.durationMs > 8000 && done.body.durationMs < 90_000, `duration ${done.body.durationMs} ms`);
  assert.equal(done.body.peakViewers, 4);
  const history = await live.api<{ samples: { viewers: number; bitrateKbps: number; fps: number }[] }>('GET', `/api/v1/streams/${id}/metrics`);
  assert.equal(history.status, 200);
  assert.ok(history.body.samples.length >= 5, `${history.body.samples.length} samples`);
  // A starved live encoder (load 30) sends well under 30 fps: assert the fields are filled, not the rate.
  assert.ok(history.body.samples.some((s) => s.bitrateKbps > 50 && s.fps > 5), `samples carry bitrate and frame rate: ${JSON.stringify(history.body.samples.slice(0, 4))}`);
  assert.ok(history.body.samples.some((s) => s.viewers >= 2));
  // The ended playlist says so.
  const last = await get(`/api/v1/streams/${id}/media/index.m3u8`);
  assert.ok(last.bytes.toString().includes('#EXT-X-ENDLIST'));
  const metrics = await fetch(`${live.server.url}/metrics`).then((r) => r.text());
  assert.match(metrics, /live_stream_ends_total\{status="COMPLETED",reason="unpublish"\} 1/);
  assert.match(metrics, /live_active_streams 0/);
  for (const v of viewers) v.ws.close();
});
