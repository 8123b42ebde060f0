/**
 * @module test/db/open-and-restore
 * A data directory that cannot be opened fails the start within seconds with a message naming
 * the directory and the way to recover, never a hang; a backup is written before a migration run
 * that changes the schema, and `airwaves db restore` brings the data from before it back.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { sql, type Kysely, type Migration } from 'kysely';
import { openDatabase } from '../../src/db/database.js';
import { listBackups } from '../../src/db/backups.js';
import { DataDirUnopenableError } from '../../src/db/pglite-open.js';
import { airwaves, tempDataDir } from './helpers.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
const first: Record<string, Migration> = {
  '0001': {
    async up(db: Kysely<any>) {
      await sql`create table notes (id int primary key, body text not null)`.execute(db);
      await sql`insert into notes values (1, 'before the change'), (2, 'also before')`.execute(db);
    },
  },
};
const destructive: Record<string, Migration> = {
  ...first,
  '0002': {
    async up(db: Kysely<any>) {
      await sql`delete from notes`.execute(db);
      await sql`alter table notes add column extra text`.execute(db);
    },
  },
};
/* eslint-enable @typescript-eslint/no-explicit-any */

describe('opening, backing up and restoring the embedded database', () => {
  test('a damaged directory fails `airwaves serve` within seconds, naming the directory and db check/restore', async () => {
    const dataDir = tempDataDir();
    const database = await openDatabase({ dataDir });
    await database.migrate('notes', first);
    await database.close();
    writeFileSync(join(dataDir, 'pglite', 'global', 'pg_control'), randomBytes(8192));

    const started = Date.now();
    await assert.rejects(openDatabase({ dataDir, openTimeoutMs: 10_000 }), (err: unknown) => err instanceof DataDirUnopenableError && err.message.includes(join(dataDir, 'pglite')));
    assert.ok(Date.now() - started < 10_000, `in-process open failed after ${Date.now() - started} ms`);
    assert.equal(existsSync(join(dataDir, 'pglite.lock')), false, 'a failed open releases the lock');

    // The real start: it must exit (not hang) and say what to do. The bound includes compiling
    // the sources with tsx on a loaded machine; the open itself fails in under a second.
    const serve = await airwaves(['serve'], dataDir, 60_000);
    assert.notEqual(serve.code, null, 'the process exited by itself');
    assert.equal(serve.code, 1);
    const said = serve.stdout + serve.stderr;
    assert.match(said, new RegExp(`cannot open the embedded database in ${join(dataDir, 'pglite')}`));
    assert.match(said, /db check/);
    assert.match(said, /db restore/);

    const check = await airwaves(['db', 'check'], dataDir);
    assert.equal(check.code, 1);
    assert.match(check.stdout, /DAMAGED/);
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('a schema change is preceded by a backup, and db restore brings back the rows it removed (the replaced directory kept aside)', async () => {
    const dataDir = tempDataDir();
    const pgliteDir = join(dataDir, 'pglite');
    let database = await openDatabase({ dataDir });
    await database.migrate('notes', first);
    assert.equal(listBackups(pgliteDir).length, 0, 'a brand-new database needs no backup');
    await database.close();

    database = await openDatabase({ dataDir });
    await database.migrate('notes', destructive);
    const afterChange = await sql<{ n: number }>`select count(*)::int as n from notes`.execute(database.db);
    assert.equal(afterChange.rows[0].n, 0);
    await database.migrate('notes', destructive); // nothing pending: no new backup
    await database.close();
    const backups = listBackups(pgliteDir);
    assert.equal(backups.length, 1);
    assert.match(backups[0].name, /before-notes-migrations\.tar\.gz$/);

    const restore = await airwaves(['db', 'restore'], dataDir);
    assert.equal(restore.code, 0, restore.stdout + restore.stderr);
    assert.match(restore.stdout, /table notes: 2 rows/);
    assert.ok(readdirSync(dataDir).some((n) => n.startsWith('pglite.replaced-')), 'the replaced directory is kept');

    database = await openDatabase({ dataDir });
    const rows = await sql<{ body: string }>`select body from notes order by id`.execute(database.db);
    assert.deepEqual(rows.rows.map((r) => r.body), ['before the change', 'also before']);
    await database.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
});
