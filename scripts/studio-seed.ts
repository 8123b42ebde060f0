/**
 * @module scripts/studio-seed
 * `npm run studio:seed -- --count 100000 [--database-url postgres://…] [--no-turns] [--seed 42] [--fast] [--server URL] [--api-key KEY]`
 * Fills the studio tables with realistic conversations, in bulk batches, with a progress bar.
 * `--fast` writes one conversation in fifty with the generator and lets the database copy and
 * vary the rest (generate_series, indexes rebuilt once): a million rows in minutes.
 *
 * Whether or not the server runs: an embedded data directory belongs to one process, so when a
 * running server holds it (its lock names the server's URL) the seed runs *inside* that server
 * through its admin API (apps/studio/seed-routes) and the bar follows the server's progress;
 * otherwise this script takes the lock and writes itself. Never around the server.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import { resolveSecrets } from '../src/auth/index.js';
import { openDatabase } from '../src/db/database.js';
import { DataDirLockedError } from '../src/db/data-dir-lock.js';
import { migrations } from '../src/apps/studio/migrations.js';
import { seedStudio, seedStudioBulk } from '../src/apps/studio/seed.js';
import { SEED_PATH, type SeedRequest, type SeedRun } from '../src/apps/studio/seed-routes.js';
import type { StudioDB } from '../src/apps/studio/types.js';
import { apiPrefix } from '../src/apps/app.js';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '10000' },
    'database-url': { type: 'string' },
    'no-turns': { type: 'boolean', default: false },
    seed: { type: 'string', default: '42' },
    'batch-size': { type: 'string', default: '2000' },
    fast: { type: 'boolean', default: false },
    server: { type: 'string' },
    'api-key': { type: 'string' },
  },
});
const count = Number(values.count);
if (!Number.isInteger(count) || count < 1 || count > 10_000_000) {
  console.error(`--count must be an integer from 1 to 10,000,000; got "${values.count}"`);
  process.exit(2);
}
const config = loadConfig(process.env, values['database-url'] ? { databaseUrl: values['database-url'] } : {});
const request: SeedRequest = { count, seed: Number(values.seed), withTurns: !values['no-turns'], batchSize: Number(values['batch-size']), fast: values.fast };

const started = Date.now();
const tty = process.stderr.isTTY;
let lastDraw = 0;
function draw(done: number, total: number): void {
  const now = Date.now();
  if (done < total && now - lastDraw < 200) return;
  lastDraw = now;
  const width = 30;
  const filled = Math.round((done / total) * width);
  const rate = done / Math.max(0.001, (now - started) / 1000);
  const eta = rate > 0 ? Math.ceil((total - done) / rate) : 0;
  const line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done.toLocaleString('en')}/${total.toLocaleString('en')}  ${Math.round(rate).toLocaleString('en')} rows/s  eta ${eta}s`;
  process.stderr.write(tty ? `\r${line}` : `${line}\n`);
}

/** Asks the running server to seed and follows its progress; returns the exit code. */
/** The seed route as users see it: the studio is mounted at /api/v1/studio. */
const SEED_URL = `${apiPrefix({ name: 'studio' })}${SEED_PATH}`;

async function seedThroughServer(base: string, why: string): Promise<number> {
  // The server's admin key: configured, or the one it generated into <data dir>/secrets.json.
  const apiKey = values['api-key'] ?? resolveSecrets({ apiKey: config.apiKey, jwtSecret: config.jwtSecret, dataDir: config.dataDir }).apiKey;
  console.error(`${why}; seeding through it (${base}).`);
  const headers = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };
  const answer = async (res: Response): Promise<SeedRun> => {
    const body = (await res.json()) as unknown;
    if (!res.ok) throw new Error(`the server refused: ${res.status} ${(body as { error?: { message?: string } }).error?.message ?? res.statusText}`);
    return body as SeedRun;
  };
  // A server that has just started serves before its apps are in: it answers 503 app_starting
  // with Retry-After until the studio is, so wait for that (at most two minutes).
  let started = await fetch(`${base}${SEED_URL}`, { method: 'POST', headers, body: JSON.stringify(request) });
  for (const until = Date.now() + 120_000; started.status === 503 && Date.now() < until; ) {
    await new Promise((resolve) => setTimeout(resolve, 1000 * Number(started.headers.get('retry-after') ?? 1)));
    started = await fetch(`${base}${SEED_URL}`, { method: 'POST', headers, body: JSON.stringify(request) });
  }
  let run = await answer(started);
  while (run.status === 'running') {
    draw(run.done, run.total);
    await new Promise((resolve) => setTimeout(resolve, 250));
    run = await answer(await fetch(`${base}${SEED_URL}/${run.id}`, { headers }));
  }
  draw(run.done, run.total);
  if (tty) process.stderr.write('\n');
  if (run.status !== 'completed') {
    console.error(`seed run ${run.status}: ${run.error ?? 'no reason given'}`);
    return 1;
  }
  console.log(`seeded ${run.inserted.toLocaleString('en')} conversations through the running server in ${(run.ms / 1000).toFixed(1)} s`);
  return 0;
}

async function seedDirectly(): Promise<number> {
  const database = await openDatabase<StudioDB>({ url: config.databaseUrl, dataDir: config.dataDir, poolSize: 4 });
  try {
    await database.migrate('studio', migrations);
    const result = request.fast
      ? await seedStudioBulk(database.db, { count, withTurns: request.withTurns, seed: request.seed, onProgress: draw })
      : await seedStudio(database.db, { count, withTurns: request.withTurns, seed: request.seed, batchSize: request.batchSize, onProgress: draw });
    if (tty) process.stderr.write('\n');
    console.log(`seeded ${result.inserted.toLocaleString('en')} conversations on ${database.engine} in ${(result.ms / 1000).toFixed(1)} s`);
    return 0;
  } finally {
    await database.close();
  }
}

async function main(): Promise<number> {
  if (values.server) return seedThroughServer(values.server.replace(/\/$/, ''), `seeding through ${values.server}`);
  try {
    return await seedDirectly();
  } catch (err) {
    if (!(err instanceof DataDirLockedError)) throw err;
    const url = err.holder.url ?? `http://127.0.0.1:${config.port}`;
    return seedThroughServer(url, `the data directory ${err.dir} is held by process ${err.holder.pid} (${err.holder.command})`);
  }
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(err.message);
    process.exit(1);
  },
);
