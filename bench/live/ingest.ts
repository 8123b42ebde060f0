/**
 * @module bench/live/ingest
 * Ingest CPU per stream: N ffmpeg publishers send the same pre-encoded 1080p30 H.264 + AAC file
 * in a loop (`-re -stream_loop -1 -c copy`: the publishers spend almost no CPU), first to the
 * embedded listener (remux to CMAF parts/segments), then to nginx-rtmp with `hls on` (remux to
 * MPEG-TS) on the same input. CPU is the server process's user+system time over the window
 * (the embedded app runs in this process with no viewers attached; nginx runs as one process,
 * `master_process off`, read from /proc). Frames: our ingest's frame rate and dropped frames.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LiveService } from '../../src/apps/live/service.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const TICKS = 100; // USER_HZ on Linux

export async function sourceFile(dir: string): Promise<string> {
  const file = join(dir, 'source-1080p.flv');
  if (existsSync(file)) return file;
  const args = ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=1920x1080:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', '6', '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '30', '-b:v', '4M', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '128k', '-f', 'flv', file];
  const child = spawn('ffmpeg', args, { stdio: 'ignore' });
  await new Promise((r) => child.once('exit', r));
  return file;
}

function publishers(file: string, urls: string[]): ChildProcess[] {
  return urls.map((url) => spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-re', '-stream_loop', '-1', '-i', file, '-c', 'copy', '-f', 'flv', url], { stdio: 'ignore' }));
}

async function stopAll(children: ChildProcess[]): Promise<void> {
  await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : (c.once('exit', r), c.kill('SIGKILL'))))));
}

export interface IngestResult {
  publishers: number;
  cpuPercent: number;
  cpuPerStreamPercent: number;
  fpsMin: number;
  droppedFrames: number;
}

export async function embeddedIngest(file: string, rtmpPort: number, service: LiveService, keys: string[], windowS: number): Promise<IngestResult> {
  const pubs = publishers(file, keys.map((k) => `rtmp://127.0.0.1:${rtmpPort}/live/${k}`));
  await sleep(4000); // connect, first keyframes, steady state
  const ids = (await Promise.all(keys.map((k) => service.store.findKey(k)))).map((k) => (k ? service.liveStreamOfKey(k.id) : null));
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await sleep(windowS * 1000);
  const c1 = process.cpuUsage(c0);
  const elapsed = (performance.now() - t0) / 1000;
  const healths = ids.map((id) => (id ? service.broadcastOf(id)?.health() : undefined));
  await stopAll(pubs);
  await sleep(1500);
  const cpuPercent = ((c1.user + c1.system) / 1e6 / elapsed) * 100;
  return {
    publishers: keys.length,
    cpuPercent,
    cpuPerStreamPercent: cpuPercent / keys.length,
    fpsMin: Math.min(...healths.map((h) => h?.fps ?? 0)),
    droppedFrames: healths.reduce((n, h) => n + (h?.droppedFrames ?? 0), 0),
  };
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

function procCpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS; // utime, stime
}

export async function nginxIngest(file: string, n: number, windowS: number): Promise<IngestResult> {
  const prefix = mkdtempSync(join(tmpdir(), 'airwaves-bench-nginx-'));
  chmodSync(prefix, 0o755);
  mkdirSync(join(prefix, 'logs'));
  mkdirSync(join(prefix, 'hls'));
  chmodSync(join(prefix, 'hls'), 0o777);
  const port = await freePort();
  writeFileSync(
    join(prefix, 'nginx.conf'),
    `load_module /usr/lib/nginx/modules/ngx_rtmp_module.so;
daemon off;
master_process off;
worker_processes 1;
pid nginx.pid;
error_log ${join(prefix, 'logs', 'error.log')} warn;
events { worker_connections 4096; }
rtmp { server { listen 127.0.0.1:${port}; chunk_size 4096; application live { live on; record off; hls on; hls_path ${join(prefix, 'hls')}; hls_fragment 1s; hls_playlist_length 6s; } } }
`,
  );
  const nginx = spawn('nginx', ['-p', prefix, '-c', join(prefix, 'nginx.conf')], { stdio: 'ignore' });
  await sleep(500);
  const pubs = publishers(file, Array.from({ length: n }, (_, i) => `rtmp://127.0.0.1:${port}/live/s${i}`));
  await sleep(4000);
  const c0 = procCpuSeconds(nginx.pid!);
  const t0 = performance.now();
  await sleep(windowS * 1000);
  const used = procCpuSeconds(nginx.pid!) - c0;
  const elapsed = (performance.now() - t0) / 1000;
  await stopAll(pubs);
  nginx.kill('SIGKILL');
  await new Promise((r) => (nginx.exitCode !== null ? r(null) : nginx.once('exit', r)));
  rmSync(prefix, { recursive: true, force: true });
  const cpuPercent = (used / elapsed) * 100;
  return { publishers: n, cpuPercent, cpuPerStreamPercent: cpuPercent / n, fpsMin: NaN, droppedFrames: NaN };
}
