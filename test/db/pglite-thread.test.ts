/**
 * @module test/db/pglite-thread
 * Embedded PGlite runs in a worker thread (db/pglite-thread): a first open (initdb, WebAssembly
 * compile) leaves the event loop free, rows come back as PGlite itself returns them, a failed
 * statement keeps its SQLSTATE fields and its caller's stack, transactions hold, and a closed
 * database refuses further queries and releases its directory.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { PGlite } from '@electric-sql/pglite';
import { isUniqueViolation, openDatabase } from '../../src/db/database.js';
import { tempDataDir } from './helpers.js';

const SCHEMA = [
  'create table sample (id int primary key, at timestamptz, big bigint, doc jsonb, bytes bytea, tags text[], amount numeric, ok boolean, note text)',
  `insert into sample values
    (1, '2026-12-06T15:00:00.123Z', 9007199254740993, '{"a":[1,{"b":null}]}', '\\x00ff10', '{x,"y z"}', 12.50, true, null),
    (2, null, -1, '[]', '\\x', '{}', 0, false, 'ünïcode ✓')`,
];
const QUERY = 'select * from sample where id = any($1::int[]) order by id';

describe('embedded PGlite in a worker thread', () => {
  test('a first open (initdb) keeps the event loop free: no stall longer than half the open', async () => {
    const dataDir = tempDataDir();
    // A 10 ms timer on this thread: with PGlite here, initdb stalled it for most of the open.
    const gaps: number[] = [];
    let last = performance.now();
    const ticker = setInterval(() => {
      const now = performance.now();
      gaps.push(now - last);
      last = now;
    }, 10);
    const started = performance.now();
    const database = await openDatabase({ dataDir });
    await database.migrate('notes', {
      '0001': { up: async (db) => void (await sql`create table notes (id int primary key, body text)`.execute(db)) },
    });
    const openMs = performance.now() - started;
    clearInterval(ticker);
    // The stall that ends with the open resolving is not seen by the timer: count it here.
    gaps.push(performance.now() - last);
    try {
      const longest = Math.max(...gaps);
      assert.ok(gaps.length >= 5, `the timer ran during the open (${gaps.length} ticks in ${Math.round(openMs)} ms)`);
      assert.ok(longest < openMs / 2, `longest stall ${Math.round(longest)} ms of an open that took ${Math.round(openMs)} ms`);
      assert.ok(existsSync(join(dataDir, 'pglite', 'PG_VERSION')), 'the directory holds a database');
    } finally {
      await database.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('rows come back as PGlite returns them in this thread (dates, bigint, jsonb, bytea, arrays, numeric, null)', async () => {
    const local = new PGlite();
    const database = await openDatabase({ url: 'pglite://memory', dataDir: '.' });
    try {
      for (const statement of SCHEMA) {
        await local.exec(statement);
        await sql.raw(statement).execute(database.db);
      }
      const expected = (await local.query(QUERY, [[1, 2]])).rows;
      const { rows } = await sql`select * from sample where id = any(${[1, 2]}::int[]) order by id`.execute(database.db);
      assert.equal(rows.length, 2);
      assert.deepEqual(rows, expected);
      const first = rows[0] as { at: unknown; bytes: unknown };
      assert.ok(first.at instanceof Date, 'a timestamptz is a Date');
      assert.ok(first.bytes instanceof Uint8Array, 'bytea is bytes');
      // Parameters cross too: a Date, bytes and an array as bound values.
      const echo = await sql<{ at: Date; bytes: Uint8Array; tags: string[] }>`select ${new Date('2026-01-02T03:04:05.678Z')}::timestamptz as at, ${Buffer.from([1, 2, 3])}::bytea as bytes, ${['a', 'b']}::text[] as tags`.execute(database.db);
      assert.equal(echo.rows[0].at.toISOString(), '2026-01-02T03:04:05.678Z');
      assert.deepEqual([...echo.rows[0].bytes], [1, 2, 3]);
      assert.deepEqual(echo.rows[0].tags, ['a', 'b']);
      const updated = await sql`update sample set note = 'n'`.execute(database.db);
      assert.equal(updated.numAffectedRows, 2n, 'affected rows reach Kysely');
    } finally {
      await local.close();
      await database.close();
    }
  });

  test('a failed statement keeps its SQLSTATE fields and the caller\'s stack; a rolled-back transaction leaves nothing', async () => {
    const database = await openDatabase({ url: 'pglite://memory', dataDir: '.' });
    try {
      await sql`create table uniq (id int primary key)`.execute(database.db);
      await sql`insert into uniq values (1)`.execute(database.db);
      const err = await sql`insert into uniq values (1)`.execute(database.db).then(
        () => assert.fail('a duplicate key must fail'),
        (e: unknown) => e as Error & { code?: string; constraint?: string; detail?: string },
      );
      assert.ok(isUniqueViolation(err), `code 23505, got ${err.code}`);
      assert.equal(err.constraint, 'uniq_pkey');
      assert.match(err.detail ?? '', /Key \(id\)=\(1\) already exists/);
      assert.match(err.message, /duplicate key value/);
      assert.match(err.stack ?? '', /pglite-thread\.test\.ts/, 'the stack names the caller');

      await assert.rejects(
        database.db.transaction().execute(async (tx) => {
          await sql`insert into uniq values (2)`.execute(tx);
          throw new Error('abandon');
        }),
        /abandon/,
      );
      const { rows } = await sql<{ n: number }>`select count(*)::int as n from uniq`.execute(database.db);
      assert.equal(rows[0].n, 1, 'the rolled-back insert is gone');
      const syntax = await sql`selec 1`.execute(database.db).then(
        () => null,
        (e: { code?: string }) => e,
      );
      assert.equal(syntax?.code, '42601', 'a syntax error keeps its SQLSTATE');
    } finally {
      await database.close();
    }
  });

  test('close flushes the data, ends the thread and releases the directory; the data is there on the next open', async () => {
    const dataDir = tempDataDir();
    const database = await openDatabase({ dataDir });
    await sql`create table kept (n int)`.execute(database.db);
    await sql`insert into kept values (7)`.execute(database.db);
    await database.close();
    assert.equal(existsSync(join(dataDir, 'pglite.lock')), false, 'the lock is released');
    await assert.rejects(sql`select 1`.execute(database.db), 'a closed database refuses queries');
    const again = await openDatabase({ dataDir });
    try {
      const { rows } = await sql<{ n: number }>`select n from kept`.execute(again.db);
      assert.deepEqual(rows, [{ n: 7 }]);
    } finally {
      await again.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
