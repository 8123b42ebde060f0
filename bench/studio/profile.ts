/**
 * @module bench/studio/profile
 * Where the CPU of a studio request goes, for profiling: one studio server on PostgreSQL (or
 * PGlite) seeded in bulk — or an already seeded PostgreSQL given by `--url`, which skips the
 * minutes of seeding a 1M-row table takes — then the benchmark's load worker for a few seconds.
 * Run it under the profiler:
 * `node --cpu-prof --cpu-prof-dir=/tmp/studio-prof --import tsx bench/studio/profile.ts
 *   [--engine postgres|pglite] [--rows 100000] [--users 50] [--duration 8] [--url postgres://…]`
 * and read the main thread's .cpuprofile (the load worker writes its own). Prints req/s and CPU
 * milliseconds per request: this process (server + load worker threads) and, on PostgreSQL, the
 * cluster's processes (postmaster, its backends and the backends that exited meanwhile), read
 * from /proc.
 */
import { readFileSync } from 'node:fs';
import { sql } from 'kysely';
import { seedStudioBulk } from '../../src/apps/studio/seed.js';
import { startPostgres } from '../../test/helpers/postgres.js';
import { PG_SETTINGS, runLoad, startStudio } from './index.js';
import { OPS } from './load.js';
import { percentile } from '../shared/percentile.js';
import { CLK_TCK, postgresCpuSeconds } from '../hub/servers.js';

const arg = (flag: string, fallback: string) => {
  const i = process.argv.indexOf(flag);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
};
const givenUrl = arg('--url', '');
const engine = givenUrl ? 'postgres' : arg('--engine', 'postgres');
const rows = Number(arg('--rows', '100000'));
const users = Number(arg('--users', '50'));
const durationMs = Math.min(120, Number(arg('--duration', '8'))) * 1000;

/** CPU ms of this process's main thread (the server: the load generator runs in a worker thread). */
function mainThreadCpuMs(): number {
  const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) / CLK_TCK) * 1000;
}

const pgInstance = engine === 'postgres' && !givenUrl ? await startPostgres({ settings: PG_SETTINGS }) : null;
const { server, database } = await startStudio(givenUrl || (pgInstance ? pgInstance.url : 'pglite://memory'));
try {
  if (!givenUrl) await seedStudioBulk(database.db, { count: rows });
  let postmaster = 0;
  if (engine === 'postgres') {
    const dir = (await sql<{ d: string }>`select current_setting('data_directory') as d`.execute(database.db)).rows[0].d;
    postmaster = Number(readFileSync(`${dir}/postmaster.pid`, 'utf8').split('\n')[0]);
  }
  const total = (await sql<{ n: number }>`select count(*)::int as n from studio_conversations`.execute(database.db)).rows[0].n;
  const ids = (await sql<{ id: string }>`select id from studio_conversations tablesample system (1) limit 2000`.execute(database.db)).rows.map((r) => r.id);
  await runLoad({ baseUrl: server.url, users, durationMs: 1500, maxRequestsPerUser: 40, ids, seed: 1 });
  const cpu0 = process.cpuUsage();
  const main0 = mainThreadCpuMs();
  const pg0 = postmaster ? postgresCpuSeconds(postmaster) * 1000 : 0;
  const load = await runLoad({ baseUrl: server.url, users, durationMs, maxRequestsPerUser: 20_000, ids, seed: 42 });
  const cpu = process.cpuUsage(cpu0);
  const mainMs = mainThreadCpuMs() - main0;
  const pgMs = postmaster ? postgresCpuSeconds(postmaster) * 1000 - pg0 : 0;
  const n = OPS.reduce((a, op) => a + load.latencies[op].length, 0);
  const pct = (xs: number[], p: number) => percentile([...xs].sort((a, b) => a - b), p).toFixed(1);
  // The load worker shares this process: its CPU is included in cpuUsage, so this is an upper bound for the server.
  console.log(
    `${engine} ${total} rows, ${users} users: ${n} requests in ${(load.elapsedMs / 1000).toFixed(1)} s = ${Math.round(n / (load.elapsedMs / 1000))} req/s; ` +
      `CPU per request: server thread ${(mainMs / n).toFixed(2)} ms, whole node process ${((cpu.user + cpu.system) / 1000 / n).toFixed(2)} ms (+ load worker, GC threads)` +
      (postmaster ? `, postgres ${(pgMs / n).toFixed(2)} ms` : ''),
  );
  console.log(OPS.map((op) => `${op} p50/p95 ${pct(load.latencies[op], 50)}/${pct(load.latencies[op], 95)} ms (n ${load.latencies[op].length})`).join(" · "));
} finally {
  await server.close();
  await pgInstance?.stop();
}
