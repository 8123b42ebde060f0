/**
 * @module bench/live/server
 * Starts bench/live/server-process, compiled (dist/bench/live/server-process.js), in a child process and talks to it over the fork IPC channel:
 * `ServerUnderTest` gives the bench the server's URL and RTMP port, its pid (CPU is read from
 * /proc like nginx's) and the few questions only the server can answer (keys, part timings).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serverNodeFlags } from '../shared/node-flags.js';

export type BenchRequest =
  | { op: 'createKey' }
  | { op: 'streamOfKey'; key: string }
  | { op: 'parts'; streamId: string }
  | { op: 'segments'; streamId: string }
  | { op: 'health'; streamId: string }
  | { op: 'abr'; streamId: string }
  | { op: 'close' };

export type BenchReply = { seq: number; ok: true; value: unknown } | { seq: number; ok: false; error: string };

export interface PartTiming {
  msn: number;
  index: number;
  availableAt: number;
  firstArrivalAt: number;
  /** The held requests the part released and the server's time answering them (Part.released). */
  released?: { early: number; earlyMs: number; all: number; allMs: number };
}

export interface AbrReply {
  pid: number | undefined;
  renditions: { name: string; fps: number; bitrateKbps: number }[];
  droppedFrames: number;
}

export interface IngestHealthReply {
  fps: number;
  droppedFrames: number;
  bitrateKbps: number;
}

/** /proc counts CPU time in ticks of 1/USER_HZ s (100 on Linux): the smallest step a CPU figure can take. */
export const TICKS = 100;

/** CPU seconds (user + system) a process (or one of its threads, `tid`) has used, from /proc. */
export function procCpuSeconds(pid: number, tid?: number): number {
  const fields = readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The compiled server process (`npm run build` makes it, with dist/src beside it). The bench runs
 * the server as users run it, from compiled JS: under tsx every named function became a
 * `__name(fn, "name")` call (esbuild's keepNames), an `Object.defineProperty` per closure
 * created, which made the bench's ingest figures tsx's, not ours.
 */
export const BUILT_SERVER_PROCESS = join(repoRoot, 'dist', 'bench', 'live', 'server-process.js');

/** Newest modification time (ms) of the files under a folder. */
function newestMtime(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

/**
 * Refuses to measure a missing or stale build: a figure taken from yesterday's dist/ would be
 * credited to today's sources. Stale means a file under src/ or bench/live/ is newer than the
 * build's stamp (dist/.build-stamp, the time `npm run build` started).
 */
export function assertBuiltServerFresh(): void {
  const rel = relative(process.cwd(), BUILT_SERVER_PROCESS) || BUILT_SERVER_PROCESS;
  if (!existsSync(BUILT_SERVER_PROCESS)) throw new Error(`live bench: ${rel} is missing: run \`npm run build\` first (the bench runs the compiled server, as users do)`);
  const stampFile = join(repoRoot, 'dist', '.build-stamp');
  const stamp = existsSync(stampFile) ? statSync(stampFile).mtimeMs : 0;
  for (const input of ['src', join('bench', 'live')]) {
    if (newestMtime(join(repoRoot, input)) > stamp) throw new Error(`live bench: dist/ is older than ${input}/ (a source changed since the last build): run \`npm run build\` first`);
  }
}

export class ServerUnderTest {
  private seq = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
    readonly rtmpPort: number,
  ) {
    child.on('message', (raw) => {
      const reply = raw as BenchReply;
      const waiter = this.pending.get(reply.seq);
      if (!waiter) return;
      this.pending.delete(reply.seq);
      if (reply.ok) waiter.resolve(reply.value);
      else waiter.reject(new Error(reply.error));
    });
  }

  /** `cpuProfileDir` runs the server with `node --cpu-prof` (the profile is written on close). */
  static async start(options: { cpuProfileDir?: string; env?: Record<string, string> } = {}): Promise<ServerUnderTest> {
    assertBuiltServerFresh();
    const execArgv = [...serverNodeFlags(), ...(options.cpuProfileDir ? ['--cpu-prof', '--cpu-prof-dir', options.cpuProfileDir] : [])];
    const child = fork(BUILT_SERVER_PROCESS, [], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, ...options.env } });
    const ready = await new Promise<{ url: string; rtmpPort: number }>((resolve, reject) => {
      child.once('message', (m) => resolve(m as { url: string; rtmpPort: number }));
      child.once('exit', (code) => reject(new Error(`the server process exited with ${code} before it was ready`)));
    });
    return new ServerUnderTest(child, ready.url, ready.rtmpPort);
  }

  get pid(): number {
    return this.child.pid!;
  }

  cpuSeconds(): number {
    return procCpuSeconds(this.pid);
  }

  private ask<T>(req: BenchRequest): Promise<T> {
    const seq = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(seq, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ ...req, seq });
    });
  }

  createKey = () => this.ask<string>({ op: 'createKey' });
  streamOfKey = (key: string) => this.ask<string | null>({ op: 'streamOfKey', key });
  parts = (streamId: string) => this.ask<PartTiming[]>({ op: 'parts', streamId });
  segments = (streamId: string) => this.ask<number>({ op: 'segments', streamId });
  health = (streamId: string) => this.ask<IngestHealthReply | null>({ op: 'health', streamId });
  abr = (streamId: string) => this.ask<AbrReply | null>({ op: 'abr', streamId });

  /** Waits until the stream published with `key` is live and has `segments` complete segments. */
  async waitLive(key: string, segments = 3, timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let id: string | null = null;
    while (Date.now() < deadline) {
      id ??= await this.streamOfKey(key);
      if (id && (await this.segments(id)) >= segments) return id;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`the stream of key ${key.slice(0, 9)}… did not go live within ${timeoutMs} ms`);
  }

  async close(): Promise<void> {
    const exited = new Promise((r) => this.child.once('exit', r));
    await this.ask({ op: 'close' }).catch(() => undefined);
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}
