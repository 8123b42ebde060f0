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
 * Usage: npm run bench -- footprint [--idle-seconds 60] [--ready-timeout-seconds 180] [--out bench/results]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

interface SetupResult {
  setup: string;
  readyMs: number;
  /** Spawn to `/readyz?apps=all` 200: every enabled app serves too (null for the bare peer). */
  allAppsMs: number | null;
  /** Spawn to the moment each app left `/readyz`'s `starting` list (its routes serve), in the order they came. */
  appServesMs: Record<string, number>;
  /** CPU (user + system, all threads) the process used from spawn to ready, in seconds. */
  readyCpuSeconds: number;
  idleSeconds: number;
  idleCpuPercentOfCore: number;
  rssMb: number;
  heapUsedMb: number | null;
}

const CLK_TCK = 100;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** utime + stime of a process, in clock ticks (/proc/<pid>/stat fields 14 and 15). */
function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/**
 * Polls until the server answers: `/readyz` with 200, or — for the bare ws peer, which answers
 * plain HTTP with 426 — any HTTP answer at all.
 */
async function waitReady(url: string, child: ChildProcess, timeoutMs: number, anyAnswer = false): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode} before it was ready`);
    try {
      const res = await fetch(url);
      if (res.ok || anyAnswer) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`${url} not ready within ${timeoutMs} ms`);
}

/**
 * Polls `/readyz` (its body names the apps still `starting`) until none is left, noting when each
 * app left the list: apps start together and each serves as soon as it is in.
 */
async function watchAppsServe(url: string, child: ChildProcess, started: number, timeoutMs: number): Promise<Record<string, number>> {
  const deadline = Date.now() + timeoutMs;
  const seen = new Set<string>();
  const served: Record<string, number> = {};
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode} before every app served`);
    // A refused or reset connection on a starved machine is retried, as waitReady does.
    const body = (await fetch(url).then((res) => res.json(), () => null).catch(() => null)) as { starting?: string[] } | null;
    if (!body) {
      await new Promise((r) => setTimeout(r, 5));
      continue;
    }
    const starting = new Set(body.starting ?? []);
    for (const app of starting) seen.add(app);
    for (const app of seen) if (!starting.has(app) && served[app] === undefined) served[app] = Math.round(performance.now() - started);
    if (starting.size === 0) return served;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`${url}: apps still starting after ${timeoutMs} ms`);
}

async function heapUsedMb(base: string): Promise<number | null> {
  try {
    const text = await (await fetch(`${base}/metrics`)).text();
    const m = /^nodejs_heap_size_used_bytes (\S+)/m.exec(text);
    return m ? Number(m[1]) / 1024 / 1024 : null;
  } catch {
    return null;
  }
}

async function measure(setup: string, command: string[], env: NodeJS.ProcessEnv, port: number, idleSeconds: number, readyTimeoutMs: number, anyAnswer = false): Promise<SetupResult> {
  const started = performance.now();
  const child = spawn(command[0]!, command.slice(1), { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  try {
    await waitReady(`http://127.0.0.1:${port}${anyAnswer ? '/' : '/readyz'}`, child, readyTimeoutMs, anyAnswer);
    const readyMs = performance.now() - started;
    const readyCpuSeconds = Number((cpuTicks(child.pid!) / CLK_TCK).toFixed(2));
    // The apps start behind the open port (their routes answer 503 app_starting until then).
    let allAppsMs: number | null = null;
    let appServesMs: Record<string, number> = {};
    if (!anyAnswer) {
      appServesMs = await watchAppsServe(`http://127.0.0.1:${port}/readyz`, child, started, readyTimeoutMs);
      allAppsMs = Math.round(performance.now() - started);
    }
    // Let start-up work (JIT, first GC, app warm-up) settle before the idle window.
    await new Promise((r) => setTimeout(r, 3000));
    const t0 = cpuTicks(child.pid!);
    const w0 = performance.now();
    await new Promise((r) => setTimeout(r, idleSeconds * 1000));
    const cpu = ((cpuTicks(child.pid!) - t0) / CLK_TCK) / ((performance.now() - w0) / 1000);
    const heap = await heapUsedMb(`http://127.0.0.1:${port}`);
    const result = { setup, readyMs: Math.round(readyMs), allAppsMs, appServesMs, readyCpuSeconds, idleSeconds, idleCpuPercentOfCore: Number((cpu * 100).toFixed(2)), rssMb: Number(rssMb(child.pid!).toFixed(1)), heapUsedMb: heap === null ? null : Number(heap.toFixed(1)) };
    console.log(`${setup.padEnd(34)} ready ${String(result.readyMs).padStart(5)} ms (${result.readyCpuSeconds} s CPU), every app ${result.allAppsMs ?? '—'} ms${Object.keys(appServesMs).length ? ` (${Object.entries(appServesMs).map(([a, ms]) => `${a} ${ms}`).join(', ')})` : ''}  idle CPU ${result.idleCpuPercentOfCore.toFixed(2).padStart(5)} % of a core  RSS ${result.rssMb} MB  heap ${result.heapUsedMb ?? '—'} MB`);
    return result;
  } catch (err) {
    throw new Error(`${setup}: ${(err as Error).message}\n${stderr}`);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
  }
}

export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { 'idle-seconds': { type: 'string', default: '60' }, 'ready-timeout-seconds': { type: 'string', default: '180' }, out: { type: 'string', default: 'bench/results' } } });
  const idleSeconds = Number(values['idle-seconds']);
  if (!Number.isFinite(idleSeconds) || idleSeconds < 1) throw new Error('--idle-seconds must be a number ≥ 1');
  const readyTimeoutMs = Number(values['ready-timeout-seconds']) * 1000;
  if (!Number.isFinite(readyTimeoutMs) || readyTimeoutMs < 1000) throw new Error('--ready-timeout-seconds must be a number ≥ 1');
  if (!existsSync('dist/src/cli.js')) throw new Error('dist/src/cli.js is missing: run `npm run build` first');
  const loadBefore = loadavg().map((l) => Number(l.toFixed(2)));
  const dataDir = mkdtempSync(join(tmpdir(), 'airwaves-footprint-'));
  const results: SetupResult[] = [];
  try {
    const cli = [process.execPath, 'dist/src/cli.js', 'serve'];
    const base = { AIRWAVES_HOST: '127.0.0.1', AIRWAVES_LOG_LEVEL: 'warn', AIRWAVES_LIVE_RTMP_PORT: '0' };
    let port = await freePort();
    results.push(await measure('hub alone (AIRWAVES_APPS=)', cli, { ...base, AIRWAVES_PORT: String(port), AIRWAVES_APPS: '', AIRWAVES_DATA_DIR: join(dataDir, 'hub') }, port, idleSeconds, readyTimeoutMs));
    port = await freePort();
    results.push(await measure('all apps, first start', cli, { ...base, AIRWAVES_PORT: String(port), AIRWAVES_DATA_DIR: join(dataDir, 'all') }, port, idleSeconds, readyTimeoutMs));
    port = await freePort();
    results.push(await measure('all apps, restart', cli, { ...base, AIRWAVES_PORT: String(port), AIRWAVES_DATA_DIR: join(dataDir, 'all') }, port, idleSeconds, readyTimeoutMs));
    port = await freePort();
    results.push(await measure('peer: bare ws server (tsx)', [process.execPath, '--import', 'tsx', 'bench/hub/peer-ws-server.ts'], { PORT: String(port), HOST: '127.0.0.1' }, port, idleSeconds, readyTimeoutMs, true));
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
  const loadAfter = loadavg().map((l) => Number(l.toFixed(2)));
  const record = { benchmark: 'footprint', at: new Date().toISOString(), machine: { cpus: cpus().length, node: process.version }, loadBefore, loadAfter, idleSeconds, results };
  writeFileSync(join(values.out!, 'footprint.json'), JSON.stringify(record, null, 2) + '\n');
  const md = [
    '# Footprint: start time and idle cost (npm run bench -- footprint)',
    '',
    `Run ${record.at}, ${record.machine.cpus} cores, Node ${record.machine.node}; load average before ${loadBefore.join(' / ')}, after ${loadAfter.join(' / ')}.`,
    'The built CLI with default configuration, observed from outside: /readyz polled every 5 ms from spawn (and the CPU the process used until then, all threads), then /readyz until its `starting` list is empty (apps start together and each serves as soon as it is in: the time each left the list, and when the last did; until then the routes of an app answer 503 app_starting); idle CPU from /proc over the idle window after a 3 s settle; RSS at the end of the window.',
    '',
    '| setup | ready (ms) | each app serves (ms from spawn) | every app serves (ms) | CPU until ready (s) | idle CPU (% of a core) | RSS (MB) | heap used (MB) |',
    '|---|---|---|---|---|---|---|---|',
    ...results.map(
      (r) =>
        `| ${r.setup} | ${r.readyMs} | ${Object.entries(r.appServesMs).map(([a, ms]) => `${a} ${ms}`).join(', ') || '—'} | ${r.allAppsMs ?? '—'} | ${r.readyCpuSeconds} | ${r.idleCpuPercentOfCore} | ${r.rssMb} | ${r.heapUsedMb ?? '—'} |`,
    ),
    '',
  ].join('\n');
  writeFileSync(join(values.out!, 'footprint.md'), md);
  console.log(`\nwrote ${join(values.out!, 'footprint.json')} and footprint.md`);
}
