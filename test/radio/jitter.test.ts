/**
 * @module test/radio/jitter
 * Underrun prevention under network jitter: a TCP proxy on loopback holds the server's bytes back
 * at random (small delays plus periodic stalls of up to 110 ms), and a listener plays the stream
 * through the same jitter buffer the browser's AudioWorklet runs, on a real-time audio clock.
 * The adaptive buffer must grow after the first underruns, and the underruns must then stop.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { startServer, sleep } from '../helpers/server.js';
import { radioApp } from '../../src/apps/radio/index.js';
import { JitterBuffer } from '../../src/apps/radio/shared/jitter-buffer.js';
import { CHUNK_FRAMES, SAMPLE_RATE, pcm16ToPlanar } from '../../src/apps/radio/shared/format.js';
import { Rng } from '../../src/apps/radio/compose/rng.js';
import { Listener, wallNow } from './listener.js';

/** Forwards loopback TCP; server→client bytes are delayed at random, in order. */
function jitterProxy(targetPort: number, rng: Rng): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    sockets.add(client);
    sockets.add(upstream);
    client.pipe(upstream);
    let releaseAt = 0;
    let stallUntil = 0;
    // One FIFO and one timer: timers of different durations due in the same millisecond may fire
    // out of order, and a reordered stream is not what a network does to a TCP connection.
    const queue: { at: number; data: Buffer }[] = [];
    let timer: NodeJS.Timeout | undefined;
    const drain = (): void => {
      timer = undefined;
      const now = performance.now();
      while (queue.length > 0 && queue[0].at <= now) {
        const { data } = queue.shift()!;
        if (client.writable) client.write(data);
      }
      if (queue.length > 0) timer = setTimeout(drain, queue[0].at - now);
    };
    upstream.on('data', (data: Buffer) => {
      const now = performance.now();
      // Every ~600 ms on average, the path stalls for 60–110 ms; otherwise 0–6 ms of jitter.
      if (now > stallUntil && rng.chance(0.03)) stallUntil = now + rng.range(60, 110);
      const delay = Math.max(stallUntil - now, 0) + rng.range(0, 6);
      releaseAt = Math.max(releaseAt, now + delay);
      queue.push({ at: releaseAt, data });
      timer ??= setTimeout(drain, releaseAt - now);
    });
    const end = () => {
      if (timer) clearTimeout(timer);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        port: (server.address() as { port: number }).port,
        close: () => {
          for (const s of sockets) s.destroy();
          return new Promise((r) => server.close(() => r()));
        },
      }),
    ),
  );
}

describe('radio under network jitter', () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  let proxy: Awaited<ReturnType<typeof jitterProxy>>;

  before(async () => {
    server = await startServer({ radioStations: [{ id: 'calm', seed: 7, mood: 'calm' }] }, { apps: [radioApp] });
    proxy = await jitterProxy(Number(new URL(server.url).port), new Rng(42));
  });

  after(async () => {
    await proxy?.close();
    await server?.close();
  });

  test('the adaptive buffer grows after underruns, and the underruns stop', async () => {
    const buffer = new JitterBuffer({ sampleRate: SAMPLE_RATE, initialTier: 0 });
    const left = new Float32Array(CHUNK_FRAMES);
    const right = new Float32Array(CHUNK_FRAMES);
    const listener = await Listener.open(`ws://127.0.0.1:${proxy.port}/ws`);
    listener.ws.on('message', () => {
      // Feed every new arrival (the Listener records it first: same handler order).
      while (fed < listener.arrivals.length) {
        const a = listener.arrivals[fed++];
        pcm16ToPlanar(a.chunk.payload, left, right, a.chunk.frames);
        buffer.push(a.chunk.seq, a.chunk.captureTs, left, right, a.chunk.frames, a.arrivedAt);
      }
    });
    let fed = 0;
    await listener.subscribe('radio:calm:pcm');

    // The audio clock: consume frames at exactly the sample rate of wall time.
    const outL = new Float32Array(128);
    const outR = new Float32Array(128);
    const started = wallNow();
    let consumed = 0;
    const underrunTimes: number[] = [];
    const tiers: number[] = [];
    const consume = (): void => {
      const now = wallNow();
      const due = Math.floor(((now - started) / 1000) * SAMPLE_RATE);
      while (consumed + 128 <= due) {
        const before = buffer.adaptive.underruns;
        buffer.read(outL, outR, 128, now);
        if (buffer.adaptive.underruns > before) underrunTimes.push(now - started);
        consumed += 128;
      }
      tiers.push(buffer.adaptive.tier);
    };
    // A real audio clock runs on its own thread; this one shares the event loop with the socket.
    // Consuming from setImmediate lets the poll phase deliver what arrived first, so a stall of
    // this whole process (a busy machine) does not look like a network stall.
    const clock = setInterval(() => setImmediate(consume), 5);
    await sleep(9000);
    clearInterval(clock);
    listener.close();

    const s = buffer.stats();
    // The longest silences on the wire, to tell the proxy's stalls from the server's own.
    const gaps = listener.arrivals.slice(1).map((a, i) => ({ at: Math.round(a.arrivedAt - started), ms: Math.round(a.arrivedAt - listener.arrivals[i].arrivedAt) }));
    const longest = gaps.sort((a, b) => b.ms - a.ms).slice(0, 3);
    const station = ((await (await fetch(`${server.url}/api/v1/radio/stations/calm`)).json()) as { status: { underruns: number; tier: number } }).status;
    console.log(
      `# jitter proxy: underruns at ${underrunTimes.map((t) => Math.round(t)).join(', ')} ms; final tier ${s.tier} (${s.targetMs} ms), jitter ${s.jitterMs.toFixed(1)} ms, ` +
        `played ${(s.framesPlayed / SAMPLE_RATE).toFixed(1)} s; longest gaps ${longest.map((g) => `${g.ms} ms at ${g.at}`).join(', ')}; server underruns ${station.underruns} (tier ${station.tier})`,
    );
    assert.ok(listener.arrivals.length > 350, `${listener.arrivals.length} chunks arrived`);
    assert.equal(s.gaps, 0, 'the proxy delays but never loses or reorders: no sequence gaps');
    assert.ok(Math.max(...tiers) >= 2, `buffer grew to tier ${Math.max(...tiers)}`);
    assert.ok(underrunTimes.length >= 1, 'the injected stalls did starve the smallest buffer');
    const late = underrunTimes.filter((t) => t > 6000);
    assert.deepEqual(late, [], 'no underruns in the last three seconds');
    assert.ok(s.framesPlayed / SAMPLE_RATE > 7, `played ${s.framesPlayed / SAMPLE_RATE} s of 9`);
  });
});
