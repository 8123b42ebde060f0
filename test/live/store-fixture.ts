/**
 * @module test/live/store-fixture
 * The live app's store on a real in-memory PGlite with its migrations, one key and one stream:
 * the set-up of the tests that drive the store's batch writers (samples, viewer sessions) directly.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Database } from '../../src/db/database.js';
import { migrations } from '../../src/apps/live/migrations.js';
import { LiveStore } from '../../src/apps/live/store.js';
import type { LiveDB } from '../../src/apps/live/types.js';

export interface LiveStoreFixture {
  database: Database<LiveDB>;
  store: LiveStore;
  /** A stream of alice's, created with a fresh key. */
  streamId: string;
  close(): Promise<void>;
}

export async function openLiveStore(name: string): Promise<LiveStoreFixture> {
  const dataDir = mkdtempSync(join(tmpdir(), `airwaves-live-${name}-`));
  const database = await openDatabase<LiveDB>({ url: 'pglite://memory', dataDir });
  await database.migrate('live', migrations);
  const store = new LiveStore(database.db);
  const key = await store.createKey('alice', 'k');
  const streamId = (await store.createStream(key.view.id, 'alice', 'show')).id;
  return {
    database,
    store,
    streamId,
    async close() {
      await database.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
