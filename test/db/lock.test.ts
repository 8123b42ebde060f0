/**
 * @module test/db/lock
 * One process per embedded data directory: a second real process is refused with the holder's
 * pid and what to do; a lock left by a killed process is taken over; release frees the directory.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { openDatabase } from '../../src/db/database.js';
import { DataDirLockedError, lockDataDir, readLock } from '../../src/db/data-dir-lock.js';
import { airwaves, tempDataDir } from './helpers.js';

describe('data directory lock', () => {
  test('a second process (airwaves serve, airwaves db check) is refused, naming the holder pid and the way out', async () => {
    const dataDir = tempDataDir();
    const database = await openDatabase({ dataDir });
    try {
      assert.equal(database.lock?.holder.pid, process.pid);
      const serve = await airwaves(['serve'], dataDir);
      assert.equal(serve.code, 1, serve.stderr);
      const said = serve.stdout + serve.stderr;
      assert.match(said, new RegExp(`in use by process ${process.pid}\\b`));
      assert.match(said, /stop that process first/);
      assert.match(said, /pglite\.lock/);
      const check = await airwaves(['db', 'check'], dataDir);
      assert.equal(check.code, 75, check.stdout + check.stderr);
      assert.match(check.stdout, new RegExp(`in use by process ${process.pid}`));
      // The refused processes never touched the directory: ours still answers.
      await sql`select 1`.execute(database.db);
    } finally {
      await database.close();
    }
    assert.equal(existsSync(join(dataDir, 'pglite.lock')), false, 'close releases the lock');
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('in the same process, a second open of the directory throws DataDirLockedError', async () => {
    const dataDir = tempDataDir();
    const first = await openDatabase({ dataDir });
    try {
      await assert.rejects(openDatabase({ dataDir }), (err: unknown) => err instanceof DataDirLockedError && err.holder.pid === process.pid);
    } finally {
      await first.close();
    }
    const again = await openDatabase({ dataDir });
    await again.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('a lock left by a killed process is stale and taken over; the data is still there', async () => {
    const dataDir = tempDataDir();
    const database = await openDatabase({ dataDir });
    await sql`create table kept (n int)`.execute(database.db);
    await sql`insert into kept values (42)`.execute(database.db);
    await database.close();
    // A real process takes the lock and dies without releasing it.
    const dir = join(dataDir, 'pglite');
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', `import('./src/db/data-dir-lock.ts').then((m) => { m.lockDataDir(${JSON.stringify(dir)}); console.log('locked'); setInterval(() => {}, 1000); })`], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => child.stdout.on('data', (b: Buffer) => b.toString().includes('locked') && resolve()));
    assert.equal(readLock(`${dir}.lock`)?.pid, child.pid);
    assert.throws(() => lockDataDir(dir), DataDirLockedError, 'a live holder is respected');
    child.kill('SIGKILL');
    await new Promise((resolve) => child.on('close', resolve));
    const reopened = await openDatabase({ dataDir });
    try {
      assert.equal(reopened.lock?.tookOverStale, true);
      const rows = await sql<{ n: number }>`select n from kept`.execute(reopened.db);
      assert.deepEqual(rows.rows, [{ n: 42 }]);
    } finally {
      await reopened.close();
    }
    rmSync(dataDir, { recursive: true, force: true });
  });
});
