/**
 * @module bench/hub/servers
 * Starts each server under test as its own process on a free loopback port, and reads any
 * process's CPU time and resident memory from /proc (so the server, the receivers and the
 * publisher are all measured the same way, from outside).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, readdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LeanSocket } from './lean-socket.js';
import { clientScript, pathFor, type ServerKind } from './wire.js';
import { serverNodeFlags } from '../shared/node-flags.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(here, '..', '..');
export const HOST = '127.0.0.1';

/** Clock ticks per second of /proc/<pid>/stat times; 100 on every Linux this runs on. */
export const CLK_TCK = 100;

export interface ProcSample {
  cpuSeconds: number;
  rssBytes: number;
  at: number;
}

export function sampleProc(pid: number): ProcSample {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after "pid (comm) ": state is [0], utime [11], stime [12] (fields 14 and 15 of proc(5)).
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuSeconds = (Number(rest[11]) + Number(rest[12])) / CLK_TCK;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return { cpuSeconds, rssBytes: m ? Number(m[1]) * 1024 : 0, at: performance.now() };
}

/**
 * CPU seconds used so far by a PostgreSQL cluster: the postmaster with its reaped children
 * (backends that exited), and its live children.
 */
export function postgresCpuSeconds(postmasterPid: number): number {
  let ticks = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // After "pid (comm) ": ppid [1], utime [11], stime [12], cutime [13], cstime [14].
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(entry) === postmasterPid) ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    else if (Number(f[1]) === postmasterPid) ticks += Number(f[11]) + Number(f[12]);
  }
  return ticks / CLK_TCK;
}

/** CPU use between two samples as a percentage of one core. */
export function cpuPercent(a: ProcSample, b: ProcSample): number {
  const wall = (b.at - a.at) / 1000;
  return wall > 0 ? (100 * (b.cpuSeconds - a.cpuSeconds)) / wall : 0;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, HOST, () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Busy and total jiffies of the whole machine (all cores), from the first line of /proc/stat. */
export interface MachineSample {
  busy: number;
  total: number;
}

export function sampleMachine(): MachineSample {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const total = v.reduce((a, b) => a + b, 0);
  const idle = v[3] + (v[4] ?? 0); // idle + iowait
  return { busy: total - idle, total };
}

/** Whole-machine CPU between two samples, as a percentage of ONE core (so 200 = both cores busy on a 2-core box). */
export function machineCpuPercent(a: MachineSample, b: MachineSample, cores: number): number {
  const total = b.total - a.total;
  return total > 0 ? (100 * cores * (b.busy - a.busy)) / total : 0;
}

let dataDir: string | undefined;

/**
 * One data directory for every Airwaves server of a run: apps that open the embedded database
 * initialise it once, not at every server start.
 */
function benchDataDir(): string {
  return (dataDir ??= mkdtempSync(join(tmpdir(), 'airwaves-bench-')));
}

export function removeDataDir(): void {
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  dataDir = undefined;
}

/** The server's own view of its memory right after a full GC (see gc-on-signal.ts). */
export interface ServerMemory {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

export interface RunningServer {
  kind: ServerKind;
  port: number;
  pid: number;
  /** Default apps only: ms from the hub serving to `/readyz?apps=all`, then to the process's CPU settling (see settle()). */
  startup?: { appsReadyMs: number; settledMs: number; settledCpuPercent: number };
  /** Asks the server for a full GC (the gc-on-signal preload), waits for it to settle and returns the server's memory reading. */
  collectGarbage(): Promise<ServerMemory>;
  stop(): Promise<void>;
}

/** The built CLI, as a user runs it (`npm run build` makes it). */
export const BUILT_CLI = join(repoRoot, 'dist', 'src', 'cli.js');

/**
 * Command line for each server. The tsx-run servers share a preload (a GC on SIGUSR2, the stall
 * recorder); the built CLI runs bare, exactly as a user starts it.
 */
function commandFor(kind: ServerKind, profileDir?: string): string[] {
  // BENCH_SERVER_NODE_FLAGS: extra Node/V8 flags for the servers under test (diagnosis: --trace-gc-nvp).
  const extra = serverNodeFlags();
  const profile = [...extra, ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [])];
  if (kind === 'airwaves-cli' || kind === 'airwaves-cli-all') return [...profile, BUILT_CLI, 'serve'];
  const preload = [...profile, '--expose-gc', '--import', 'tsx', '--import', join(here, 'gc-on-signal.ts'), '--import', join(here, 'stall-recorder.ts')];
  if (kind === 'airwaves') return [...preload, join(repoRoot, 'src', 'cli.ts'), 'serve'];
  if (kind === 'ws' || kind === 'ws-frame') return [...preload, join(here, 'peer-ws-server.ts'), ...(kind === 'ws-frame' ? ['--one-frame'] : [])];
  return [...preload, join(here, 'peer-socketio-server.ts')];
}

/**
 * What the benchmark sets besides the port: a `bench` namespace anyone may publish to and
 * per-client limits raised for one publisher at 1,000 msg/s and 1,000 connections from one
 * address. The built-CLI kinds get nothing else — their apps are the default ones (all) or none
 * (`AIRWAVES_APPS=`); the tsx-run hub also turns the radio off, as the older modes always did.
 */
function airwavesEnv(kind: ServerKind): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    AIRWAVES_API_KEY: 'bench-api-key-0123456789abcdef-0123456789',
    AIRWAVES_MAX_CONNECTIONS_PER_IP: '1000000',
    AIRWAVES_COMMAND_RATE: '1000000',
    AIRWAVES_PUBLISH_RATE: '1000000',
    AIRWAVES_PUBLISH_BYTES_RATE: '1000000000',
    AIRWAVES_NAMESPACES: JSON.stringify([{ name: 'bench', publish: 'anonymous', subscribe: 'anonymous', historySize: 1000, maxMessageBytes: 65536 }]),
  };
  if (kind === 'airwaves') env.AIRWAVES_RADIO_ENABLED = 'false';
  if (kind === 'airwaves-cli') env.AIRWAVES_APPS = '';
  // A second live app's RTMP listener must not collide with another run's.
  if (kind === 'airwaves-cli-all') env.AIRWAVES_LIVE_RTMP_PORT = '0';
  return env;
}

export async function startServer(kind: ServerKind, profileDir?: string): Promise<RunningServer> {
  const port = await freePort();
  const memoryFile = join(benchDataDir(), `memory-${kind}-${port}.json`);
  if ((kind === 'airwaves-cli' || kind === 'airwaves-cli-all') && !existsSync(BUILT_CLI)) throw new Error(`${BUILT_CLI} is missing: run \`npm run build\` first`);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    BENCH_MEMORY_FILE: memoryFile,
    ...(profileDir ? { BENCH_STALL_FILE: join(profileDir, `stalls-${kind}-${port}.json`), BENCH_HEAP_SAMPLE_FILE: join(profileDir, `heap-${kind}-${port}.heapprofile`) } : {}),
    PORT: String(port),
    HOST,
    AIRWAVES_PORT: String(port),
    AIRWAVES_HOST: HOST,
    AIRWAVES_LOG_LEVEL: 'warn',
    AIRWAVES_DATA_DIR: join(benchDataDir(), kind),
    ...airwavesEnv(kind),
  };
  // The default apps, unless BENCH_SERVER_APPS names a subset (the soak's --apps, for bisecting by app).
  if (kind === 'airwaves-cli-all') {
    if (process.env.BENCH_SERVER_APPS === undefined) delete env.AIRWAVES_APPS;
    else env.AIRWAVES_APPS = process.env.BENCH_SERVER_APPS;
  }
  // With --profile-server, the server's standard output (what --trace-gc prints) goes beside the profiles.
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  // BENCH_SERVER_STDOUT (a file) keeps it without profiling (the soak's diagnosis with --trace-gc).
  const stdoutFile = profileDir ? join(profileDir, `stdout-${kind}-${port}.txt`) : process.env.BENCH_SERVER_STDOUT;
  const stdout = stdoutFile ? openSync(stdoutFile, 'w') : 'ignore';
  const child: ChildProcess = spawn(process.execPath, commandFor(kind, profileDir), { cwd: repoRoot, env, stdio: ['ignore', stdout, 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => {
    stderr += c.toString();
    if (stderr.length > 20_000) stderr = stderr.slice(-10_000);
  });
  let exited = false;
  const exit = new Promise<void>((r) => child.once('exit', () => ((exited = true), r())));
  // 180 s: under a load average of 10–35, an all-apps first start (PGlite initdb, through tsx) took over 60 s.
  const deadline = Date.now() + 180_000;
  for (;;) {
    if (exited) {
      throw new Error(`${kind} server exited during start:\n${stderr.slice(-2000)}`);
    }
    if (await probe(kind, port)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${kind} server did not accept WebSockets within 180 s:\n${stderr.slice(-2000)}`);
    }
    await sleep(200);
  }
  // The hub serves while the apps start: the default-apps server is measured once every app
  // serves and its start-up work is over, as a server in production would be.
  const startup = kind === 'airwaves-cli-all' ? await settle(port, child.pid!, deadline) : undefined;
  return {
    kind,
    port,
    pid: child.pid!,
    startup,
    async collectGarbage() {
      rmSync(memoryFile, { force: true });
      child.kill('SIGUSR2');
      // The reading appears once the collection is over; RSS settles a little after that.
      const deadline = Date.now() + 10_000;
      while (!existsSync(memoryFile) && Date.now() < deadline) await sleep(50);
      await sleep(500);
      if (!existsSync(memoryFile)) throw new Error(`${kind} server wrote no memory reading within 10 s`);
      return JSON.parse(readFileSync(memoryFile, 'utf8')) as ServerMemory;
    },
    async stop() {
      if (!exited) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 8000);
        await exit;
        clearTimeout(timer);
      }
      if (stderr.trim()) process.stderr.write(`[${kind} server stderr]\n${stderr.slice(-3000)}\n`);
    },
  };
}

/** True once a WebSocket client can complete the server's handshake. */
/** A server has settled once its CPU over this window is under SETTLED_CPU_PERCENT of a core... */
const SETTLE_WINDOW_MS = 2000;
const SETTLED_CPU_PERCENT = 10;
/** ...or after this long, whatever it does (the figure says so). */
const SETTLE_MAX_MS = 60_000;

/**
 * Waits for `/readyz?apps=all` (every app serves), then for the start-up work to end: the
 * process's CPU over a 2 s window under 10 % of a core, at most 60 s.
 */
async function settle(port: number, pid: number, deadline: number): Promise<{ appsReadyMs: number; settledMs: number; settledCpuPercent: number }> {
  const started = performance.now();
  for (;;) {
    const ok = await fetch(`http://${HOST}:${port}/readyz?apps=all`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error('airwaves-cli-all: /readyz?apps=all did not answer 200 within 180 s');
    await sleep(200);
  }
  const appsReadyMs = Math.round(performance.now() - started);
  let cpu = Infinity;
  while (performance.now() - started - appsReadyMs < SETTLE_MAX_MS) {
    const a = sampleProc(pid);
    await sleep(SETTLE_WINDOW_MS);
    cpu = cpuPercent(a, sampleProc(pid));
    if (cpu < SETTLED_CPU_PERCENT) break;
  }
  return { appsReadyMs, settledMs: Math.round(performance.now() - started), settledCpuPercent: Math.round(cpu * 10) / 10 };
}

async function probe(kind: ServerKind, port: number): Promise<boolean> {
  try {
    const script = clientScript(kind, null);
    let done: () => void = () => {};
    const ready = new Promise<void>((r) => (done = r));
    const s = await LeanSocket.open(
      {
        host: HOST,
        port,
        path: pathFor(kind),
        onFrame: (buf, start, end, _opcode, _at, socket) => {
          const out = script.onText(buf.toString('utf8', start, end));
          if (out.reply) socket.sendText(out.reply);
          if (out.ready) done();
        },
      },
      2000,
    );
    if (kind !== 'socketio') done();
    const ok = await Promise.race([ready.then(() => true), sleep(2000).then(() => false)]);
    s.close();
    return ok;
  } catch {
    return false;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
