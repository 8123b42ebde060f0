/**
 * On embedded PGlite (the default engine), the generator filter's plans with 20,000 conversations
 * of which 2 % are seed rows: test/studio/generator-plans.
 */
import { describe, before, after } from 'node:test';
import { openDatabase, type Database } from '../../src/db/database.js';
import { migrations } from '../../src/apps/studio/migrations.js';
import type { StudioDB } from '../../src/apps/studio/types.js';
import { generatorPlanTests, seedGeneratorMix } from './generator-plans.js';

describe('studio query plans on PGlite: the generator filter', () => {
  let database: Database<StudioDB>;
  let seedRows = 0;
  before(async () => {
    database = await openDatabase<StudioDB>({ url: 'pglite://memory', dataDir: '.' });
    await database.migrate('studio', migrations);
    ({ seedRows } = await seedGeneratorMix(database.db, 20_000));
  });
  after(async () => {
    await database?.close();
  });
  generatorPlanTests(
    () => database.db,
    () => seedRows,
  );
});
