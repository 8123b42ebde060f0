/**
 * @module bench/live
 * `npm run bench -- live [--seconds 20] [--viewers 500] [--ws 1000] [--publishers 1,10,50] [--window 10]`
 * Starts the server with the live app (PGlite in memory, random ports), publishes a 640x360
 * test pattern with ffmpeg (x264 veryfast zerolatency, 1 s GOP), and measures:
 * 1. delivery latency per protocol (bench/live/delivery: time from a part's or segment's first
 *    frame arriving over RTMP to a client holding it) and the glass-to-glass figure a player
 *    would see = that delivery + the hold-back the protocol prescribes (LL-HLS PART-HOLD-BACK,
 *    plain HLS 3 target durations, DASH suggestedPresentationDelay) + the encoder's delay
 *    (zerolatency: about one frame). A model on measured parts, not read from decoded frames.
 * 2. N concurrent HLS viewers and N WebSocket viewers of one stream.
 * 3. ingest CPU per stream for 1/10/50 copy-mode 1080p30 publishers, ours beside nginx-rtmp.
 * Writes bench/results/live.json and live.md with the load average.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from '../../src/server.js';
import { createLogger } from '../../src/core/logger.js';
import { createLiveApp, type LiveHandle } from '../../src/apps/live/index.js';
import { dist, hlsViewers, llhlsLatency, segmentLatency, wsViewers, type Dist } from './delivery.js';
import { embeddedIngest, nginxIngest, sourceFile, type IngestResult } from './ingest.js';

const API_KEY = 'bench-admin-api-key-0123456789abcdef-0123';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function arg(args: string[], name: string, fallback: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
}

const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');
const ms = (d: Dist) => `p50 ${d.p50.toFixed(0)} · p95 ${d.p95.toFixed(0)} · p99 ${d.p99.toFixed(0)} · max ${d.max.toFixed(0)} ms (n=${d.n})`;

export async function main(args: string[]): Promise<void> {
  const seconds = Number(arg(args, 'seconds', '20'));
  const viewers = Number(arg(args, 'viewers', '500'));
  const wsCount = Number(arg(args, 'ws', '1000'));
  const publisherCounts = arg(args, 'publishers', '1,10,50').split(',').map(Number);
  const windowS = Number(arg(args, 'window', '10'));
  const loadBefore = load();
  let handle: LiveHandle | null = null;
  const server = await createServer({
    env: {},
    apps: [createLiveApp({ onReady: (h) => void (handle = h) })],
    logger: createLogger('warn'),
    config: { port: 0, host: '127.0.0.1', apiKey: API_KEY, jwtSecret: 'bench-jwt-secret-0123456789abcdef-012345', databaseUrl: 'pglite://memory', liveRtmpPort: 0, maxConnectionsPerIp: 1_000_000 },
  });
  await server.listen();
  const live = handle as unknown as LiveHandle;
  const { service, rtmpPort } = live;
  const newKey = async () => (await service.store.createKey('bench', 'bench')).key;

  // 1 + 2: one 360p broadcast, latency per protocol, then viewers.
  const key = await newKey();
  const ff = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30', '-f', 'lavfi', '-i', 'sine', '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-g', '30', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-f', 'flv', `rtmp://127.0.0.1:${rtmpPort}/live/${key}`], { stdio: 'ignore' });
  let id: string | null = null;
  for (let i = 0; i < 200 && !id; i++) {
    const k = await service.store.findKey(key);
    id = k ? service.liveStreamOfKey(k.id) : null;
    await sleep(100);
  }
  if (!id) throw new Error('the benchmark stream did not go live');
  while ((service.broadcastOf(id)?.segmenter.segments.length ?? 0) < 3) await sleep(100);
  const base = `${server.url}/api/v1/streams/${id}/media`;
  console.log(`live bench: stream ${id}, load ${load()}`);

  const [ll, hls, dash] = await Promise.all([llhlsLatency(base, service, id, seconds), segmentLatency(base, service, id, seconds, 'hls'), segmentLatency(base, service, id, seconds, 'dash')]);
  const partTarget = service.settings.partTargetMs;
  const frameMs = 1000 / 30;
  const delivery = { llhls: dist(ll), hls: dist(hls), dash: dist(dash) };
  // Hold-backs the players apply (our playlists): LL-HLS PART-HOLD-BACK = 3 parts; HLS: 3 target
  // durations (1 s segments); DASH: suggestedPresentationDelay = 2 target durations.
  const holdBack = { llhls: 3 * partTarget, hls: 3 * 1000, dash: 2 * 1000 };
  const glass = Object.fromEntries((['llhls', 'hls', 'dash'] as const).map((k) => [k, { p50: delivery[k].p50 + holdBack[k] + frameMs, p95: delivery[k].p95 + holdBack[k] + frameMs }]));
  for (const k of ['llhls', 'hls', 'dash'] as const) console.log(`${k}: delivery ${ms(delivery[k])}; glass-to-glass model p50 ${(glass[k]!.p50 / 1000).toFixed(2)} s, p95 ${(glass[k]!.p95 / 1000).toFixed(2)} s`);

  const hv = await hlsViewers(base, viewers, seconds);
  console.log(`${viewers} HLS viewers: playlist ${ms(hv.playlist)}, ${hv.failures} failed of ${hv.requests} requests, load ${load()}`);
  const ws = await wsViewers(`${server.url.replace('http', 'ws')}/api/v1/streams/${id}/ws`, wsCount);
  console.log(`${wsCount} WebSocket viewers: count change reached them in ${ms(ws)}`);
  ff.kill('SIGINT');
  await new Promise((r) => ff.once('exit', r));
  await sleep(1000);

  // 3: ingest CPU, ours and nginx-rtmp's, on the same pre-encoded 1080p30 file.
  const dir = mkdtempSync(join(tmpdir(), 'airwaves-bench-live-'));
  const file = await sourceFile(dir);
  // The process's own idle cost (timers, sampler, GC) with no publisher, subtracted per stream below.
  const idle0 = process.cpuUsage();
  const idleT0 = performance.now();
  await sleep(windowS * 1000);
  const idleUsage = process.cpuUsage(idle0);
  const idlePercent = ((idleUsage.user + idleUsage.system) / 1e6 / ((performance.now() - idleT0) / 1000)) * 100;
  console.log(`idle (no publisher): ${idlePercent.toFixed(2)} % CPU`);
  const ingest: { ours: IngestResult; nginx: IngestResult; load: string }[] = [];
  for (const n of publisherCounts) {
    const keys = await Promise.all(Array.from({ length: n }, () => newKey()));
    const ours = await embeddedIngest(file, rtmpPort, service, keys, windowS);
    const nginx = await nginxIngest(file, n, windowS);
    ingest.push({ ours, nginx, load: load() });
    ours.cpuPerStreamPercent = Math.max(0, ours.cpuPercent - idlePercent) / n;
    console.log(`${n} publishers (1080p30 copy): ours ${ours.cpuPercent.toFixed(1)} % CPU (${ours.cpuPerStreamPercent.toFixed(2)} %/stream above idle, min fps ${ours.fpsMin}, dropped ${ours.droppedFrames}); nginx-rtmp ${nginx.cpuPercent.toFixed(1)} % (${nginx.cpuPerStreamPercent.toFixed(2)} %/stream); ratio ${(ours.cpuPerStreamPercent / nginx.cpuPerStreamPercent).toFixed(2)}; load ${load()}`);
  }
  rmSync(dir, { recursive: true, force: true });
  await server.close();

  const result = { at: new Date().toISOString(), loadBefore, loadAfter: load(), seconds, partTargetMs: partTarget, delivery, holdBackMs: holdBack, glassToGlassModelMs: glass, hlsViewers: { viewers, ...hv }, wsViewers: { viewers: wsCount, countChange: ws }, idleCpuPercent: idlePercent, ingest };
  writeFileSync('bench/results/live.json', JSON.stringify(result, null, 2) + '\n');
  const rows = ingest.map((r) => `| ${r.ours.publishers} | ${r.ours.cpuPercent.toFixed(1)} % | ${r.ours.cpuPerStreamPercent.toFixed(2)} % | ${r.ours.fpsMin} | ${r.ours.droppedFrames} | ${r.nginx.cpuPercent.toFixed(1)} % | ${r.nginx.cpuPerStreamPercent.toFixed(2)} % | ${(r.ours.cpuPerStreamPercent / r.nginx.cpuPerStreamPercent).toFixed(2)} | ${r.load} |`).join('\n');
  writeFileSync(
    'bench/results/live.md',
    `# Live benchmark (\`npm run bench -- live ${args.join(' ')}\`)

${result.at}. Load average (1/5/15 min) before: ${loadBefore}; after: ${result.loadAfter}. The machine (2 cores) was shared with
other helpers' work while this ran: every figure is under that load.

## Latency (one 640x360 stream, x264 veryfast zerolatency, 1 s GOP, parts of ${partTarget} ms)

Delivery = from a part's (LL-HLS) or segment's (HLS, DASH) first frame arriving over RTMP to a lean client holding it.
Glass-to-glass = delivery + the protocol's player hold-back (LL-HLS PART-HOLD-BACK ${holdBack.llhls} ms; HLS 3 × 1 s
target; DASH suggestedPresentationDelay 2 s) + one frame of encoder delay: a model on measured parts, not a frame number
read back from decoded video.

| protocol | delivery | glass-to-glass model p50 / p95 |
|---|---|---|
| LL-HLS | ${ms(delivery.llhls)} | ${(glass.llhls!.p50 / 1000).toFixed(2)} s / ${(glass.llhls!.p95 / 1000).toFixed(2)} s |
| HLS | ${ms(delivery.hls)} | ${(glass.hls!.p50 / 1000).toFixed(2)} s / ${(glass.hls!.p95 / 1000).toFixed(2)} s |
| DASH | ${ms(delivery.dash)} | ${(glass.dash!.p50 / 1000).toFixed(2)} s / ${(glass.dash!.p95 / 1000).toFixed(2)} s |

## Viewers of one stream

- ${viewers} HLS viewers (plain playlist + newest segment every 500 ms): playlist ${ms(hv.playlist)}; ${hv.failures} failed of ${hv.requests} requests; ${hv.segments} segments fetched.
- ${wsCount} WebSocket viewers (event door): a count change reached all of them in ${ms(ws)}.

## Ingest CPU per stream (pre-encoded 1080p30 ~4 Mb/s H.264 + AAC, \`ffmpeg -re -stream_loop -1 -c copy\`; ${windowS} s window)

Our process idles at ${idlePercent.toFixed(2)} % CPU with no publisher; "ours per stream" is (ours CPU − idle) / publishers.

| publishers | ours CPU | ours per stream | min fps | dropped | nginx-rtmp CPU (hls on) | nginx per stream | ours / nginx | load after |
|---|---|---|---|---|---|---|---|---|
${rows}
`,
  );
  console.log('wrote bench/results/live.json and live.md');
}
