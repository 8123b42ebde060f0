/**
 * @module bench/footprint
 * Start time and idle footprint, measured as a user runs the server: the built CLI
 * (`node dist/src/cli.js serve`, run `npm run build` first) with default configuration, started
 * from this process and observed from outside (/readyz polled over HTTP, CPU and RSS read from
 * /proc). Setups: the hub alone (`AIRWAVES_APPS=`), every app on a fresh data directory (first
 * start: migrations, generated secrets), every app again on the same directory (a restart). The
 * peer in the same run is the bare `ws` server of the hub benchmark (bench/hub/peer-ws-server.ts,
 * also run compiled-free through tsx's loader, like the hub benchmark runs it).
 *
 * Besides wall time to /readyz, the CPU the server burnt until then is recorded: on a loaded
 * machine the wall time mostly measures the queue for a core (an all-apps first start took 33 s
 * of wall time for 9 s of CPU at load average 30), the CPU seconds much less so.
 *
 * The hub alone is started `--hub-starts` times (5) and its figures are the medians: one start of
 * a ~0.3 s process on the shared 2-core machine spread 282–570 ms within minutes at one load, so a
 * single start (what this bench printed until the fourteenth session) read 70 ms above the start
 * bench's single start of the same thing by chance of the moment, not by what it measured.
 *
 * Two RSS readings per server: at the end of the idle window (60 s from the settle), and a settled
 * one `--settled-seconds` (150) after spawn. V8's memory reducer makes its first pass ~106 s after a
 * start (hub8: it gives back ~45 MB of an all-apps server), so the 60 s reading is a pre-reducer one
 * and the settled reading is what a server that has been up a few minutes holds; the < 250 MB idle
 * target is judged on the settled reading. RSS is sampled every 5 s in between, and the report
 * names the largest fall between two samples (when the reducer's pass came). `--settled-seconds 0`
 * is the short mode: the idle window alone, as before.
 *
 * Usage: npm run bench -- footprint [--idle-seconds 60] [--settled-seconds 150] [--hub-starts 5] [--ready-timeout-seconds 180] [--out bench/results]
 */
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { loadavg, tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CLI_BASE_ENV, CliProcess } from '../shared/cli-process.js';
import { serverNodeFlags } from '../shared/node-flags.js';

interface SetupResult {
  setup: string;
  readyMs: number;
  /** Spawn to `/readyz?apps=all` 200: every enabled app serves too (null for the bare peer). */
  allAppsMs: number | null;
  /** Spawn to the moment each app left `/readyz`'s `starting` list (its routes serve), in the order they came. */
  appServesMs: Record<string, number>;
  /** CPU (user + system, all threads) the process used from spawn to ready, in seconds. */
  readyCpuSeconds: number;
  /** Several starts of one setup (the hub alone): each start's ms to ready and CPU until then; readyMs and readyCpuSeconds are their medians. */
  starts?: { readyMs: number[]; readyCpuSeconds: number[] };
  idleSeconds: number;
  idleCpuPercentOfCore: number;
  rssMb: number;
  heapUsedMb: number | null;
  /** RSS and heap `settled.atSeconds` after spawn (after V8's memory reducer's first pass), with the largest fall between two 5 s samples after the idle window; null in the short mode or for the peer. */
  settled: SettledReading | null;
}

interface SettledReading {
  atSeconds: number;
  rssMb: number;
  heapUsedMb: number | null;
  /** The largest RSS fall between two consecutive 5 s samples after the idle window (the reducer's pass), and when (s from spawn). */
  largestFall: { mb: number; atSeconds: number } | null;
}

/** Sampling period of RSS between the idle window's reading and the settled one. */
const SETTLE_SAMPLE_MS = 5000;

/** Samples RSS every 5 s until `atSeconds` from spawn, then reads RSS and heap: the settled reading. */
async function settledReading(server: CliProcess, atSeconds: number): Promise<SettledReading> {
  let previous = server.rssMb();
  let largestFall: SettledReading['largestFall'] = null;
  for (;;) {
    const left = atSeconds * 1000 - server.elapsedMs();
    if (left <= 0) break;
    await new Promise((r) => setTimeout(r, Math.min(SETTLE_SAMPLE_MS, left)));
    const rss = server.rssMb();
    if (previous - rss > (largestFall?.mb ?? 0)) largestFall = { mb: Number((previous - rss).toFixed(1)), atSeconds: Math.round(server.elapsedMs() / 1000) };
    previous = rss;
  }
  const heap = await server.metric('nodejs_heap_size_used_bytes');
  return { atSeconds: Math.round(server.elapsedMs() / 1000), rssMb: Number(server.rssMb().toFixed(1)), heapUsedMb: heap === null ? null : Number((heap / 1024 / 1024).toFixed(1)), largestFall };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/**
 * A setup started `starts` times, each to ready and stopped, then once more measured in full
 * ({@link measure}); its ready figures become the medians over every start.
 */
async function measureStarts(setup: string, env: (port: number) => NodeJS.ProcessEnv, starts: number, idleSeconds: number, settledSeconds: number, readyTimeoutMs: number): Promise<SetupResult> {
  const readyMs: number[] = [];
  const readyCpuSeconds: number[] = [];
  for (let i = 1; i < starts; i++) {
    const server = await CliProcess.start({ env });
    try {
      readyMs.push(Math.round(await server.waitReady(readyTimeoutMs)));
      readyCpuSeconds.push(Number(server.cpuSeconds().toFixed(2)));
    } catch (err) {
      throw new Error(`${setup}, start ${i}: ${(err as Error).message}`);
    } finally {
      await server.stop();
    }
  }
  const last = await measure(setup, env, idleSeconds, settledSeconds, readyTimeoutMs);
  readyMs.push(last.readyMs);
  readyCpuSeconds.push(last.readyCpuSeconds);
  // "Every app serves" of the last start alone would sit beside the medians (and below them): with no app it says nothing.
  const result = { ...last, readyMs: median(readyMs), readyCpuSeconds: median(readyCpuSeconds), allAppsMs: null, starts: { readyMs, readyCpuSeconds } };
  console.log(`${setup.padEnd(34)} ${starts} starts: ready median ${result.readyMs} ms (${readyMs.join(', ')}), CPU until ready median ${result.readyCpuSeconds} s (${readyCpuSeconds.join(', ')})`);
  return result;
}

/**
 * One setup: spawn, ready, every app serving, a 3 s settle, then the idle window. `command` set,
 * the process is a peer that answers plain HTTP with 426 (any answer counts as ready).
 */
async function measure(setup: string, env: (port: number) => NodeJS.ProcessEnv, idleSeconds: number, settledSeconds: number, readyTimeoutMs: number, command?: string[]): Promise<SetupResult> {
  const server = await CliProcess.start({ env, command });
  try {
    const readyMs = command ? await server.waitFor('/', readyTimeoutMs, { anyAnswer: true }) : await server.waitReady(readyTimeoutMs);
    const readyCpuSeconds = Number(server.cpuSeconds().toFixed(2));
    // The apps start behind the open port (their routes answer 503 app_starting until then).
    const appServesMs = command ? {} : await server.watchAppsServe(readyTimeoutMs);
    const allAppsMs = command ? null : Math.round(server.elapsedMs());
    // Let start-up work (JIT, first GC, app warm-up) settle before the idle window.
    await new Promise((r) => setTimeout(r, 3000));
    const c0 = server.cpuSeconds();
    const w0 = performance.now();
    await new Promise((r) => setTimeout(r, idleSeconds * 1000));
    const cpu = (server.cpuSeconds() - c0) / ((performance.now() - w0) / 1000);
    const heap = command ? null : await server.metric('nodejs_heap_size_used_bytes');
    const rssMb = Number(server.rssMb().toFixed(1));
    const settled = command || settledSeconds === 0 ? null : await settledReading(server, settledSeconds);
    const result = { setup, readyMs: Math.round(readyMs), allAppsMs, appServesMs, readyCpuSeconds, idleSeconds, idleCpuPercentOfCore: Number((cpu * 100).toFixed(2)), rssMb, heapUsedMb: heap === null ? null : Number((heap / 1024 / 1024).toFixed(1)), settled };
    const settledText = settled ? `  settled (${settled.atSeconds} s) RSS ${settled.rssMb} MB heap ${settled.heapUsedMb ?? '—'} MB${settled.largestFall ? ` (fell ${settled.largestFall.mb} MB by ${settled.largestFall.atSeconds} s)` : ''}` : '';
    console.log(`${setup.padEnd(34)} ready ${String(result.readyMs).padStart(5)} ms (${result.readyCpuSeconds} s CPU), every app ${result.allAppsMs ?? '—'} ms${Object.keys(appServesMs).length ? ` (${Object.entries(appServesMs).map(([a, ms]) => `${a} ${ms}`).join(', ')})` : ''}  idle CPU ${result.idleCpuPercentOfCore.toFixed(2).padStart(5)} % of a core  RSS ${result.rssMb} MB  heap ${result.heapUsedMb ?? '—'} MB${settledText}`);
    return result;
  } catch (err) {
    throw new Error(`${setup}: ${(err as Error).message}`);
  } finally {
    await server.stop();
  }
}

export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { 'idle-seconds': { type: 'string', default: '60' }, 'settled-seconds': { type: 'string', default: '150' }, 'hub-starts': { type: 'string', default: '5' }, 'ready-timeout-seconds': { type: 'string', default: '180' }, out: { type: 'string', default: 'bench/results' } } });
  const idleSeconds = Number(values['idle-seconds']);
  if (!Number.isFinite(idleSeconds) || idleSeconds < 1) throw new Error('--idle-seconds must be a number ≥ 1');
  const settledSeconds = Number(values['settled-seconds']);
  // After the idle window (3 s settle + the window, from ready): a settled reading before it would be the same reading.
  if (!Number.isFinite(settledSeconds) || (settledSeconds !== 0 && settledSeconds < idleSeconds + 5)) throw new Error(`--settled-seconds must be 0 (no settled reading) or a number ≥ --idle-seconds + 5 (${idleSeconds + 5})`);
  const hubStarts = Number(values['hub-starts']);
  if (!Number.isInteger(hubStarts) || hubStarts < 1) throw new Error('--hub-starts must be an integer ≥ 1');
  const readyTimeoutMs = Number(values['ready-timeout-seconds']) * 1000;
  if (!Number.isFinite(readyTimeoutMs) || readyTimeoutMs < 1000) throw new Error('--ready-timeout-seconds must be a number ≥ 1');
  if (!existsSync('dist/src/cli.js')) throw new Error('dist/src/cli.js is missing: run `npm run build` first');
  const loadBefore = loadavg().map((l) => Number(l.toFixed(2)));
  const dataDir = mkdtempSync(join(tmpdir(), 'airwaves-footprint-'));
  const results: SetupResult[] = [];
  try {
    const cli = (env: NodeJS.ProcessEnv) => (port: number) => ({ ...CLI_BASE_ENV, AIRWAVES_PORT: String(port), ...env });
    // A fresh data directory per start (each a first start, as before): the last one is measured in full.
    let hubStart = 0;
    const hubEnv = (port: number) => cli({ AIRWAVES_APPS: '', AIRWAVES_DATA_DIR: join(dataDir, `hub-${++hubStart}`) })(port);
    results.push(await measureStarts('hub alone (AIRWAVES_APPS=)', hubEnv, hubStarts, idleSeconds, settledSeconds, readyTimeoutMs));
    results.push(await measure('all apps, first start', cli({ AIRWAVES_DATA_DIR: join(dataDir, 'all') }), idleSeconds, settledSeconds, readyTimeoutMs));
    results.push(await measure('all apps, restart', cli({ AIRWAVES_DATA_DIR: join(dataDir, 'all') }), idleSeconds, settledSeconds, readyTimeoutMs));
    const peer = [process.execPath, '--import', 'tsx', 'bench/hub/peer-ws-server.ts'];
    results.push(await measure('peer: bare ws server (tsx)', (port) => ({ PORT: String(port), HOST: '127.0.0.1' }), idleSeconds, 0, readyTimeoutMs, peer));
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
  const loadAfter = loadavg().map((l) => Number(l.toFixed(2)));
  // Node 20 reads and parses a NODE_EXTRA_CA_CERTS bundle when any process starts (~40 ms of a start on the 2-core machine), and every process spawned here inherits it.
  const extraCaCerts = process.env.NODE_EXTRA_CA_CERTS ?? null;
  // BENCH_SERVER_NODE_FLAGS (bench/shared/cli-process): Node/V8 flags the CLI ran with, named in the report (a launch-flag A/B).
  const nodeFlags = serverNodeFlags().join(' ') || null;
  // AIRWAVES_BUNDLE=off (src/cli.ts): the CLI loads the modules of dist/src instead of its bundles; named in the report (an A/B).
  const bundle = process.env.AIRWAVES_BUNDLE ?? null;
  const record = { benchmark: 'footprint', at: new Date().toISOString(), machine: { cpus: cpus().length, node: process.version }, extraCaCerts, nodeFlags, bundle, loadBefore, loadAfter, idleSeconds, settledSeconds, hubStarts, results };
  writeFileSync(join(values.out!, 'footprint.json'), JSON.stringify(record, null, 2) + '\n');
  const md = [
    '# Footprint: start time and idle cost (npm run bench -- footprint)',
    '',
    `Run ${record.at}, ${record.machine.cpus} cores, Node ${record.machine.node}; load average before ${loadBefore.join(' / ')}, after ${loadAfter.join(' / ')}.`,
    extraCaCerts ? `Every process here (the server and the peer) inherited NODE_EXTRA_CA_CERTS=${extraCaCerts}, which Node 20 parses when a process starts (~40 ms of a start on the 2-core machine).` : 'No NODE_EXTRA_CA_CERTS in the environment.',
    bundle === 'off' ? 'AIRWAVES_BUNDLE=off: the CLI ran from the modules of dist/src, not from its bundles (an A/B).' : 'The CLI ran from its bundles as built (dist/hub for the hub alone, dist/all with apps; src/cli.ts).',
    nodeFlags ? `The CLI ran as \`node ${nodeFlags} dist/src/cli.js serve\` (BENCH_SERVER_NODE_FLAGS).` : 'The CLI ran as `node dist/src/cli.js serve` (no extra Node flags).',
    `The built CLI with default configuration, observed from outside: /readyz polled every 5 ms from spawn (and the CPU the process used until then, all threads; for the hub alone the medians of ${hubStarts} starts, each on a fresh data directory, listed below the table), then /readyz until its \`starting\` list is empty (apps start together and each serves as soon as it is in: the time each left the list, and when the last did; until then the routes of an app answer 503 app_starting); idle CPU from /proc over the idle window after a 3 s settle; RSS at the end of the window.`,
    settledSeconds
      ? `**Settled idle** (the last two columns): RSS and heap ${settledSeconds} s after spawn, after V8's memory reducer's first pass (~106 s after a start; RSS sampled every 5 s from the end of the idle window, the largest fall between two samples listed below the table). The window's RSS is a pre-reducer reading; **the < 250 MB all-apps idle target is judged on the settled reading.** The peer has no settled reading.`
      : 'Short mode (`--settled-seconds 0`): no settled reading; the RSS here is a pre-reducer reading (V8\'s memory reducer first runs ~106 s after a start), not the one the < 250 MB idle target is judged on.',
    '',
    `| setup | ready (ms) | each app serves (ms from spawn) | every app serves (ms) | CPU until ready (s) | idle CPU (% of a core) | RSS after the idle window (MB) | heap used then (MB) | settled RSS at ${settledSeconds || '—'} s (MB) | settled heap used (MB) |`,
    '|---|---|---|---|---|---|---|---|---|---|',
    ...results.map(
      (r) =>
        `| ${r.setup} | ${r.readyMs} | ${Object.entries(r.appServesMs).map(([a, ms]) => `${a} ${ms}`).join(', ') || '—'} | ${r.allAppsMs ?? '—'} | ${r.readyCpuSeconds} | ${r.idleCpuPercentOfCore} | ${r.rssMb} | ${r.heapUsedMb ?? '—'} | ${r.settled ? `**${r.settled.rssMb}**` : '—'} | ${r.settled?.heapUsedMb ?? '—'} |`,
    ),
    '',
    ...results.filter((r) => r.starts).map((r) => `${r.setup}, each start: ready ${r.starts!.readyMs.join(' / ')} ms, CPU until ready ${r.starts!.readyCpuSeconds.join(' / ')} s.`),
    '',
    ...results.filter((r) => r.settled).map((r) => `${r.setup}: RSS ${r.rssMb} MB after the idle window, ${r.settled!.rssMb} MB at ${r.settled!.atSeconds} s; ${r.settled!.largestFall ? `largest fall ${r.settled!.largestFall.mb} MB in the 5 s to ${r.settled!.largestFall.atSeconds} s` : 'no fall after the idle window'}.`),
    '',
  ].join('\n');
  writeFileSync(join(values.out!, 'footprint.md'), md);
  console.log(`\nwrote ${join(values.out!, 'footprint.json')} and footprint.md`);
}
