/**
 * @module bench/studio/profile
 * Server CPU per request, for profiling: one studio server on PostgreSQL (or PGlite) seeded in
 * bulk, then the benchmark's load worker for a few seconds. Run it under the profiler:
 * `node --cpu-prof --cpu-prof-dir=/tmp/studio-prof --import tsx bench/studio/profile.ts
 *   [--engine postgres|pglite] [--rows 100000] [--users 50] [--duration 8]`
 * and read the main thread's .cpuprofile (the load worker writes its own). Prints req/s and the
 * server process's CPU milliseconds per request (user + system, this process only; PostgreSQL
 * runs in its own processes).
 */
import { sql } from 'kysely';
import { seedStudioBulk } from '../../src/apps/studio/seed.js';
import { startPostgres } from '../../test/helpers/postgres.js';
import { runLoad, startStudio } from './index.js';
import { OPS } from './load.js';

const arg = (flag: string, fallback: string) => {
  const i = process.argv.indexOf(flag);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
};
const engine = arg('--engine', 'postgres');
const rows = Number(arg('--rows', '100000'));
const users = Number(arg('--users', '50'));
const durationMs = Math.min(120, Number(arg('--duration', '8'))) * 1000;

const pgInstance = engine === 'postgres' ? await startPostgres({ settings: { shared_buffers: '512MB', work_mem: '16MB' } }) : null;
const { server, database } = await startStudio(pgInstance ? pgInstance.url : 'pglite://memory');
try {
  await seedStudioBulk(database.db, { count: rows });
  const ids = (await sql<{ id: string }>`select id from studio_conversations order by random() limit 2000`.execute(database.db)).rows.map((r) => r.id);
  await runLoad({ baseUrl: server.url, users, durationMs: 1500, maxRequestsPerUser: 40, ids, seed: 1 });
  const cpu0 = process.cpuUsage();
  const load = await runLoad({ baseUrl: server.url, users, durationMs, maxRequestsPerUser: 20_000, ids, seed: 42 });
  const cpu = process.cpuUsage(cpu0);
  const n = OPS.reduce((a, op) => a + load.latencies[op].length, 0);
  const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.ceil(xs.length * 0.95) - 1]?.toFixed(1);
  // The load worker shares this process: its CPU is included in cpuUsage, so this is an upper bound.
  console.log(`${engine} ${rows} rows, ${users} users: ${n} requests in ${(load.elapsedMs / 1000).toFixed(1)} s = ${Math.round(n / (load.elapsedMs / 1000))} req/s; process CPU ${((cpu.user + cpu.system) / 1000 / n).toFixed(2)} ms/request (server + load worker)`);
  console.log(OPS.map((op) => `${op} p95 ${p95(load.latencies[op])} ms`).join(' · '));
} finally {
  await server.close();
  await pgInstance?.stop();
}
