/**
 * @module bench/start
 * Does the hub answer while the apps start? The built CLI (`node dist/src/cli.js serve`, run
 * `npm run build` first) with default configuration, on a fresh data directory (first start:
 * PGlite's initdb, migrations) and again on the same directory (restart), `--tries` times each.
 * Observed from outside while the apps start:
 * - `/readyz` (the hub serves) and `/readyz?apps=all` (every app serves), ms from spawn;
 * - a WebSocket handshake to the hub (anonymous, `/ws`) opened every 250 ms from the moment
 *   `/readyz` answers until every app serves: ms to `open`, and how many took over 10 s (the
 *   SDK's connect timeout) or never opened;
 * - the server's own event-loop delay (perf_hooks monitorEventLoopDelay, which prom-client
 *   exports as nodejs_eventloop_lag_max_seconds and resets on each scrape): /metrics scraped
 *   every second, so each figure is the longest stall within about a second.
 * The peer in the same run: the same handshakes against the hub alone (`AIRWAVES_APPS=`), idle.
 *
 * Usage: npm run bench -- start [--tries 3] [--cli dist/src/cli.js] [--label after] [--out bench/results]
 */
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { percentile } from '../shared/percentile.js';
import { CLI_BASE_ENV, CliProcess } from '../shared/cli-process.js';

const HANDSHAKE_TIMEOUT_MS = 10_000;

interface StartResult {
  setup: string;
  readyMs: number;
  allAppsMs: number;
  handshakes: { count: number; p50: number; p99: number; max: number; over10s: number };
  /** Longest event-loop stall seen by each scrape (ms), and the worst of them. */
  loopMaxMs: number;
  loopP99Ms: number;
  loadAtStart: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Ms from now until a WebSocket to `url` opens, or HANDSHAKE_TIMEOUT_MS when it does not. */
function handshake(url: string): Promise<number> {
  const started = performance.now();
  return new Promise((done) => {
    const ws = new WebSocket(url);
    const timer = setTimeout(() => finish(HANDSHAKE_TIMEOUT_MS), HANDSHAKE_TIMEOUT_MS);
    const finish = (ms: number) => {
      clearTimeout(timer);
      ws.removeAllListeners();
      ws.on('error', () => {});
      ws.terminate();
      done(ms);
    };
    ws.once('open', () => finish(performance.now() - started));
    ws.once('error', () => finish(HANDSHAKE_TIMEOUT_MS));
  });
}

/** nodejs_eventloop_lag_max_seconds since the previous scrape, in ms (null when /metrics did not answer). */
async function loopMaxMs(base: string): Promise<number | null> {
  const text = await fetch(`${base}/metrics`).then((r) => r.text(), () => '');
  const m = /^nodejs_eventloop_lag_max_seconds (\S+)/m.exec(text);
  return m ? Number(m[1]) * 1000 : null;
}

function summary(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50: Math.round(percentile(sorted, 50)),
    p99: Math.round(percentile(sorted, 99)),
    max: Math.round(sorted[sorted.length - 1] ?? NaN),
    over10s: sorted.filter((ms) => ms >= HANDSHAKE_TIMEOUT_MS).length,
  };
}

/** Starts the CLI and watches it until every app serves (or, `idleMs` given, for that long after /readyz). */
async function measure(setup: string, cli: string, env: NodeJS.ProcessEnv, timeoutMs: number, idleMs?: number): Promise<StartResult> {
  const loadAtStart = Number(loadavg()[0]!.toFixed(2));
  const server = await CliProcess.start({ cli, env: (port) => ({ ...CLI_BASE_ENV, AIRWAVES_PORT: String(port), ...env }) });
  const { base, port } = server;
  try {
    const readyMs = Math.round(await server.waitReady(timeoutMs).catch((err: Error) => Promise.reject(new Error(`${setup}: ${err.message}`))));
    const handshakes: Promise<number>[] = [];
    const loops: number[] = [];
    let allAppsMs = 0;
    let done = false;
    const prober = (async () => {
      while (!done) {
        handshakes.push(handshake(`ws://127.0.0.1:${port}/ws`));
        await sleep(250);
      }
    })();
    const scraper = (async () => {
      await loopMaxMs(base); // starts the window: what came before /readyz is module loading
      while (!done) {
        await sleep(1000);
        const ms = await loopMaxMs(base);
        if (ms !== null) loops.push(ms);
      }
    })();
    try {
      if (idleMs !== undefined) await sleep(idleMs);
      else await server.waitAllApps(Math.max(1, timeoutMs - server.elapsedMs())).catch((err: Error) => Promise.reject(new Error(`${setup}: ${err.message}`)));
      allAppsMs = Math.round(server.elapsedMs());
      await sleep(1000); // one more scrape window and handshake past the last app
    } finally {
      done = true;
      await Promise.all([prober, scraper]);
    }
    const sortedLoops = [...loops].sort((a, b) => a - b);
    const result: StartResult = {
      setup,
      readyMs,
      allAppsMs,
      handshakes: summary(await Promise.all(handshakes)),
      loopMaxMs: Math.round(sortedLoops[sortedLoops.length - 1] ?? NaN),
      loopP99Ms: Math.round(percentile(sortedLoops, 99)),
      loadAtStart,
    };
    const h = result.handshakes;
    console.log(
      `${setup.padEnd(24)} load ${String(loadAtStart).padStart(5)}  /readyz ${String(readyMs).padStart(5)} ms  apps=all ${String(allAppsMs).padStart(6)} ms  ` +
        `WS handshake p50 ${h.p50} / p99 ${h.p99} / max ${h.max} ms (${h.count}, ${h.over10s} ≥ 10 s)  event-loop stall max ${result.loopMaxMs} ms`,
    );
    return result;
  } finally {
    await server.stop();
  }
}

export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      tries: { type: 'string', default: '3' },
      cli: { type: 'string', default: 'dist/src/cli.js' },
      label: { type: 'string', default: 'start' },
      out: { type: 'string', default: 'bench/results' },
      'timeout-seconds': { type: 'string', default: '300' },
    },
  });
  const tries = Number(values.tries);
  if (!Number.isInteger(tries) || tries < 1) throw new Error('--tries must be an integer ≥ 1');
  const cli = resolve(values.cli!);
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`npm run build\` first`);
  const timeoutMs = Number(values['timeout-seconds']) * 1000;
  const loadBefore = loadavg().map((l) => Number(l.toFixed(2)));
  const results: StartResult[] = [];
  const scratch = mkdtempSync(join(tmpdir(), 'airwaves-start-'));
  try {
    results.push(await measure('peer: hub alone, idle', cli, { AIRWAVES_APPS: '', AIRWAVES_DATA_DIR: join(scratch, 'hub') }, timeoutMs, 5000));
    for (let i = 1; i <= tries; i++) {
      const dataDir = join(scratch, `all-${i}`);
      results.push(await measure(`first start #${i}`, cli, { AIRWAVES_DATA_DIR: dataDir }, timeoutMs));
      results.push(await measure(`restart #${i}`, cli, { AIRWAVES_DATA_DIR: dataDir }, timeoutMs));
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  const loadAfter = loadavg().map((l) => Number(l.toFixed(2)));
  const record = { benchmark: 'start', label: values.label, cli: values.cli, at: new Date().toISOString(), machine: { cpus: cpus().length, node: process.version }, loadBefore, loadAfter, results };
  const name = values.label === 'start' ? 'start' : `start-${values.label}`;
  writeFileSync(join(values.out!, `${name}.json`), JSON.stringify(record, null, 2) + '\n');
  const peer = results[0]!.handshakes.p50;
  const md = [
    `# Start: does the hub answer while the apps start? (npm run bench -- start, ${values.label})`,
    '',
    `Run ${record.at}, ${record.machine.cpus} cores, Node ${record.machine.node}, \`${values.cli}\`; load average before ${loadBefore.join(' / ')}, after ${loadAfter.join(' / ')}.`,
    'Default configuration, all apps. WebSocket handshakes opened every 250 ms from `/readyz` until `/readyz?apps=all` (plus 1 s); event-loop stall = the server\'s nodejs_eventloop_lag_max_seconds, scraped every second (reset by each scrape). The peer is the hub alone, idle, in the same run.',
    '',
    '| setup | load at start | /readyz (ms) | apps=all (ms) | WS handshakes | p50 / p99 / max (ms) | ≥ 10 s | × peer p50 | event-loop stall max (ms) |',
    '|---|---|---|---|---|---|---|---|---|',
    ...results.map((r) => {
      const h = r.handshakes;
      return `| ${r.setup} | ${r.loadAtStart} | ${r.readyMs} | ${r.setup.startsWith('peer') ? '—' : r.allAppsMs} | ${h.count} | ${h.p50} / ${h.p99} / ${h.max} | ${h.over10s} | ${(h.p50 / peer).toFixed(1)} | ${r.loopMaxMs} |`;
    }),
    '',
  ].join('\n');
  writeFileSync(join(values.out!, `${name}.md`), md);
  console.log(`\nwrote ${join(values.out!, `${name}.json`)} and ${name}.md`);
}
