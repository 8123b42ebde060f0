/**
 * @module bench/live/floor
 * `npx tsx bench/live/floor.ts [--viewers 2000] [--seconds 8] [--generators 2] [--server-cpu-quota 1.0] [--modes ours,http,net] [--rounds 1] [--out live-floor]`
 * How much of our server's CPU per LL-HLS request is ours: the same viewer load (bench/live/llhls-load.c through
 * `oursLlhls`, the same CPU groups and quota) against
 * - `ours`: the live app (bench/live/server-process, compiled), one 640x360 stream published with `-c copy`;
 * - `http`: a minimal Node `http` server (bench/live/floor-server.mjs) answering with the bytes ours sent;
 * - `net`: a minimal `net` server writing the same bytes as a canned HTTP/1.1 answer.
 * The floor servers' playlist and part (headers and sizes) are captured from ours at the start of the run, and they
 * publish a part every `partMs` as ours does, holding blocking requests until it is out. The modes run one after
 * the other, `--rounds` times, so a changing machine load shows as a spread between rounds, not as a difference
 * between modes. Writes bench/results/<out>.md and .json with the load beside every row.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildCGenerator } from './c-generator.js';
import { BenchCpuGroups, describeSplit } from './cpu-groups.js';
import type { Dist } from './delivery.js';
import { publishers, sourceFile, stopAll } from './ingest.js';
import { ServerUnderTest, type BenchReply, type PartTiming } from './server.js';
import { oursLlhls, type LoadResult, type LlhlsServer } from './viewer-load.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(here, '..', '..');
const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function arg(args: string[], name: string, fallback: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
}

interface RawAnswer {
  status: number;
  /** Flat `[name, value, …]`, without what any server adds itself (date, connection, keep-alive, content-length). */
  headers: string[];
  body: Buffer;
}

/** One GET over a fresh socket, the answer read as bytes (Content-Length bodies only, as ours sends). */
function rawGet(url: string): Promise<RawAnswer> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(u.port), u.hostname);
    let buf = Buffer.alloc(0);
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
      const headers: string[] = [];
      let length = 0;
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(':');
        const name = line.slice(0, colon).toLowerCase();
        const value = line.slice(colon + 1).trim();
        if (name === 'content-length') length = Number(value);
        else if (!['date', 'connection', 'keep-alive'].includes(name)) headers.push(name, value);
      }
      if (buf.length < end + 4 + length) return;
      socket.destroy();
      resolve({ status: Number(lines[0]!.split(' ')[1]), headers, body: buf.subarray(end + 4, end + 4 + length) });
    });
    socket.write(`GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nConnection: keep-alive\r\n\r\n`);
  });
}

export interface FloorJob {
  mode: 'http' | 'net';
  partMs: number;
  partsPerSegment: number;
  playlist: { headers: string[]; body: string; hint: string };
  part: { headers: string[]; bytes: number };
}

/** What the floor servers copy from ours: a live-edge playlist and its hinted part. */
async function capture(base: string): Promise<Omit<FloorJob, 'mode'>> {
  const playlist = await rawGet(`${base}/index.m3u8?viewer=floor-capture`);
  const text = playlist.body.toString('latin1');
  const hint = /PRELOAD-HINT:TYPE=PART,URI="(seg-\d+\.\d+\.m4s)"/.exec(text)?.[1];
  if (playlist.status !== 200 || !hint) throw new Error(`floor: no live-edge playlist to copy (${playlist.status})`);
  const part = await rawGet(`${base}/${hint}`);
  const partMs = Math.round(Number(/PART-TARGET=([\d.]+)/.exec(text)?.[1] ?? '0.25') * 1000);
  const indexes = [...text.matchAll(/#EXT-X-PART:[^\n]*URI="seg-\d+\.(\d+)\.m4s"/g)].map((m) => Number(m[1]));
  return { partMs, partsPerSegment: Math.max(...indexes) + 1, playlist: { headers: playlist.headers, body: text, hint }, part: { headers: part.headers, bytes: part.body.length } };
}

/** A floor server process: the `LlhlsServer` the viewer load needs (url, pid, part timings). */
class FloorServer implements LlhlsServer {
  private seq = 0;
  private readonly pending = new Map<number, (r: BenchReply) => void>();
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {
    child.on('message', (m) => {
      const r = m as BenchReply;
      this.pending.get(r.seq)?.(r);
      this.pending.delete(r.seq);
    });
  }

  static async start(job: FloorJob): Promise<FloorServer> {
    // Plain node with the scavenger the server runs (src/core/scavenger: serial), not the bench's tsx.
    const child = fork(join(here, 'floor-server.mjs'), [], { execArgv: ['--no-parallel-scavenge'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.send(job);
    const ready = await new Promise<{ url: string }>((resolve, reject) => {
      child.once('message', (m) => resolve(m as { url: string }));
      child.once('exit', (code) => reject(new Error(`floor server exited with ${code}`)));
    });
    return new FloorServer(child, ready.url);
  }

  get pid(): number {
    return this.child.pid!;
  }

  private ask(op: 'parts' | 'close'): Promise<unknown> {
    const seq = ++this.seq;
    return new Promise((resolve, reject) => {
      this.pending.set(seq, (r) => (r.ok ? resolve(r.value) : reject(new Error(r.error))));
      this.child.send({ op, seq });
    });
  }

  parts = async (_streamId: string) => (await this.ask('parts')) as PartTiming[];

  async close(): Promise<void> {
    const exited = new Promise((r) => this.child.once('exit', r));
    await this.ask('close').catch(() => undefined);
    await Promise.race([exited, sleep(5000)]);
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

/**
 * The kernel's count of connections dropped because a listen queue was full (/proc/net/netstat
 * ListenOverflows; this network namespace, so other work on the machine adds to it too). A dropped
 * SYN is sent again by the client after 1 s, then 3 s: a join burst beyond the listen backlog
 * shows as joining requests taking 1 or 3 s more, not as failures.
 */
export function listenOverflows(): number {
  const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n');
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const names = lines[i]!.split(' ');
    const at = names.indexOf('ListenOverflows');
    if (names[0] === 'TcpExt:' && at > 0) return Number(lines[i + 1]!.split(' ')[at]);
  }
  return NaN;
}

const ms = (d: Dist | undefined) => (d && d.n ? `p50 ${d.p50.toFixed(0)} · p95 ${d.p95.toFixed(0)} · p99 ${d.p99.toFixed(0)} · max ${d.max.toFixed(0)} ms` : '—');
/** Server CPU time per request answered (µs), as bench/live/index reports it. */
const perRequest = (r: LoadResult) => (r.split && r.requests ? (r.split.server.cpuPercent / 100) * r.seconds * 1e6 / r.requests : NaN);

export async function main(args: string[]): Promise<void> {
  const viewers = Number(arg(args, 'viewers', '2000'));
  const seconds = Number(arg(args, 'seconds', '8'));
  const rounds = Number(arg(args, 'rounds', '1'));
  const modes = arg(args, 'modes', 'ours,http,net').split(',');
  const quota = arg(args, 'server-cpu-quota', '1.0');
  const out = arg(args, 'out', 'live-floor');
  const dir = mkdtempSync(join(tmpdir(), 'airwaves-bench-floor-'));
  const compiled = buildCGenerator(dir);
  if (!compiled) throw new Error('floor: the compiled viewer generator is needed (no cc)');
  const generators = { processes: Number(arg(args, 'generators', '2')), compiled };
  const groups = BenchCpuGroups.create(Number(quota));
  const rows: { mode: string; round: number; result: LoadResult; usPerRequest: number; listenOverflows: number }[] = [];
  const ours = await ServerUnderTest.start();
  groups.addServer(ours.pid);
  const file = await sourceFile(dir, '640x360', '1M');
  const key = await ours.createKey();
  const [pub] = publishers(file, [`rtmp://127.0.0.1:${ours.rtmpPort}/live/${key}`]);
  groups.addGenerator(pub!.pid);
  let job: Omit<FloorJob, 'mode'> | undefined;
  try {
    const id = await ours.waitLive(key);
    job = await capture(`${ours.url}/api/v1/streams/${id}/media`);
    console.log(`floor: copied a playlist of ${job.playlist.body.length} B and a part of ${job.part.bytes} B, ${job.partsPerSegment} parts of ${job.partMs} ms per segment; load ${load()}`);
    for (let round = 1; round <= rounds; round++) {
      for (const mode of modes) {
        let r: LoadResult;
        const overflows = listenOverflows();
        if (mode === 'ours') {
          r = await oursLlhls(ours, id, viewers, generators, seconds, load, groups);
        } else {
          const floor = await FloorServer.start({ ...job, mode: mode as FloorJob['mode'] });
          groups.addServer(floor.pid);
          await sleep(1000);
          r = await oursLlhls(floor, 'floor', viewers, generators, seconds, load, groups);
          await floor.close();
        }
        const us = perRequest(r);
        rows.push({ mode, round, result: r, usPerRequest: us, listenOverflows: listenOverflows() - overflows });
        console.log(`floor ${mode} round ${round}, ${viewers} viewers: ${us.toFixed(1)} µs per request; blocking playlist ${ms(r.playlistDelay)}; part ${ms(r.partDelay)}; joining ${ms(r.joinPlaylist)}; ${rows.at(-1)!.listenOverflows} listen overflows; ${r.failures} failed of ${r.requests}; ${describeSplit(r.split!)}; load ${r.load}`);
        await sleep(2000);
      }
    }
  } finally {
    await stopAll([pub!]);
    await ours.close();
    groups.remove();
    rmSync(dir, { recursive: true, force: true });
  }
  const md = `# LL-HLS floor: CPU per request of ours against a minimal Node \`http\` and \`net\` server (\`npx tsx bench/live/floor.ts ${args.join(' ')}\`)

${viewers} LL-HLS viewers (bench/live/llhls-load.c, ${generators.processes} processes) for ${seconds} s against each server in turn, the server in a
${quota}-core CPU group, the generators in another (bench/live/cpu-groups). The floor servers (bench/live/floor-server.mjs)
answer with a copy of our playlist (${job?.playlist.body.length} B, its headers) and part (${job?.part.bytes} B), a part every ${job?.partMs} ms,
holding blocking requests until their part is out. CPU per request = server CPU over the window / requests answered.

Listen overflows: connections the kernel dropped over the window because a listen queue was full (the machine's
whole count, /proc/net/netstat; a dropped SYN is retried by the client 1 s, then 3 s later).

| mode | round | server CPU per request | blocking playlist (from part out) | part (from part out) | joining playlist | listen overflows | failed / requests | server CPU | load |
|---|---|---|---|---|---|---|---|---|---|
${rows.map(({ mode, round, result: r, usPerRequest, listenOverflows: lo }) => `| ${mode} | ${round} | ${usPerRequest.toFixed(1)} µs | ${ms(r.playlistDelay)} | ${ms(r.partDelay)} | ${ms(r.joinPlaylist)} | ${lo} | ${r.failures} / ${r.requests} | ${r.split!.server.cpuPercent.toFixed(0)} %, throttled ${r.split!.server.throttledPercent?.toFixed(0)} % | ${r.load} |`).join('\n')}
`;
  writeFileSync(join(repoRoot, 'bench', 'results', `${out}.md`), md);
  writeFileSync(join(repoRoot, 'bench', 'results', `${out}.json`), JSON.stringify({ at: new Date().toISOString(), args, job: job && { ...job, playlist: { ...job.playlist, body: undefined, bytes: job.playlist.body.length } }, rows: rows.map(({ mode, round, usPerRequest, listenOverflows: lo, result }) => ({ mode, round, usPerRequest, listenOverflows: lo, ...result })) }, null, 2));
  console.log(md);
}

if (import.meta.url === pathToFileURL(resolve(process.argv[1] ?? '')).href) await main(process.argv.slice(2));
