/**
 * @module bench/radio
 * The radio benchmark: `npm run bench -- radio [--listeners 20,100,500,1000] [--seconds 6]
 * [--pcm-listeners 20,100|none] [--sdk-listeners 100,500] [--soak-minutes 1] [--name radio]`
 * (`--soak-minutes 60 --name radio-soak` for the one-hour soak, kept apart from the main results).
 *
 * One station on a server in its own process; listeners (raw WebSockets) in this process. With
 * `--sdk-listeners`, further Opus steps use listeners on the client SDK (src/client, as the radio
 * page does: not recoverable), each compared with the raw step of the same size in the same run. For
 * each listener count it measures per-chunk delivery latency (arrival − capture timestamp:
 * p50/p99/max and the share within 50 ms), chunks lost, server CPU per listener and bandwidth
 * per listener for each format; it reads the live synthesis real-time factor from the server's
 * metrics and compares it with an offline render in this process (the peer). A soak (1 minute by
 * default) holds 100 listeners and reports the server's heap growth by linear regression over
 * post-GC snapshots.
 * Results: bench/results/<name>.json and <name>.md.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg, cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { AirwavesClient } from '../../src/client/index.js';
import { decodeBinaryFrame } from '../../src/protocol/index.js';
import { CHUNK_FRAMES, decodeChunk } from '../../src/apps/radio/shared/format.js';
import { StationRenderer } from '../../src/apps/radio/synth/renderer.js';
import { linearSlope } from '../../src/core/memory-monitor.js';

const here = dirname(fileURLToPath(import.meta.url));
const resultsDir = join(here, '..', 'results');

interface Options {
  listeners: number[];
  pcmListeners: number[];
  /** Opus steps whose listeners use the SDK instead of raw sockets (none by default). */
  sdkListeners: number[];
  seconds: number;
  soakMinutes: number;
  /** Results file name (without extension), so a long soak does not overwrite the main run. */
  name: string;
}

function parse(args: string[]): Options {
  const o: Options = { listeners: [20, 100, 500, 1000], pcmListeners: [20, 100], sdkListeners: [], seconds: 6, soakMinutes: 1, name: 'radio' };
  for (let i = 0; i < args.length; i++) {
    const v = args[i + 1];
    const list = () => v.split(',').map((x) => Math.max(1, Math.min(2000, Number.parseInt(x, 10))));
    if (args[i] === '--listeners') o.listeners = list();
    else if (args[i] === '--pcm-listeners') o.pcmListeners = v === 'none' ? [] : list();
    else if (args[i] === '--sdk-listeners') o.sdkListeners = v === 'none' ? [] : list();
    else if (args[i] === '--seconds') o.seconds = Math.max(2, Math.min(120, Number(v)));
    else if (args[i] === '--soak-minutes') o.soakMinutes = Math.max(0, Math.min(120, Number(v)));
    else if (args[i] === '--name' && /^[a-z0-9-]{1,40}$/.test(v)) o.name = v;
    else continue;
    i++;
  }
  return o;
}

class ServerProcess {
  private constructor(
    readonly child: ChildProcess,
    readonly url: string,
  ) {}
  static async start(): Promise<ServerProcess> {
    const child = fork(join(here, 'server.ts'), [], { execArgv: ['--expose-gc', '--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const url = await new Promise<string>((resolve, reject) => {
      child.once('message', (m: { url: string }) => resolve(m.url));
      child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    });
    return new ServerProcess(child, url);
  }
  ask<T>(type: string, reply: string): Promise<T> {
    return new Promise((resolve) => {
      const on = (m: { type: string }) => {
        if (m.type !== reply) return;
        this.child.off('message', on);
        resolve(m as T);
      };
      this.child.on('message', on);
      this.child.send({ type });
    });
  }
  usage() {
    return this.ask<{ cpu: NodeJS.CpuUsage; memory: NodeJS.MemoryUsage; at: number }>('usage', 'usage');
  }
  async stop(): Promise<void> {
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.send({ type: 'stop' });
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

interface BenchListener {
  close(): void;
  seqs: number[];
  bytes: number;
}

/** A raw protocol client (`raw`) or the client SDK (`sdk`). */
type ListenerKind = 'raw' | 'sdk';

/** `ws` without permessage-deflate, like the raw listeners (the SDK constructs its socket from a URL only). */
class PlainWebSocket extends WebSocket {
  constructor(url: string) {
    super(url, { perMessageDeflate: false });
  }
}

/** One SDK listener: a client of its own, subscribed as the radio page is (not recoverable). */
async function openSdkListener(wsUrl: string, channel: string, latencies: { v: number[]; on: boolean }): Promise<BenchListener> {
  const client = new AirwavesClient({ url: wsUrl, WebSocket: PlainWebSocket, reconnect: false });
  const l: BenchListener = { close: () => client.close(), seqs: [], bytes: 0 };
  await client.connect();
  const sub = client.subscribe(
    channel,
    {
      binary: (p) => {
        if (!latencies.on) return;
        const at = wallNow();
        const c = decodeChunk(p.payload);
        latencies.v.push(at - c.captureTs);
        l.seqs.push(c.seq);
        l.bytes += p.payload.byteLength + 2 + channel.length + 16; // the frame: header, channel, position, payload
      },
    },
    { recoverable: false },
  );
  await sub.ready;
  return l;
}

const wallNow = () => performance.timeOrigin + performance.now();

/** Opens `n` listeners on `channel` (in batches, to keep the connect storm bounded). */
async function openListeners(url: string, channel: string, n: number, latencies: { v: number[]; on: boolean }, kind: ListenerKind = 'raw'): Promise<BenchListener[]> {
  const wsUrl = url.replace('http', 'ws') + '/ws';
  const out: BenchListener[] = [];
  for (let start = 0; start < n; start += 100) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(100, n - start) }, () =>
        kind === 'sdk' ? openSdkListener(wsUrl, channel, latencies) : new Promise<BenchListener>((resolve, reject) => {
          const ws = new WebSocket(wsUrl, { perMessageDeflate: false });
          const l: BenchListener = { close: () => ws.terminate(), seqs: [], bytes: 0 };
          ws.on('message', (data, isBinary) => {
            if (!isBinary) {
              if (String(data).includes('"ok":true')) resolve(l);
              return;
            }
            if (!latencies.on) return;
            const at = wallNow();
            const buf = data as Buffer;
            const c = decodeChunk(decodeBinaryFrame(buf).payload);
            latencies.v.push(at - c.captureTs);
            l.seqs.push(c.seq);
            l.bytes += buf.byteLength;
          });
          ws.once('open', () => ws.send(JSON.stringify({ id: 1, op: 'subscribe', channel })));
          ws.once('error', reject);
        }),
      ),
    );
    out.push(...batch);
  }
  return out;
}

/**
 * A slope from a few minutes extrapolated to an hour is mostly noise (the heap moves by a few
 * hundred KB between GCs): below ten minutes it is shown, not judged.
 */
function soakVerdict(minutes: number, mbPerHour: number): string {
  if (minutes < 10) return 'too short to judge (run --soak-minutes 60)';
  if (mbPerHour >= 10) return 'not met';
  return minutes >= 60 ? 'met' : 'on track (extrapolated from a shorter soak)';
}

function pct(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] : NaN;
}

interface StepResult {
  format: 'opus' | 'pcm';
  /** What the listeners were: raw sockets, or SDK clients. */
  client: ListenerKind;
  listeners: number;
  chunksReceived: number;
  expectedChunks: number;
  lost: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  within50Pct: number;
  serverCpuPct: number;
  serverCpuPerListenerPct: number;
  /** This process (all the listeners): when it nears 100% the latencies measure the client too. */
  listenerCpuPct: number;
  bandwidthPerListenerKbps: number;
}

async function runStep(server: ServerProcess, format: 'opus' | 'pcm', n: number, seconds: number, log: (s: string) => void, kind: ListenerKind = 'raw'): Promise<StepResult> {
  const latencies = { v: [] as number[], on: false };
  const listeners = await openListeners(server.url, `radio:bench:${format}`, n, latencies, kind);
  await new Promise((r) => setTimeout(r, 1000));
  latencies.on = true;
  const u0 = await server.usage();
  const c0 = process.cpuUsage();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const u1 = await server.usage();
  const c1 = process.cpuUsage(c0);
  latencies.on = false;
  for (const l of listeners) l.close();
  await new Promise((r) => setTimeout(r, 500));
  let received = 0;
  let expected = 0;
  let bytes = 0;
  for (const l of listeners) {
    received += l.seqs.length;
    bytes += l.bytes;
    if (l.seqs.length) expected += l.seqs[l.seqs.length - 1] - l.seqs[0] + 1;
  }
  const sorted = latencies.v.sort((a, b) => a - b);
  const wallMs = u1.at - u0.at;
  const cpuMs = (u1.cpu.user - u0.cpu.user + u1.cpu.system - u0.cpu.system) / 1000;
  const r: StepResult = {
    format,
    client: kind,
    listeners: n,
    chunksReceived: received,
    expectedChunks: expected,
    lost: expected - received,
    p50Ms: pct(sorted, 0.5),
    p99Ms: pct(sorted, 0.99),
    maxMs: sorted.at(-1) ?? NaN,
    within50Pct: (100 * sorted.filter((v) => v <= 50).length) / Math.max(1, sorted.length),
    serverCpuPct: (100 * cpuMs) / wallMs,
    serverCpuPerListenerPct: (100 * cpuMs) / wallMs / n,
    listenerCpuPct: (100 * (c1.user + c1.system)) / 1000 / wallMs,
    bandwidthPerListenerKbps: (bytes * 8) / 1000 / n / seconds,
  };
  log(
    `${format.padEnd(4)} ${String(n).padStart(5)} ${kind} listeners: p50 ${r.p50Ms.toFixed(1)} ms, p99 ${r.p99Ms.toFixed(1)} ms, max ${r.maxMs.toFixed(1)} ms, ` +
      `${r.within50Pct.toFixed(2)}% ≤ 50 ms, lost ${r.lost}/${r.expectedChunks}, server CPU ${r.serverCpuPct.toFixed(1)}% (${(r.serverCpuPerListenerPct * 1000).toFixed(2)} m%/listener), listeners' CPU ${r.listenerCpuPct.toFixed(0)}%, ` +
      `${r.bandwidthPerListenerKbps.toFixed(1)} kbit/s per listener`,
  );
  return r;
}

async function metricValue(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

function offlineRealTimeFactor(seconds = 20): number {
  const r = new StationRenderer({ seed: 7, mood: 'calm' });
  const out = new Float32Array(CHUNK_FRAMES * 2);
  for (let i = 0; i < 250; i++) r.renderInterleaved(out, CHUNK_FRAMES);
  const t0 = performance.now();
  for (let i = 0; i < seconds * 50; i++) r.renderInterleaved(out, CHUNK_FRAMES);
  return (seconds * 1000) / (performance.now() - t0);
}

export async function main(args: string[]): Promise<void> {
  const opts = parse(args);
  const loadBefore = loadavg();
  const log = (s: string) => console.log(s);
  log(`radio benchmark: opus ${opts.listeners.join(', ')} listeners, pcm ${opts.pcmListeners.join(', ') || 'none'}; ${opts.seconds} s each; soak ${opts.soakMinutes} min; load avg ${loadavg()[0].toFixed(2)} on ${cpus().length} cores`);
  const server = await ServerProcess.start();
  const steps: StepResult[] = [];
  let soak: { minutes: number; listeners: number; heapGrowthMbPerHour: number; heapStartMb: number; heapEndMb: number; rssGrowthMb: number } | null = null;
  let liveRtf = NaN;
  try {
    await new Promise((r) => setTimeout(r, 1500));
    for (const n of opts.listeners) steps.push(await runStep(server, 'opus', n, opts.seconds, log));
    for (const n of opts.pcmListeners) steps.push(await runStep(server, 'pcm', n, opts.seconds, log));
    for (const n of opts.sdkListeners) steps.push(await runStep(server, 'opus', n, opts.seconds, log, 'sdk'));
    liveRtf = await metricValue(server.url, 'synthesis_real_time_factor');
    if (opts.soakMinutes > 0) {
      const n = 100;
      const latencies = { v: [] as number[], on: false };
      const listeners = await openListeners(server.url, 'radio:bench:opus', n, latencies);
      const xs: number[] = [];
      const heap: number[] = [];
      let firstRss = 0;
      let lastRss = 0;
      const end = Date.now() + opts.soakMinutes * 60_000;
      // At least a dozen snapshots however short the soak; one per 10 s for long ones.
      const everyMs = Math.min(10_000, (opts.soakMinutes * 60_000) / 12);
      while (Date.now() < end) {
        await server.ask('gc', 'gc-done');
        const u = await server.usage();
        xs.push(u.at / 3_600_000);
        heap.push(u.memory.heapUsed);
        firstRss ||= u.memory.rss;
        lastRss = u.memory.rss;
        await new Promise((r) => setTimeout(r, Math.min(everyMs, Math.max(0, end - Date.now()))));
      }
      for (const l of listeners) l.close();
      soak = {
        minutes: opts.soakMinutes,
        listeners: n,
        heapGrowthMbPerHour: linearSlope(xs, heap) / 1024 / 1024,
        heapStartMb: heap[0] / 1024 / 1024,
        heapEndMb: heap.at(-1)! / 1024 / 1024,
        rssGrowthMb: (lastRss - firstRss) / 1024 / 1024,
      };
      log(`soak: ${n} listeners for ${opts.soakMinutes} min: heap ${soak.heapStartMb.toFixed(1)} → ${soak.heapEndMb.toFixed(1)} MB (slope ${soak.heapGrowthMbPerHour.toFixed(2)} MB/h), RSS ${soak.rssGrowthMb >= 0 ? '+' : ''}${soak.rssGrowthMb.toFixed(1)} MB`);
    }
  } finally {
    await server.stop();
  }
  const offlineRtf = offlineRealTimeFactor();
  log(`synthesis real-time factor: live worker ${liveRtf.toFixed(1)}× (average since start), offline renderer ${offlineRtf.toFixed(1)}× (peer, this process)`);
  const raw = steps.filter((s) => s.client === 'raw');
  const opus = raw.find((s) => s.format === 'opus' && s.listeners === opts.pcmListeners[0]) ?? raw.find((s) => s.format === 'opus');
  const pcm = steps.find((s) => s.format === 'pcm');
  const bwRatio = opus && pcm ? pcm.bandwidthPerListenerKbps / opus.bandwidthPerListenerKbps : NaN;
  if (Number.isFinite(bwRatio)) log(`bandwidth: PCM uses ${bwRatio.toFixed(1)}× the bandwidth of Opus per listener`);
  const biggest = raw.filter((s) => s.format === 'opus').at(-1);
  const smallest = raw.find((s) => s.format === 'opus');
  if (biggest && smallest) log(`scaling: p99 at ${biggest.listeners} listeners is ${(biggest.p99Ms / smallest.p99Ms).toFixed(2)}× p99 at ${smallest.listeners}`);

  // The SDK's own cost: each SDK step against the raw Opus step of the same size, same run.
  const sdkVsRaw = steps
    .filter((s) => s.client === 'sdk')
    .map((s) => ({ sdk: s, raw: raw.find((r) => r.format === 'opus' && r.listeners === s.listeners) }))
    .map(({ sdk, raw: peer }) =>
      peer
        ? `SDK vs raw at ${sdk.listeners} listeners: p50 ${sdk.p50Ms.toFixed(1)} vs ${peer.p50Ms.toFixed(1)} ms, p99 ${sdk.p99Ms.toFixed(1)} vs ${peer.p99Ms.toFixed(1)} ms (${(sdk.p99Ms / peer.p99Ms).toFixed(2)}×), listeners' CPU ${sdk.listenerCpuPct.toFixed(0)} vs ${peer.listenerCpuPct.toFixed(0)} %, lost ${sdk.lost} vs ${peer.lost}`
        : `SDK at ${sdk.listeners} listeners: no raw step of that size to compare with (add it to --listeners)`,
    );
  for (const line of sdkVsRaw) log(line);
  const loadAfter = loadavg();
  const top = raw.filter((s) => s.format === 'opus').at(-1);
  const targets = [
    top ? `${top.listeners} listeners: ${top.within50Pct.toFixed(2)}% within 50 ms (target 99.9% at 1,000) — ${top.listeners >= 1000 && top.within50Pct >= 99.9 ? 'met' : 'not met'}` : '',
    top ? `chunks lost at ${top.listeners}: ${top.lost} (target 0) — ${top.lost === 0 ? 'met' : 'not met'}` : '',
    `synthesis real-time factor: ${offlineRtf.toFixed(1)}× offline, ${liveRtf.toFixed(1)}× live (target ≥ 20×) — ${Math.max(offlineRtf, liveRtf) >= 20 ? 'met' : 'not met'}`,
    soak ? `memory growth: ${soak.heapGrowthMbPerHour.toFixed(2)} MB/h over ${soak.minutes} min (target < 10 MB over one hour) — ${soakVerdict(soak.minutes, soak.heapGrowthMbPerHour)}` : '',
  ].filter(Boolean);
  for (const t of targets) log(`target: ${t}`);
  const results = { date: new Date().toISOString(), loadAvgBefore: loadBefore, loadAvgAfter: loadAfter, targets, sdkVsRaw, cores: cpus().length, options: opts, steps, liveRealTimeFactor: liveRtf, offlineRealTimeFactor: offlineRtf, pcmToOpusBandwidth: bwRatio, soak };
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, `${opts.name}.json`), JSON.stringify(results, null, 2) + '\n');
  const rows = steps.map(
    (s) =>
      `| ${s.format} | ${s.client} | ${s.listeners} | ${s.p50Ms.toFixed(1)} | ${s.p99Ms.toFixed(1)} | ${s.maxMs.toFixed(1)} | ${s.within50Pct.toFixed(2)} | ${s.lost} / ${s.expectedChunks} | ${s.serverCpuPct.toFixed(1)} | ${(s.serverCpuPerListenerPct * 1000).toFixed(2)} | ${s.listenerCpuPct.toFixed(0)} | ${s.bandwidthPerListenerKbps.toFixed(1)} |`,
  );
  const md = [
    '# Radio benchmark',
    '',
    `${results.date}, ${results.cores} cores, load average (1/5/15 min) before ${loadBefore.map((x) => x.toFixed(2)).join(' / ')}, after ${loadAfter.map((x) => x.toFixed(2)).join(' / ')}. Command: \`npm run bench -- radio ${args.join(' ')}\``,
    '',
    '| format | client | listeners | p50 ms | p99 ms | max ms | % ≤ 50 ms | lost / expected | server CPU % | server CPU m% per listener | listener process CPU % | kbit/s per listener |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    ...(sdkVsRaw.length ? [...sdkVsRaw.map((l) => `- ${l}`), ''] : []),
    `Synthesis real-time factor: live worker ${liveRtf.toFixed(1)}×, offline renderer (peer) ${offlineRtf.toFixed(1)}×. PCM/Opus bandwidth ratio: ${bwRatio.toFixed(1)}×.`,
    '',
    '## Against the targets',
    '',
    ...targets.map((t) => `- ${t}`),
    soak ? `\nSoak: ${soak.listeners} listeners for ${soak.minutes} min; heap ${soak.heapStartMb.toFixed(1)} → ${soak.heapEndMb.toFixed(1)} MB, slope ${soak.heapGrowthMbPerHour.toFixed(2)} MB/h; RSS change ${soak.rssGrowthMb.toFixed(1)} MB.` : '\nSoak: not run (pass --soak-minutes N).',
    '',
  ].join('\n');
  writeFileSync(join(resultsDir, `${opts.name}.md`), md);
  log(`wrote bench/results/${opts.name}.json and ${opts.name}.md`);
}
