/**
 * @module test/live/front-door
 * The playback front door (apps/live/media/front-door) answers exactly as the Fastify routes do:
 * for every kind of playback file and error, the same status, headers (security headers
 * included) and bytes, whichever door answered, from the first request on; what it does not take
 * (percent-encoded query, another method) goes to Fastify. Held requests
 * (apps/live/media/segmenter `wait`): many viewers of the same next part are answered together
 * with the same bytes, playlists before parts, and a wait that nothing ends times out.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { frontDoorOf } from '../../src/apps/live/media/front-door.js';
import { SECURITY_HEADERS } from '../../src/http/instance.js';
import { Segmenter } from '../../src/apps/live/media/segmenter.js';
import { answerPlayback, type PlaybackAnswer } from '../../src/apps/live/media/playback.js';
import { Broadcast } from '../../src/apps/live/broadcast.js';
import { publish, startLive, waitFor, type LiveTestServer } from './harness.js';

let live: LiveTestServer;

before(async () => {
  live = await startLive({ partTargetMs: 250, segmentTargetMs: 1000 });
});
after(async () => {
  await live.server.close();
});

const door = () => frontDoorOf(live.server.http.server as Server)!;
/** Headers that differ between any two answers (time, connection). */
const VOLATILE = new Set(['date', 'keep-alive', 'connection']);

async function fetchBoth(path: string, init: RequestInit = {}) {
  const read = async (url: string) => {
    const res = await fetch(url, init);
    const headers = Object.fromEntries([...res.headers].filter(([k]) => !VOLATILE.has(k)));
    return { status: res.status, headers, body: Buffer.from(await res.arrayBuffer()) };
  };
  const before = { answered: door().answered, passed: door().passed };
  const fast = await read(live.server.url + path);
  assert.equal(door().answered, before.answered + 1, `the door answered ${path}`);
  // A percent-encoded query value (an unknown key) is left to Fastify.
  const slow = await read(live.server.url + path + (path.includes('?') ? '&' : '?') + 'x=%41');
  assert.equal(door().answered, before.answered + 1, `Fastify answered ${path}?…x=%41`);
  assert.ok(door().passed >= before.passed + 1);
  return { fast, slow };
}

test('both doors answer every playback file and error alike; held viewers of one part get it together', { timeout: 60_000 }, async () => {
  const created = await live.api<{ key: string }>('POST', '/api/v1/streams/keys', { label: 'door', owner: 'alice' });
  const ffmpeg = publish(live.rtmpUrl(created.body.key), 30);
  try {
    const id = await waitFor('live', async () => (await live.api<{ streams: { id: string }[] }>('GET', '/api/v1/streams')).body.streams[0]?.id);
    const seg = () => live.service.broadcastOf(id)!.segmenter;
    await waitFor('two segments', () => (live.service.broadcastOf(id)?.segmenter.segments.length ?? 0) >= 2, 20_000);
    const base = `/api/v1/streams/${id}/media`;

    // The very first playback request is the door's, with the server-wide security headers already
    // (http/instance SECURITY_HEADERS), identical to what Fastify answers for the same file.
    assert.equal(door().answered, 0);
    const first = await fetchBoth(`${base}/init.mp4`);
    assert.equal(first.fast.status, 200);
    assert.deepEqual(first.fast.headers, first.slow.headers, 'the first answer: the same headers from both doors');
    assert.ok(first.fast.body.equals(first.slow.body), 'the first answer: the same bytes from both doors');
    for (let i = 0; i < SECURITY_HEADERS.length; i += 2) assert.equal(first.fast.headers[SECURITY_HEADERS[i]!], SECURITY_HEADERS[i + 1], `the first answer carries ${SECURITY_HEADERS[i]}`);
    assert.ok(SECURITY_HEADERS.includes('content-security-policy') && SECURITY_HEADERS.includes('x-content-type-options'), 'helmet\'s headers were recorded');
    // Any other route (Fastify's hook) carries the same list.
    const health = await fetch(`${live.server.url}/healthz`);
    for (let i = 0; i < SECURITY_HEADERS.length; i += 2) assert.equal(health.headers.get(SECURITY_HEADERS[i]!), SECURITY_HEADERS[i + 1], `/healthz carries ${SECURITY_HEADERS[i]}`);

    // Many viewers hold the same blocking reload and the hinted part: one answer each, same bytes.
    const next = seg().nextPart;
    const viewers = 40;
    const held = await Promise.all(
      Array.from({ length: viewers }, async (_, i) => {
        const [list, part] = await Promise.all([
          fetch(`${live.server.url}${base}/index.m3u8?_HLS_msn=${next.msn}&_HLS_part=${next.index}&viewer=held${i}`).then(async (r) => ({ status: r.status, at: performance.now(), body: await r.text() })),
          fetch(`${live.server.url}${base}/seg-${next.msn}.${next.index}.m4s`).then(async (r) => ({ status: r.status, at: performance.now(), body: Buffer.from(await r.arrayBuffer()) })),
        ]);
        return { list, part };
      }),
    );
    for (const h of held) {
      assert.equal(h.list.status, 200);
      assert.equal(h.part.status, 200);
      assert.ok(h.list.body.includes(`seg-${next.msn}.${next.index}.m4s`), 'the blocked playlist lists the part');
      assert.ok(h.part.body.equals(held[0]!.part.body), 'every held viewer gets the same part bytes');
    }
    assert.equal(seg().waiterCount, 0, 'no request is left waiting');

    // Then the stream ends: every file is stable, and both doors must give the same answer.
    ffmpeg.kill('SIGINT');
    await ffmpeg.exited;
    await waitFor('ended', () => live.service.broadcastOf(id)?.segmenter.ended);
    const s = seg();
    const last = s.segments.at(-1)!;
    const etag = (await fetch(`${live.server.url}${base}/index.m3u8?viewer=door`)).headers.get('etag')!;
    const cases: [string, number, RequestInit?][] = [
      [`${base}/index.m3u8?viewer=door`, 200],
      [`${base}/index.m3u8?viewer=door`, 304, { headers: { 'if-none-match': etag } }],
      [`${base}/index.m3u8?_HLS_msn=${last.msn}&_HLS_part=0&viewer=door`, 200],
      // An empty pair and a repeated key the answer does not read are ignored by both doors.
      [`${base}/index.m3u8?_HLS_msn=${last.msn}&&_HLS_part=0&x=1&x=2&viewer=door`, 200],
      // A part index past what a held request's numeric key holds (it gets a string key).
      [`${base}/index.m3u8?_HLS_msn=${last.msn}&_HLS_part=20000&viewer=door`, 200],
      [`${base}/plain.m3u8?viewer=door`, 200],
      [`${base}/manifest.mpd?viewer=door`, 200],
      [`${base}/master.m3u8?viewer=door`, 200],
      [`${base}/init.mp4`, 200],
      [`${base}/init-v.mp4`, 200],
      [`${base}/seg-${last.msn}.m4s`, 200],
      [`${base}/seg-${last.msn}.0.m4s`, 200],
      [`${base}/a-${last.msn}.m4s`, 200],
      [`${base}/index.m3u8?_HLS_msn=abc&viewer=door`, 400],
      [`${base}/index.m3u8?_HLS_msn=${last.msn + 9}&viewer=door`, 400],
      [`${base}/seg-999999.m4s`, 404],
      [`${base}/v-1.0.m4s`, 404],
      [`${base}/nothing.txt`, 404],
      [`${base}/720p/index.m3u8`, 404],
      [`/api/v1/streams/00000000-0000-4000-8000-000000000000/media/index.m3u8`, 404],
    ];
    for (const [path, status, init] of cases) {
      const { fast, slow } = await fetchBoth(path, init);
      assert.equal(fast.status, status, `${path}: ${fast.body.toString().slice(0, 200)}`);
      assert.equal(slow.status, status, path);
      assert.deepEqual(fast.headers, slow.headers, `${path}: the same headers from both doors`);
      // The DASH manifest names the moment it was made (publishTime, UTCTiming): the rest must match.
      const clockless = (b: Buffer) => b.toString('latin1').replace(/"\d{4}-\d\d-\d\dT[\d:.]+Z"/g, '"T"');
      assert.equal(clockless(fast.body), clockless(slow.body), `${path}: the same bytes from both doors`);
      assert.equal(fast.headers['x-content-type-options'], 'nosniff', `${path}: security headers`);
    }

    // What the door does not take goes to Fastify, which validates it as before.
    const passed = door().passed;
    assert.equal((await fetch(`${live.server.url}${base}/index.m3u8`, { method: 'HEAD' })).status, 200);
    assert.equal((await fetch(`${live.server.url}${base}/index.m3u8?_HLS_msn=1&_HLS_msn=2`)).status, 400, 'a repeated key is an array in Fastify: a bad request');
    assert.equal((await fetch(`${live.server.url}${base}/index.m3u8?_HLS_part=0&_HLS_msn=1&_HLS_part=1`)).status, 400, 'a repeated _HLS_part, apart');
    assert.equal((await fetch(`${live.server.url}${base}/index.m3u8?viewer=a&viewer=b`)).status, 200, 'a repeated viewer goes to Fastify too (an anonymous viewer there)');
    const badId = await fetch(`${live.server.url}/api/v1/streams/not-a-uuid/media/index.m3u8`);
    assert.equal(badId.status, 400);
    assert.equal(door().passed, passed + 5);
  } finally {
    ffmpeg.kill('SIGKILL');
  }
});

test('held requests: one readiness check per key, early (playlist) waiters first, a timeout for what never comes', async () => {
  const seg = new Segmenter({ partTargetMs: 250, segmentTargetMs: 1000, windowSegments: 4 });
  const order: string[] = [];
  let checks = 0;
  const ready = () => (checks++, seg.ended);
  for (let i = 0; i < 3; i++) seg.wait('part:0.0', ready, 10_000, (ok) => order.push(`part${i}:${ok}`));
  for (let i = 0; i < 3; i++) seg.wait('pl:0.0', ready, 10_000, (ok) => order.push(`pl${i}:${ok}`), true);
  assert.equal(seg.waiterCount, 6);
  let timedOut: boolean | null = null;
  const t0 = Date.now();
  seg.wait('pl:5.0', () => false, 150, (ok) => (timedOut = ok), true);
  await waitFor('timeout', () => timedOut !== null, 2000, 10);
  assert.equal(timedOut, false);
  assert.ok(Date.now() - t0 >= 150, 'not before its time');
  assert.equal(order.length, 0, 'the others still wait');
  checks = 0;
  seg.finish();
  assert.equal(checks, 2, 'readiness asked once per key, not per waiter');
  assert.deepEqual(order, ['pl0:true', 'pl1:true', 'pl2:true', 'part0:true', 'part1:true', 'part2:true']);
  assert.equal(seg.waiterCount, 0);
});

test('a part records the held requests it released and the server time answering them (the bench reads it)', () => {
  const seg = new Segmenter({ partTargetMs: 250, segmentTargetMs: 1000, windowSegments: 4 });
  seg.video = { avcC: Buffer.from([1, 0x64, 0, 0x1f, 0xff, 0xe1, 0, 0]), width: 64, height: 36 };
  const answered: string[] = [];
  const ready = () => Boolean(seg.findPart(0, 0));
  for (let i = 0; i < 3; i++) seg.wait('pl:0.0', ready, 10_000, () => answered.push(`pl${i}`), true);
  for (let i = 0; i < 2; i++) seg.wait('part:0.0', ready, 10_000, () => answered.push(`part${i}`));
  const frame = Buffer.alloc(100);
  let dts = 0;
  while (!seg.findPart(0, 0)) seg.pushVideo((dts += 33), 0, dts === 33, frame);
  assert.deepEqual(answered, ['pl0', 'pl1', 'pl2', 'part0', 'part1']);
  const released = seg.findPart(0, 0)!.released;
  assert.ok(released, 'the part that released them records it');
  assert.equal(released.early, 3, 'the blocking playlists');
  assert.equal(released.all, 5, 'every held request');
  assert.ok(released.earlyMs >= 0 && released.earlyMs <= released.allMs, `playlists answered first: ${released.earlyMs} ≤ ${released.allMs} ms`);
  // A part nobody waited for records nothing.
  while (!seg.findPart(0, 1)) seg.pushVideo((dts += 33), 0, false, frame);
  assert.equal(seg.findPart(0, 1)!.released, undefined);
  seg.finish();
});

test('every viewer of a part gets one shared answer; a broadcast\'s manifest info is built once per part', () => {
  const media = new Broadcast({ partTargetMs: 250, segmentTargetMs: 1000, windowSegments: 4, onEnd: () => {} });
  const seg = media.segmenter;
  seg.video = { avcC: Buffer.from([1, 0x64, 0, 0x1f, 0xff, 0xe1, 0, 0]), width: 64, height: 36 };
  const frame = Buffer.alloc(100, 7);
  let dts = 0;
  seg.pushVideo((dts += 33), 0, true, frame);
  const beforePart = media.manifestInfo;
  assert.equal(media.manifestInfo, beforePart, 'the same object until a part is written');
  while (!seg.findPart(0, 0)) seg.pushVideo((dts += 33), 0, false, frame);
  const info = media.manifestInfo;
  assert.notEqual(info, beforePart, 'a new part: built again (the bitrate moves with the parts)');
  assert.equal(media.manifestInfo, info);
  const ask = (file: string): PlaybackAnswer => {
    let answer: PlaybackAnswer | null = null;
    answerPlayback({ seg, info: media.manifestInfo, variants: null }, { file, msn: undefined, part: undefined, viewer: undefined, ifNoneMatch: undefined }, (a) => (answer = a));
    return answer!;
  };
  const [a, b] = [ask('seg-0.0.m4s'), ask('seg-0.0.m4s')];
  assert.equal(a.status, 200);
  assert.ok(a.body!.equals(seg.findPart(0, 0)!.data), 'the part\'s bytes');
  assert.equal(a.headers, b.headers, 'one headers object for every viewer of the part');
  assert.equal(a.shared, true, 'marked shared: the front door keeps its flat headers');
  assert.equal(a.headers['content-length'], String(seg.findPart(0, 0)!.data.length));
  assert.equal(typeof a.hold, 'function', 'each answer still holds the part\'s memory while it is sent');
  seg.finish();
});
