/**
 * @module bench/live/delivery
 * Delivery latency per protocol and viewer load, against one live broadcast of the embedded app:
 * - LL-HLS: a lean player loop (blocking reload for the next part, then the part); each part's
 *   latency = received at the client − its first frame's arrival over RTMP at the server.
 * - plain HLS and DASH: poll the playlist / MPD every 250 ms and fetch each new segment; latency
 *   = segment received − its first frame's arrival.
 * - N WebSocket viewers on the event door: time for a count change to reach all of them.
 * The server runs in its own process: part arrival times come from `PartClock`, which asks it.
 */
import { WebSocket } from 'ws';
import { percentile } from '../shared/percentile.js';
import type { PartTiming, ServerUnderTest } from './server.js';

export interface Dist {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export function dist(values: number[]): Dist {
  const s = [...values].sort((a, b) => a - b);
  return { n: s.length, p50: percentile(s, 50), p95: percentile(s, 95), p99: percentile(s, 99), max: s.at(-1) ?? NaN };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Part timings of one stream, polled from the server process while a measurement runs. */
export class PartClock {
  private readonly timings = new Map<string, PartTiming>();
  private running = true;
  private readonly loop: Promise<void>;

  constructor(
    private readonly server: ServerUnderTest,
    private readonly streamId: string,
  ) {
    this.loop = (async () => {
      while (this.running) {
        await this.refresh();
        await sleep(1000);
      }
    })();
  }

  private async refresh(): Promise<void> {
    for (const p of await this.server.parts(this.streamId)) this.timings.set(`${p.msn}.${p.index}`, p);
  }

  /** When the first frame of part (msn, index) arrived over RTMP (after a final refresh). */
  async arrival(msn: number, index = 0): Promise<number | null> {
    let t = this.timings.get(`${msn}.${index}`);
    if (!t) {
      await this.refresh();
      t = this.timings.get(`${msn}.${index}`);
    }
    return t ? t.firstArrivalAt : null;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}

export async function llhlsLatency(base: string, clock: PartClock, seconds: number): Promise<number[]> {
  const out: number[] = [];
  const deadline = Date.now() + seconds * 1000;
  let text = await (await fetch(`${base}/index.m3u8?viewer=bench-ll`)).text();
  while (Date.now() < deadline) {
    const hint = /PRELOAD-HINT:TYPE=PART,URI="seg-(\d+)\.(\d+)\.m4s"/.exec(text);
    if (!hint) break;
    const [msn, part] = [Number(hint[1]), Number(hint[2])];
    // The hinted part is requested at once (held by the server until written), as hls.js does.
    const res = await fetch(`${base}/seg-${msn}.${part}.m4s`);
    await res.arrayBuffer();
    const received = Date.now();
    const a = await clock.arrival(msn, part);
    if (res.ok && a) out.push(received - a);
    text = await (await fetch(`${base}/index.m3u8?_HLS_msn=${msn}&_HLS_part=${part + 1}&viewer=bench-ll`)).text();
    if (!text.includes(`seg-${msn}.${part + 1}.m4s`) && !text.includes(`seg-${msn + 1}.0.m4s`)) {
      text = await (await fetch(`${base}/index.m3u8?_HLS_msn=${msn + 1}&_HLS_part=0&viewer=bench-ll`)).text();
    }
  }
  return out;
}

export async function segmentLatency(base: string, clock: PartClock, seconds: number, kind: 'hls' | 'dash'): Promise<number[]> {
  const out: number[] = [];
  const seen = new Set<number>();
  const deadline = Date.now() + seconds * 1000;
  let first = true;
  while (Date.now() < deadline) {
    const text = await (await fetch(`${base}/${kind === 'hls' ? 'plain.m3u8' : 'manifest.mpd'}?viewer=bench-${kind}`)).text();
    let numbers: number[];
    if (kind === 'hls') numbers = [...text.matchAll(/^seg-(\d+)\.m4s$/gm)].map((m) => Number(m[1]));
    else {
      const start = Number(/startNumber="(\d+)"/.exec(text)?.[1] ?? 0);
      const count = (/<Representation id="video"[\s\S]*?<SegmentTimeline>([\s\S]*?)<\/SegmentTimeline>/.exec(text)?.[1]?.match(/<S /g) ?? []).length;
      numbers = Array.from({ length: count }, (_, i) => start + i);
    }
    for (const n of numbers) {
      if (seen.has(n)) continue;
      seen.add(n);
      if (first) continue; // segments already listed at start are not "new"
      const res = await fetch(`${base}/${kind === 'hls' ? `seg-${n}` : `v-${n}`}.m4s`);
      await res.arrayBuffer();
      const received = Date.now();
      const a = await clock.arrival(n, 0);
      if (res.ok && a) out.push(received - a);
    }
    first = false;
    await sleep(250);
  }
  return out;
}

export interface CountChangeResult {
  /** A viewer joining: from its socket open (the server has counted it) to each viewer seeing the new count. */
  join: Dist;
  /** The same, from the moment the joining viewer started connecting (TCP + upgrade included). */
  joinFromConnect: Dist;
  /** A viewer leaving: from its close() to each viewer seeing the lower count. */
  leave: Dist;
  rounds: number;
  /** Viewers that did not see a change within 10 s (counted once per round). */
  missed: number;
}

const countOf = (m: unknown): number | null => {
  const e = (JSON.parse(String(m)) as { data: { type: string; viewers: number } }).data;
  return e.type === 'viewer_count_changed' ? e.viewers : null;
};

/**
 * Opens `n` door sockets (a join storm), then for `rounds` rounds adds one viewer and removes it,
 * timing the count change reaching each of the `n`. The first round starts half a second after
 * the storm, while its viewer sessions are still being written.
 */
export async function wsViewers(wsBase: string, n: number, rounds = 5): Promise<CountChangeResult> {
  const sockets: WebSocket[] = [];
  const latest: number[] = [];
  await Promise.all(
    Array.from({ length: n }, (_, i) =>
      new Promise<void>((resolve, reject) => {
        const ws = new WebSocket(`${wsBase}?viewer=ws${i}`);
        ws.on('message', (m) => {
          const v = countOf(m);
          if (v !== null) latest[i] = v;
        });
        ws.once('open', () => resolve());
        ws.once('error', reject);
        sockets.push(ws);
      }),
    ),
  );
  await sleep(500);
  const join: number[] = [];
  const joinFromConnect: number[] = [];
  const leave: number[] = [];
  let missed = 0;
  // Resolves with each socket's arrival time of a count satisfying `ok`.
  const arrivals = (ok: (v: number) => boolean) => {
    const times: number[] = [];
    const done = Promise.all(
      sockets.map(
        (ws) =>
          new Promise<void>((resolve) => {
            const onMessage = (m: unknown) => {
              const v = countOf(m);
              if (v === null || !ok(v)) return;
              times.push(performance.now());
              ws.off('message', onMessage);
              resolve();
            };
            ws.on('message', onMessage);
          }),
      ),
    );
    return { times, done };
  };
  for (let round = 0; round < rounds; round++) {
    const base = Math.max(...latest.filter(Number.isFinite));
    const joined = arrivals((v) => v >= base + 1);
    const connectAt = performance.now();
    const extra = new WebSocket(`${wsBase}?viewer=ws-extra-${round}`);
    const openAt = await new Promise<number>((resolve) => extra.once('open', () => resolve(performance.now())));
    await Promise.race([joined.done, sleep(10_000)]);
    missed += n - joined.times.length;
    for (const t of joined.times) {
      join.push(Math.max(0, t - openAt));
      joinFromConnect.push(t - connectAt);
    }
    await sleep(300);
    const left = arrivals((v) => v <= base);
    const closeAt = performance.now();
    extra.close();
    await Promise.race([left.done, sleep(10_000)]);
    missed += n - left.times.length;
    for (const t of left.times) leave.push(t - closeAt);
    await sleep(300);
  }
  for (const ws of sockets) ws.close();
  return { join: dist(join), joinFromConnect: dist(joinFromConnect), leave: dist(leave), rounds, missed };
}
