/**
 * @module bench/soak
 * The black-box soak: `npm run bench -- soak [--minutes 120]` (run `npm run build` first).
 *
 * The built CLI with every app on its defaults, started as a user starts it (bench/hub/servers,
 * kind `airwaves-cli-all`), under steady traffic over real sockets from other processes:
 * radio listeners on one station's Opus channel (bench/soak/radio-listeners) and hub
 * subscribers of one channel fed by a publisher at a fixed rate (the hub benchmark's receiver
 * and publisher). Every `--sample-seconds` the server's RSS (from /proc), V8 heap (from its
 * /metrics) and where the RSS lives (bench/soak/memory-map: V8 pages, malloc arenas by thread,
 * WebAssembly memories) are sampled. Every message is counted: the publisher runs in segments, after each
 * the receivers report what is missing; the radio listeners count gaps in chunk sequences.
 *
 * The verdict is the growth after the warm-up: the least-squares slope of RSS (and heap) over
 * time with its 95 % confidence interval (bench/soak/regression). Results:
 * bench/results/<name>.json and <name>.md (default name `soak`).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { LatencyHistogram } from '../hub/histogram.js';
import { Child, drainReceivers, type PublisherResult } from '../hub/ipc.js';
import { numberOption } from '../hub/options.js';
import { BUILT_CLI, HOST, removeDataDir, sampleProc, startServer, type ProcSample } from '../hub/servers.js';
import { channelName } from '../hub/wire.js';
import type { RadioStats } from './radio-listeners.js';
import { sampleMemoryMap } from './memory-map.js';
import { soakReport, type HubCounts, type SoakResult, type SoakSample } from './report.js';

const here = dirname(fileURLToPath(import.meta.url));
const hubBench = join(here, '..', 'hub');

const USAGE = `usage: npm run bench -- soak [options]   (npm run build first)
  --minutes N           length of the soak (default 120)
  --warmup-minutes N    growth is judged after this (default 10; at most a third of a shorter run)
  --sample-seconds N    RSS and heap sampling interval (default 30)
  --listeners N         radio listeners on one station's Opus channel (default 200)
  --station ID          the station (default calm, one of the default stations)
  --subscribers N       hub subscribers of one channel (default 500)
  --rate N              publications/s to that channel (default 50: 25,000 deliveries/s with 500)
  --payload BYTES       size of each publication's data (default 200)
  --segment-seconds N   the publisher runs in segments this long; losses are counted after each (default 60)
  --name NAME           results file name (default soak)`;

export interface SoakOptions {
  minutes: number;
  warmupMinutes: number;
  sampleSeconds: number;
  listeners: number;
  station: string;
  subscribers: number;
  rate: number;
  payloadBytes: number;
  segmentSeconds: number;
  name: string;
}

function parse(args: string[]): SoakOptions {
  const { values } = parseArgs({
    args,
    options: Object.fromEntries(['minutes', 'warmup-minutes', 'sample-seconds', 'listeners', 'station', 'subscribers', 'rate', 'payload', 'segment-seconds', 'name'].map((k) => [k, { type: 'string' as const }])),
  });
  const minutes = numberOption('minutes', values.minutes, 120, 1, 24 * 60);
  const station = values.station ?? 'calm';
  const name = values.name ?? 'soak';
  if (!/^[a-z0-9][a-z0-9-]{0,31}$/.test(station)) throw new Error(`--station must be a station id (got "${station}")\n${USAGE}`);
  if (!/^[a-z0-9-]{1,40}$/.test(name)) throw new Error(`--name must be lowercase letters, digits and - (got "${name}")\n${USAGE}`);
  return {
    minutes,
    warmupMinutes: Math.min(numberOption('warmup-minutes', values['warmup-minutes'], 10, 0, 600), minutes / 3),
    sampleSeconds: numberOption('sample-seconds', values['sample-seconds'], 30, 1, 600),
    listeners: numberOption('listeners', values.listeners, 200, 0, 5000),
    station,
    subscribers: numberOption('subscribers', values.subscribers, 500, 0, 20_000),
    rate: numberOption('rate', values.rate, 50, 1, 100_000),
    payloadBytes: numberOption('payload', values.payload, 200, 40, 65_000),
    segmentSeconds: numberOption('segment-seconds', values['segment-seconds'], 60, 5, 3600),
    name,
  };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function heapFromMetrics(port: number): Promise<{ heapUsedMb: number; heapTotalMb: number; externalMb: number } | null> {
  try {
    const text = await (await fetch(`http://${HOST}:${port}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
    const read = (name: string) => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1]) / 1024 / 1024;
    return { heapUsedMb: read('nodejs_heap_size_used_bytes'), heapTotalMb: read('nodejs_heap_size_total_bytes'), externalMb: read('nodejs_external_memory_bytes') };
  } catch {
    return null; // a starved server may not answer in time: the sample keeps its RSS
  }
}

/** Hub traffic totals and latency, one for the warm-up and one after it. */
interface HubTally extends HubCounts {
  latency: LatencyHistogram;
}

const emptyTally = (): HubTally => ({ published: 0, expected: 0, received: 0, lost: 0, duplicated: 0, outOfOrder: 0, segments: 0, latency: new LatencyHistogram() });

export async function main(args: string[]): Promise<void> {
  if (args.includes('--help')) {
    console.log(USAGE);
    return;
  }
  const opts = parse(args);
  if (!existsSync(BUILT_CLI)) throw new Error(`${BUILT_CLI} is missing: run \`npm run build\` first`);
  const loadBefore = loadavg();
  const log = (s: string) => console.log(`[soak ${new Date().toISOString().slice(11, 19)}] ${s}`);
  log(`${opts.minutes} min (warm-up ${opts.warmupMinutes.toFixed(1)} min): ${opts.listeners} radio listeners of ${opts.station}, ${opts.subscribers} subscribers at ${opts.rate} msg/s; load average ${loadBefore.map((l) => l.toFixed(2)).join(' / ')} on ${cpus().length} cores`);

  const server = await startServer('airwaves-cli-all');
  log(`server up (pid ${server.pid}); apps ready ${server.startup?.appsReadyMs} ms after the hub, settled after ${server.startup?.settledMs} ms`);
  const radio = new Child(join(here, 'radio-listeners.ts'), 'radio-listeners');
  const receiver = new Child(join(hubBench, 'receiver.ts'), 'soak-receiver');
  const publisher = new Child(join(hubBench, 'publisher.ts'), 'soak-publisher');
  const samples: SoakSample[] = [];
  const warm = emptyTally();
  const measured = emptyTally();
  let radioAtWarm: RadioStats | null = null;
  let radioEnd: RadioStats | null = null;
  let warmedUp = opts.warmupMinutes === 0;
  let started = 0;
  let stopSampling = false;
  let sampler: Promise<void> = Promise.resolve();
  try {
    const url = `http://${HOST}:${server.port}`;
    if (opts.listeners > 0) await radio.call({ type: 'connect', url, channel: `radio:${opts.station}:opus`, listeners: opts.listeners }, 300_000);
    const channel = channelName(0);
    const subscriptions = Array.from({ length: opts.subscribers }, () => channel);
    await receiver.call({ type: 'connect', kind: 'airwaves-cli-all', host: HOST, port: server.port, subscriptions, concurrency: 50 }, 300_000);
    await publisher.call({ type: 'connect', kind: 'airwaves-cli-all', host: HOST, port: server.port });
    log(`connected: ${opts.listeners} radio listeners, ${opts.subscribers} subscribers, 1 publisher`);

    started = performance.now();
    const endAt = started + opts.minutes * 60_000;
    const warmAt = started + opts.warmupMinutes * 60_000;
    // Sampling runs on its own clock, beside the traffic.
    sampler = (async () => {
      let last: ProcSample = sampleProc(server.pid);
      while (!stopSampling) {
        const proc = sampleProc(server.pid);
        const heap = await heapFromMetrics(server.port);
        const cpu = proc.at > last.at ? (100 * (proc.cpuSeconds - last.cpuSeconds)) / ((proc.at - last.at) / 1000) : 0;
        last = proc;
        const s: SoakSample = { minutes: (proc.at - started) / 60_000, rssMb: proc.rssBytes / 1024 / 1024, heapUsedMb: heap?.heapUsedMb ?? null, heapTotalMb: heap?.heapTotalMb ?? null, externalMb: heap?.externalMb ?? null, serverCpuPercent: cpu, load1: loadavg()[0], memory: sampleMemoryMap(server.pid) };
        samples.push(s);
        log(`t ${s.minutes.toFixed(1)} min: RSS ${s.rssMb.toFixed(1)} MB, heap ${s.heapUsedMb?.toFixed(1) ?? '—'} MB, server CPU ${cpu.toFixed(0)} % of a core, load ${s.load1.toFixed(1)}`);
        const next = started + samples.length * opts.sampleSeconds * 1000;
        while (!stopSampling && performance.now() < next) await sleep(Math.min(500, next - performance.now()));
      }
    })();

    const subsPerChannel = new Map([[channel, opts.subscribers]]);
    for (let step = 1; performance.now() < endAt - 1000; step++) {
      if (!warmedUp && performance.now() >= warmAt - 1000) {
        warmedUp = true;
        if (opts.listeners > 0) {
          radioAtWarm = await radio.call<RadioStats>({ type: 'stats' });
          await radio.call({ type: 'reset-latency' });
        }
        log('warm-up over: growth, losses and latency from here on are the result');
      }
      // A segment ends at the end of the warm-up, so that none straddles it.
      const durationMs = Math.max(1000, Math.min(opts.segmentSeconds * 1000, (warmedUp ? endAt : warmAt) - performance.now()));
      const tally = warmedUp ? measured : warm;
      await receiver.call({ type: 'step', step });
      const pub = await publisher.call<PublisherResult>({ type: 'run', step, rate: opts.rate, durationMs, channels: 1, payloadBytes: opts.payloadBytes }, durationMs + 120_000);
      const { expected, reports } = await drainReceivers([receiver], pub.published, subsPerChannel, { quietMs: 3000, maxMs: 30_000 });
      const r = reports[0];
      tally.published += pub.total;
      tally.expected += expected;
      tally.received += r.received;
      tally.lost += r.lost;
      tally.duplicated += r.duplicated;
      tally.outOfOrder += r.outOfOrder;
      tally.segments++;
      tally.latency.merge(r.histogram);
      if (r.lost || r.duplicated) log(`segment ${step}: ${r.lost} lost, ${r.duplicated} duplicated of ${expected}`);
    }
    if (opts.listeners > 0) radioEnd = await radio.call<RadioStats>({ type: 'stats' });
  } finally {
    stopSampling = true;
    await sampler;
    await Promise.allSettled([radio.stop(), receiver.stop(), publisher.stop()]);
    await server.stop();
    removeDataDir();
  }

  const result: SoakResult = {
    benchmark: 'soak',
    at: new Date().toISOString(),
    command: `npm run bench -- soak ${args.join(' ')}`.trim(),
    machine: { cpus: cpus().length, node: process.version },
    loadBefore,
    loadAfter: loadavg(),
    options: opts,
    startup: server.startup ?? null,
    hub: { warmup: figures(warm), measured: figures(measured) },
    radio: radioEnd ? radioSummary(radioAtWarm, radioEnd, opts.minutes - opts.warmupMinutes) : null,
    samples,
  };
  const { json, md, lines } = soakReport(result);
  for (const l of lines) log(l);
  const out = join(here, '..', 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, `${opts.name}.json`), json);
  writeFileSync(join(out, `${opts.name}.md`), md);
  log(`wrote bench/results/${opts.name}.json and ${opts.name}.md`);
}

function figures({ latency, ...counts }: HubTally): SoakResult['hub']['measured'] {
  return { ...counts, p50Ms: latency.quantile(0.5) / 1000, p99Ms: latency.quantile(0.99) / 1000, maxMs: latency.maxUs / 1000 };
}

/** The radio listeners' figures over the measured window (after the warm-up, or all of it without one). */
function radioSummary(atWarm: RadioStats | null, end: RadioStats, minutes: number): NonNullable<SoakResult['radio']> {
  const base = atWarm ?? { chunks: 0, lost: 0, outOfOrder: 0, realTimeChunks: 0 };
  const latency = new LatencyHistogram();
  latency.merge(end.latency);
  const chunks = end.chunks - base.chunks;
  const realTime = end.realTimeChunks - base.realTimeChunks;
  return {
    listeners: end.listeners,
    connectedAtEnd: end.connected,
    minutes,
    chunks,
    lost: end.lost - base.lost,
    outOfOrder: end.outOfOrder - base.outOfOrder,
    realTimeRatio: realTime > 0 ? chunks / realTime : Number.NaN,
    p50Ms: latency.quantile(0.5) / 1000,
    p99Ms: latency.quantile(0.99) / 1000,
    maxMs: latency.maxUs / 1000,
  };
}
