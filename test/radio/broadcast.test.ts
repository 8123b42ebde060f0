/**
 * @module test/radio/broadcast
 * The live station through the real server and hub: many listeners get every chunk in order and
 * on time, a stalled listener delays nobody, new listeners join behind the live edge from the
 * broadcast ring, formats are encoded only while someone listens, Opus decodes, the REST API and
 * player reports work, and the metrics are exposed.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startServer, RawClient, sleep } from '../helpers/server.js';
import { radioApp } from '../../src/apps/radio/index.js';
import { CHUNK_FRAMES, CHUNK_MS, CODEC_OPUS, CODEC_PCM16, pcm16ToPlanar } from '../../src/apps/radio/shared/format.js';
import { Listener, onTimeFraction } from './listener.js';

const require = createRequire(import.meta.url);

async function metric(url: string, line: RegExp): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = text.split('\n').find((l) => line.test(l));
  return m ? Number(m.split(' ').pop()) : NaN;
}

describe('radio broadcast', () => {
  let server: Awaited<ReturnType<typeof startServer>>;

  before(async () => {
    server = await startServer({ radioStations: [{ id: 'calm', seed: 7, mood: 'calm' }] }, { apps: [radioApp] });
    // Let the station settle: the worker is warm before the first chunk is due, but the first
    // second of a freshly started process (module loading, JIT) is its least punctual.
    await sleep(1000);
  });

  after(async () => {
    await server?.close();
  });

  test('20 concurrent listeners get every chunk in order, 99% within 50 ms of schedule; a stalled listener delays none of them', async () => {
    // The stalled listener never reads. For the first seconds the kernel's send buffer (up to 4 MB
    // on loopback) absorbs its share; the hub's drop-oldest policy beyond that is covered by
    // test/hub/slow-consumer.test.ts. Either way the others must not wait for it.
    const stalled = await RawClient.open(server.wsUrl, { paused: true });
    stalled.sendRaw(JSON.stringify({ id: 1, op: 'subscribe', channel: 'radio:calm:pcm' }));
    const listeners = await Promise.all(Array.from({ length: 20 }, () => Listener.open(server.wsUrl)));
    await Promise.all(listeners.map((l) => l.subscribe('radio:calm:pcm')));

    // Windows of 3 s. A window may be retried (at most twice) only when this process itself was
    // descheduled for half the 50 ms budget or more (a shared 2-core machine): the server and the
    // listeners share this event loop, so they stalled together, and the lateness says nothing
    // about the radio. A window missing 99% without such a stall fails at once.
    const windows: { onTime: number; p50: number; p99: number; stallMs: number }[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      const from = listeners.map((l) => l.arrivals.length);
      const loop = monitorEventLoopDelay({ resolution: 5 });
      loop.enable();
      await sleep(3000);
      loop.disable();
      const arrivals = listeners.flatMap((l, i) => l.arrivals.slice(from[i]));
      const lateness = arrivals.map((a) => a.arrivedAt - a.chunk.captureTs).sort((a, b) => a - b);
      const w = { onTime: onTimeFraction(arrivals, 50), p50: lateness[Math.floor(lateness.length / 2)], p99: lateness[Math.floor(lateness.length * 0.99)], stallMs: loop.max / 1e6 };
      windows.push(w);
      console.log(`# 20 listeners, window ${attempt + 1}: ${arrivals.length} chunks, p50 ${w.p50.toFixed(1)} ms, p99 ${w.p99.toFixed(1)} ms, on time ${(w.onTime * 100).toFixed(2)}%, longest process stall ${w.stallMs.toFixed(0)} ms`);
      if (w.onTime >= 0.99 || w.stallMs < 25) break;
    }
    for (const l of listeners) l.close();
    // A paused socket never completes a close handshake: cut it.
    stalled.ws.terminate();

    const first = Math.max(...listeners.map((l) => l.seqs()[0]));
    const last = Math.min(...listeners.map((l) => l.seqs().at(-1)!));
    assert.ok(last - first > 100, `common range ${first}..${last}`);
    for (const [i, l] of listeners.entries()) {
      const seqs = l.seqs();
      for (let k = 1; k < seqs.length; k++) assert.equal(seqs[k], seqs[k - 1] + 1, `listener ${i}: chunk ${seqs[k - 1] + 1} missing or out of order`);
      assert.ok(seqs[0] <= first && seqs.at(-1)! >= last);
      for (const a of l.arrivals) assert.equal(a.chunk.codec, CODEC_PCM16);
    }
    assert.equal(stalled.binaries.length, 0, 'the stalled listener read nothing');
    const status = ((await (await fetch(`${server.url}/api/v1/radio/stations/calm`)).json()) as { status: unknown }).status;
    const w = windows.at(-1)!;
    assert.ok(w.onTime >= 0.99, `${(w.onTime * 100).toFixed(2)}% within 50 ms (windows ${JSON.stringify(windows)}); station ${JSON.stringify(status)}`);
  });

  test('the live PCM stream is continuous across chunk boundaries', async () => {
    const l = await Listener.open(server.wsUrl);
    await l.subscribe('radio:calm:pcm');
    await sleep(1500);
    l.close();
    const chunks = l.arrivals.map((a) => a.chunk);
    assert.ok(chunks.length > 50);
    const left: number[] = [];
    const bl = new Float32Array(CHUNK_FRAMES);
    const br = new Float32Array(CHUNK_FRAMES);
    for (const c of chunks) {
      pcm16ToPlanar(c.payload, bl, br, CHUNK_FRAMES);
      for (const v of bl) left.push(v);
    }
    for (let k = 1; k < chunks.length; k++) assert.equal(chunks[k].seq, chunks[k - 1].seq + 1, `contiguous: ${chunks.slice(0, 12).map((c) => c.seq + (c.flags ? '!' : '')).join(' ')}`);
    let maxInterior = 0;
    let maxBoundary = 0;
    let worst = -1;
    for (let i = 1; i < left.length; i++) {
      const step = Math.abs(left[i] - left[i - 1]);
      if (i % CHUNK_FRAMES === 0) {
        if (step > maxBoundary) worst = i / CHUNK_FRAMES;
        maxBoundary = Math.max(maxBoundary, step);
      } else maxInterior = Math.max(maxInterior, step);
    }
    assert.ok(maxBoundary <= Math.max(maxInterior, 0.01) * 1.1, `boundary step ${maxBoundary} (before chunk ${worst} of ${chunks.length}, seq ${chunks[worst]?.seq}, flags ${chunks[worst]?.flags}) vs interior ${maxInterior}`);
  });

  test('a new listener joins behind the live edge from the broadcast ring (REST offset, then subscribe since)', async () => {
    const info = (await (await fetch(`${server.url}/api/v1/radio/stations/calm`)).json()) as { formats: { pcm: { channel: string; offset: number; epoch: string } }; chunkMs: number; sampleRate: number };
    assert.equal(info.chunkMs, CHUNK_MS);
    assert.equal(info.sampleRate, 48_000);
    // PCM has had listeners above, so its ring holds recent chunks.
    const l = await Listener.open(server.wsUrl);
    const keep = await Listener.open(server.wsUrl);
    await keep.subscribe('radio:calm:pcm');
    await sleep(300);
    const now = (await (await fetch(`${server.url}/api/v1/radio/stations/calm`)).json()) as typeof info;
    const behind = 8;
    const result = await l.subscribe(now.formats.pcm.channel, { offset: now.formats.pcm.offset - behind, epoch: now.formats.pcm.epoch });
    assert.equal(result.recovered, true);
    assert.ok((result.replayed as number) >= behind);
    await sleep(200);
    l.close();
    keep.close();
    const offsets = l.arrivals.map((a) => a.offset);
    assert.equal(offsets[0], now.formats.pcm.offset - behind + 1, 'starts right after the requested offset');
    for (let i = 1; i < offsets.length; i++) assert.equal(offsets[i], offsets[i - 1] + 1);
    // The replayed chunks arrive at once: the player's buffer is full immediately.
    const burst = l.arrivals.slice(0, behind);
    assert.ok(burst.at(-1)!.arrivedAt - burst[0].arrivedAt < 30, 'replay arrives as one burst');
  });

  test('Opus is encoded only while someone listens (plus a short grace), and its packets decode to 20 ms stereo frames', async () => {
    // Asking for the station (the test above did) keeps every format encoded for the 1.5 s grace,
    // so a player that subscribes next can replay it (formats.<f>.live): wait that grace out first.
    await sleep(2000);
    const before = await metric(server.url, /^radio_chunks_published_total\{station="calm",format="opus"\}/);
    await sleep(400);
    const idle = await metric(server.url, /^radio_chunks_published_total\{station="calm",format="opus"\}/);
    assert.equal(Number.isNaN(before) ? 0 : before, Number.isNaN(idle) ? 0 : idle, 'no Opus without Opus listeners');

    const l = await Listener.open(server.wsUrl);
    await l.subscribe('radio:calm:opus');
    // Chunks already synthesised ahead (up to one server lead, ≤ 400 ms) carry no Opus: the first
    // Opus chunk is the first one rendered after the listener arrived.
    const joined = Date.now();
    while (l.arrivals.length === 0 && Date.now() - joined < 3000) await sleep(10);
    const firstAfterMs = Date.now() - joined;
    assert.ok(l.arrivals.length > 0 && firstAfterMs < 1000, `first Opus chunk after ${firstAfterMs} ms`);
    await sleep(1000);
    l.close();
    const chunks = l.arrivals.map((a) => a.chunk);
    assert.ok(chunks.length > 30, `${chunks.length} opus chunks`);
    assert.ok(chunks.every((c) => c.codec === CODEC_OPUS));
    const OpusScript = require('opusscript') as new (rate: number, channels: number) => { decode(b: Buffer): Buffer; delete(): void };
    const decoder = new OpusScript(48_000, 2);
    let energy = 0;
    for (const c of chunks) {
      const pcm = decoder.decode(Buffer.from(c.payload));
      assert.equal(pcm.byteLength, CHUNK_FRAMES * 2 * 2);
      for (let i = 0; i < pcm.byteLength; i += 2) energy += Math.abs(pcm.readInt16LE(i));
    }
    decoder.delete();
    assert.ok(energy > 0, 'decoded audio is not silent');
    const bytes = chunks.reduce((n, c) => n + c.payload.byteLength, 0) / chunks.length;
    assert.ok(bytes < 600, `opus chunk ${bytes} bytes (PCM is 3840)`);

    await sleep(2000); // the last Opus listener left; encoding stops after a 1.5 s grace
    const stopped = await metric(server.url, /^radio_chunks_published_total\{station="calm",format="opus"\}/);
    await sleep(400);
    assert.equal(await metric(server.url, /^radio_chunks_published_total\{station="calm",format="opus"\}/), stopped, 'Opus encoding stopped with its last listener');
  });

  test('status messages carry tier, depth, jitter and underruns once a second', async () => {
    const l = await Listener.open(server.wsUrl);
    await l.subscribe('radio-status:calm');
    const start = Date.now();
    while (!l.events.some((e) => e.channel === 'radio-status:calm') && Date.now() - start < 2500) await sleep(20);
    l.close();
    const push = l.events.find((e) => e.channel === 'radio-status:calm');
    assert.ok(push, 'a status publication arrived');
    const s = push.data as Record<string, unknown>;
    for (const k of ['tier', 'leadMs', 'depthMs', 'jitterMs', 'underruns', 'listeners', 'realTimeFactor']) assert.ok(k in s, `status has ${k}`);
    assert.ok((s.tier as number) >= 0 && (s.tier as number) <= 3);
  });

  test('player reports add to radio_underruns_total; bad input gets precise errors', async () => {
    // A listener session token comes with the station; reports without one are refused.
    const { listenerToken } = (await (await fetch(`${server.url}/api/v1/radio/stations/calm`)).json()) as { listenerToken: string };
    const anonymous = await fetch(`${server.url}/api/v1/radio/stations/calm/reports`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"underruns":5}' });
    assert.equal(anonymous.status, 401);
    const post = (path: string, body: unknown) =>
      fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${listenerToken}` }, body: JSON.stringify(body) });
    const ok = await post('/api/v1/radio/stations/calm/reports', { underruns: 3, bufferMs: 80, tier: 1, format: 'pcm' });
    assert.equal(ok.status, 202);
    assert.equal(await metric(server.url, /^radio_underruns_total\{station="calm",side="client"\}/), 3);

    const bad = await post('/api/v1/radio/stations/calm/reports', { underruns: -1 });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: { code: string } }).error.code, 'bad_request');
    const huge = await post('/api/v1/radio/stations/calm/reports', { underruns: 1e9 });
    assert.equal(huge.status, 400, 'a report cannot inflate the counter without bound');
    const missing = await post('/api/v1/radio/stations/nope/reports', { underruns: 1 });
    assert.equal(missing.status, 404);
    const body = (await missing.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'not_found');
    assert.match(body.error.message, /no station "nope"; stations: calm/);
    const badId = await fetch(`${server.url}/api/v1/radio/stations/BAD!`);
    assert.equal(badId.status, 400);
  });

  test('reports are limited per listener session: one flooding session cannot starve another', async () => {
    const session = async () => ((await (await fetch(`${server.url}/api/v1/radio/stations/calm`)).json()) as { listenerToken: string }).listenerToken;
    const [flooder, other] = [await session(), await session()];
    assert.notEqual(flooder, other, 'each station fetch opens its own session');
    const report = (token: string) =>
      fetch(`${server.url}/api/v1/radio/stations/calm/reports`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: '{"underruns":0}' }).then((r) => r.status);
    const flood: number[] = [];
    for (let i = 0; i < 8; i++) flood.push(await report(flooder));
    assert.deepEqual(flood.slice(0, 4), [202, 202, 202, 202], 'a burst of 4 per session');
    assert.ok(flood.slice(4).every((st) => st === 429), `then limited: ${flood.join(',')}`);
    assert.equal(await report(other), 202, 'another listener still reports');
  });

  test('clients may not publish into the radio namespaces', async () => {
    const c = await RawClient.open(server.wsUrl);
    const reply = await c.request('publish', { channel: 'radio-status:calm', data: { tier: 0 } });
    c.close();
    assert.equal(reply.ok, false);
    assert.equal((reply.error as { code: string }).code, 'forbidden');
  });

  test('metrics: listeners, underruns, jitter histogram, synthesis latency and real-time factor, phrases, memory, GC', async () => {
    const l = await Listener.open(server.wsUrl);
    await l.subscribe('radio:calm:pcm');
    await sleep(1100);
    const text = await (await fetch(`${server.url}/metrics`)).text();
    l.close();
    for (const name of [
      'radio_underruns_total',
      'radio_chunk_delivery_jitter_seconds_bucket',
      'synthesis_latency_seconds_bucket',
      'synthesis_real_time_factor',
      'phrase_generation_rate_hz',
      'memory_usage_bytes{type="heap_used"}',
      'memory_growth_bytes_per_hour',
      'gc_pause_seconds',
      'radio_server_lead_tier',
    ]) assert.ok(text.includes(name), `metrics include ${name}`);
    assert.match(text, /radio_listeners\{station="calm",format="pcm"\} [1-9]/);
    const rtf = Number(/^synthesis_real_time_factor (\S+)$/m.exec(text)![1]);
    console.log(`# live synthesis real-time factor (worker): ${rtf.toFixed(1)}×`);
    assert.ok(rtf > 1, 'synthesis runs faster than real time');
  });
});
