/**
 * @module scripts/studio-seed
 * `npm run studio:seed -- --count 100000 [--database-url postgres://…] [--no-turns] [--seed 42] [--fast]`
 * Fills the studio tables of the configured database (DATABASE_URL, else PGlite under the data
 * directory) with realistic conversations, in bulk batches, with a progress bar. `--fast` writes
 * one conversation in fifty with the generator and lets the database copy and vary the rest
 * (generate_series, indexes rebuilt once): a million rows in minutes instead of tens of minutes.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/core/config.js';
import { openDatabase } from '../src/db/database.js';
import { migrations } from '../src/apps/studio/migrations.js';
import { seedStudio, seedStudioBulk } from '../src/apps/studio/seed.js';
import type { StudioDB } from '../src/apps/studio/types.js';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '10000' },
    'database-url': { type: 'string' },
    'no-turns': { type: 'boolean', default: false },
    seed: { type: 'string', default: '42' },
    'batch-size': { type: 'string', default: '2000' },
    fast: { type: 'boolean', default: false },
  },
});
const count = Number(values.count);
if (!Number.isInteger(count) || count < 1 || count > 10_000_000) {
  console.error(`--count must be an integer from 1 to 10,000,000; got "${values.count}"`);
  process.exit(2);
}
const config = loadConfig(process.env, values['database-url'] ? { databaseUrl: values['database-url'] } : {});
const database = await openDatabase<StudioDB>({ url: config.databaseUrl, dataDir: config.dataDir, poolSize: 4 });
await database.migrate('studio', migrations);

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

const result = values.fast
  ? await seedStudioBulk(database.db, { count, withTurns: !values['no-turns'], seed: Number(values.seed), onProgress: draw })
  : await seedStudio(database.db, { count, withTurns: !values['no-turns'], seed: Number(values.seed), batchSize: Number(values['batch-size']), onProgress: draw });
if (tty) process.stderr.write('\n');
console.log(`seeded ${result.inserted.toLocaleString('en')} conversations on ${database.engine} in ${(result.ms / 1000).toFixed(1)} s`);
await database.close();
