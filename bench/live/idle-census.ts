/**
 * @module bench/live/idle-census
 * What an idle bench server does after a stream: starts bench/live/server-process (compiled), has
 * one ffmpeg publish the 1080p30 copy-mode file for `--publish` s, stops it, waits 4 s (where the
 * ingest bench used to start its idle window), then reads the process's /proc CPU ticks each second
 * for `--idle` s, per thread, and prints them with 40 s window sums. With `--census DIR` the server
 * runs with bench/live/async-census preloaded (every callback and GC, both isolates) and the census
 * of the idle span is written to DIR. Usage (after `npm run build`):
 *   npx tsx bench/live/idle-census.ts [--publish 20] [--idle 150] [--census /tmp/census]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { procCpuSeconds, ServerUnderTest, TICKS } from './server.js';
import { publishers, sourceFile, stopAll } from './ingest.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const args = process.argv.slice(2);
const arg = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};
const publishS = Number(arg('publish', '20'));
const idleS = Number(arg('idle', '150'));
const censusDir = arg('census', '');
const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

const preload = join(dirname(fileURLToPath(import.meta.url)), 'async-census.mjs');
if (censusDir) process.env.BENCH_SERVER_NODE_FLAGS = `${process.env.BENCH_SERVER_NODE_FLAGS ?? ''} --import ${preload}`;
const server = await ServerUnderTest.start(censusDir ? { env: { CENSUS_OUT: join(censusDir, 'census.json') } } : {});
const { pid } = server;
/** CPU seconds of each thread of the server, by thread id. */
const threads = () => new Map(readdirSync(`/proc/${pid}/task`).map((tid) => [tid, procCpuSeconds(pid, Number(tid))] as const));

const file = await sourceFile(censusDir || '/tmp');
const key = await server.createKey();
const pubs = publishers(file, [`rtmp://127.0.0.1:${server.rtmpPort}/live/${key}`]);
await sleep(publishS * 1000);
await stopAll(pubs);
await sleep(4000);
console.log(`stream ended 4 s ago; load ${load()}`);

if (censusDir) process.kill(pid, 'SIGWINCH');
const ticks: number[] = [];
let before = threads();
for (let s = 0; s < idleS; s++) {
  await sleep(1000);
  const now = threads();
  const busy = [...now].map(([tid, cpu]) => [tid, Math.round((cpu - (before.get(tid) ?? 0)) * TICKS)] as const).filter(([, t]) => t > 0);
  ticks.push(busy.reduce((n, [, t]) => n + t, 0));
  if (busy.length) console.log(`${s + 4} s after the end: ${busy.map(([tid, t]) => `${tid === String(pid) ? 'main' : tid} ${t}`).join(', ')}`);
  before = now;
}
if (censusDir) process.kill(pid, 'SIGUSR2');
for (let from = 0; from + 40 <= idleS; from += 20) {
  const sum = ticks.slice(from, from + 40).reduce((a, b) => a + b, 0);
  console.log(`40 s window ${from + 4}–${from + 44} s after the end: ${sum} ticks, ${((sum / TICKS / 40) * 100).toFixed(2)} % of a core`);
}
console.log(`load after ${load()}`);
await sleep(500);
await server.close();
