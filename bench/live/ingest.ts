/**
 * @module bench/live/ingest
 * Ingest CPU per stream: N ffmpeg publishers send the same pre-encoded 1080p30 H.264 + AAC file
 * in a loop (`-re -stream_loop -1 -c copy`: the publishers spend almost no CPU), first to the
 * embedded listener (remux to CMAF parts/segments), then to nginx-rtmp with `hls on` (remux to
 * MPEG-TS) on the same input. CPU is each server process's user+system time over the window,
 * read from /proc the same way for both: ours is bench/live/server-process (its own Node process,
 * no viewers attached), nginx runs as one process (`master_process off`). Our process's idle cost
 * is measured once the first stream's tail has settled (settleAfterStream) and subtracted per stream.
 * The first stream a process ingests pays one-time costs a server running for days paid long ago
 * (JIT of the remux path, the slab pool and heap growing to a 1080p stream's size, the first rows
 * and sample write): bench/live runs one such stream first and reports it on a line of its own
 * (`firstStream`), then measures idle and the steady windows on the warmed process.
 * Frames: our ingest's frame rate and dropped frames. Our CPU is also split into the main thread
 * (JavaScript: the remux) and the other threads (V8's GC helpers, libuv, PGlite's worker).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { benchConf, startNginxRtmp } from '../../test/live/nginx-rtmp.js';
import { procCpuSeconds, type ServerUnderTest } from './server.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A pre-encoded 6 s H.264 + AAC FLV (1 s GOP) to publish in a loop without encoding. */
export async function sourceFile(dir: string, size = '1920x1080', bitrate = '4M'): Promise<string> {
  const file = join(dir, `source-${size}.flv`);
  if (existsSync(file)) return file;
  const args = ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=30`, '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', '6', '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '30', '-b:v', bitrate, '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '128k', '-f', 'flv', file];
  const child = spawn('ffmpeg', args, { stdio: 'ignore' });
  await new Promise((r) => child.once('exit', r));
  return file;
}

export function publishers(file: string, urls: string[]): ChildProcess[] {
  return urls.map((url) => spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-re', '-stream_loop', '-1', '-i', file, '-c', 'copy', '-f', 'flv', url], { stdio: 'ignore' }));
}

export async function stopAll(children: ChildProcess[]): Promise<void> {
  await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : (c.once('exit', r), c.kill('SIGKILL'))))));
}

export interface IngestResult {
  publishers: number;
  cpuPercent: number;
  /** Of `cpuPercent`: the main thread's share (ours only; NaN for nginx, one thread). */
  mainThreadPercent: number;
  cpuPerStreamPercent: number;
  fpsMin: number;
  droppedFrames: number;
}

/** What a stream's end costs the process after it: CPU seconds (all threads) and time to settle. */
export interface StreamTail {
  seconds: number;
  cpuSeconds: number;
}

/**
 * Waits until the process is done with the streams that just ended: at least `minS` seconds, then
 * until `quietS` seconds in a row cost at most half a /proc tick each on average (capped at `maxS`).
 * An ended stream's tail is not idle cost, and it is long. A timer and GC census of the idle bench
 * server (2026-12-07, live7: an async hook on every callback and a GC observer in both isolates,
 * per-thread /proc ticks each second, 150 s after a 20 s 1080p stream) found no periodic work with
 * a period over 8 s worth a tick: the live app armed nothing, core's memory monitor (every 10 s)
 * and memory-engine sweep (every 30 s) cost under 1 ms a call. The ticks were V8's memory reducer
 * collecting what the stream had allocated, once per isolate: two full collections on the main
 * thread 17 s after the end (15 ticks with the GC helpers) and three in PGlite's worker 77 s after
 * it (20 ticks; a second run: 36 s and 81 s). A 40 s window 4 s after the end caught them (0.70 %,
 * 1.33 %); from 84 s on the process read 0.07–0.13 % per 40 s. `minS` covers both reducers with a
 * margin; the quiet run checks for a late one.
 * Returns the tail's cost, so the bench reports it beside the stream instead of hiding it.
 */
export async function settleAfterStream(server: ServerUnderTest, minS = 100, quietS = 20, maxS = 180): Promise<StreamTail> {
  const c0 = server.cpuSeconds();
  const t0 = performance.now();
  const perSecond: number[] = [];
  let last = c0;
  for (;;) {
    await sleep(1000);
    const now = server.cpuSeconds();
    perSecond.push(now - last);
    last = now;
    const elapsed = (performance.now() - t0) / 1000;
    const recent = perSecond.slice(-quietS);
    const quiet = recent.length === quietS && recent.reduce((a, b) => a + b, 0) <= quietS / 200; // ≤ 0.5 % of a core: a collection burst (15–20 ticks) is not quiet
    if ((elapsed >= minS && quiet) || elapsed >= maxS) return { seconds: elapsed, cpuSeconds: now - c0 };
  }
}

/** Our server process's CPU with no publisher (percent of one core). */
export async function idleCpu(server: ServerUnderTest, windowS: number): Promise<number> {
  const c0 = server.cpuSeconds();
  const t0 = performance.now();
  await sleep(windowS * 1000);
  return ((server.cpuSeconds() - c0) / ((performance.now() - t0) / 1000)) * 100;
}

/**
 * `warmupS`: publishing time before the window. 4 s covers connect and the first keyframes; the
 * first 12 s of a stream also fill its playlist window (fresh part memory, heap growth), which
 * costs more than what follows, so a warm-up of ~16 s measures the steady state instead.
 */
export async function embeddedIngest(file: string, server: ServerUnderTest, windowS: number, n: number, warmupS = 4): Promise<IngestResult> {
  const keys = await Promise.all(Array.from({ length: n }, () => server.createKey()));
  const pubs = publishers(file, keys.map((k) => `rtmp://127.0.0.1:${server.rtmpPort}/live/${k}`));
  await sleep(warmupS * 1000);
  const ids = await Promise.all(keys.map((k) => server.streamOfKey(k)));
  const c0 = server.cpuSeconds();
  const m0 = procCpuSeconds(server.pid, server.pid);
  const t0 = performance.now();
  await sleep(windowS * 1000);
  const used = server.cpuSeconds() - c0;
  const mainUsed = procCpuSeconds(server.pid, server.pid) - m0;
  const elapsed = (performance.now() - t0) / 1000;
  const healths = await Promise.all(ids.map((id) => (id ? server.health(id) : null)));
  await stopAll(pubs);
  await sleep(1500);
  const cpuPercent = (used / elapsed) * 100;
  return {
    publishers: keys.length,
    cpuPercent,
    mainThreadPercent: (mainUsed / elapsed) * 100,
    cpuPerStreamPercent: cpuPercent / keys.length,
    fpsMin: Math.min(...healths.map((h) => h?.fps ?? 0)),
    droppedFrames: healths.reduce((n, h) => n + (h?.droppedFrames ?? 0), 0),
  };
}

export async function nginxIngest(file: string, n: number, windowS: number, warmupS = 4): Promise<IngestResult> {
  const nginx = await startNginxRtmp(benchConf());
  const pubs = publishers(file, Array.from({ length: n }, (_, i) => nginx.rtmpUrl(`s${i}`)));
  await sleep(warmupS * 1000);
  const c0 = procCpuSeconds(nginx.pid);
  const t0 = performance.now();
  await sleep(windowS * 1000);
  const used = procCpuSeconds(nginx.pid) - c0;
  const elapsed = (performance.now() - t0) / 1000;
  await stopAll(pubs);
  await nginx.stop();
  const cpuPercent = (used / elapsed) * 100;
  return { publishers: n, cpuPercent, mainThreadPercent: NaN, cpuPerStreamPercent: cpuPercent / n, fpsMin: NaN, droppedFrames: NaN };
}
