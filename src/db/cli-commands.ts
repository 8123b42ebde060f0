/**
 * @module db/cli-commands
 * `airwaves db check | backup | restore [file] | backups`: the embedded database's maintenance
 * commands. Each refuses to touch a directory another process holds (db/data-dir-lock), reads the
 * directory in a child process that is killed after a deadline (db/pglite-probe), and never
 * deletes data: a restore moves the replaced directory aside.
 */
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { CoreConfig } from '../core/config.js';
import { BACKUPS_KEPT, backupBeforeMigration, backupDirOf, listBackups } from './backups.js';
import { DataDirLockedError, isStale, lockDataDir, readLock } from './data-dir-lock.js';
import { embeddedDataDir } from './database.js';
import { openPGlite } from './pglite-open.js';
import { probeDataDir } from './pglite-probe.js';
import { DB_USAGE } from './cli-usage.js';

type Print = (line: string) => void;

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

function printBackups(dir: string, print: Print): void {
  const backups = listBackups(dir);
  if (!backups.length) print(`  backups: none in ${backupDirOf(dir)} (one is written before each schema change)`);
  for (const b of backups) print(`  backup: ${b.path}  ${mb(b.bytes)}  ${b.createdAt.toISOString()}`);
}

/** 0 healthy, 1 damaged, 75 (EX_TEMPFAIL) in use by a running process. */
async function check(dir: string, print: Print): Promise<number> {
  print(`embedded database: ${dir}`);
  if (!existsSync(dir)) {
    print('  not created yet: the first start creates it');
    return 0;
  }
  const holder = readLock(`${dir}.lock`);
  if (holder && !isStale(holder)) {
    print(`  in use by process ${holder.pid} on ${holder.host} since ${holder.since}${holder.url ? ` (${holder.url})` : ''}: it has the database open, so it is readable`);
    printBackups(dir, print);
    return 75;
  }
  if (holder) print(`  stale lock from process ${holder.pid} (no longer running): the last run did not shut down cleanly`);
  const lock = lockDataDir(dir);
  try {
    const probe = await probeDataDir(dir, 120_000, true);
    if (!probe.ok) {
      print(`  DAMAGED: ${probe.error}`);
      printBackups(dir, print);
      print(listBackups(dir).length ? '  recover: airwaves db restore   (restores the newest backup; the damaged directory is kept aside)' : `  recover: move ${dir} aside and start empty (no backup exists)`);
      return 1;
    }
    print(`  opens and reads through in ${probe.ms} ms`);
    for (const t of probe.tables ?? []) print(`  table ${t.name}: ${t.rows.toLocaleString('en')} rows`);
    printBackups(dir, print);
    return 0;
  } finally {
    lock.release();
  }
}

async function backup(dir: string, print: Print): Promise<number> {
  const lock = lockDataDir(dir);
  try {
    const pglite = await openPGlite(dir);
    const written = await backupBeforeMigration(pglite, dir, 'manual');
    await pglite.close();
    print(written ? `wrote ${written.path} (${mb(written.bytes)}); the newest ${BACKUPS_KEPT} are kept` : 'nothing to back up: the database holds no tables yet');
    return 0;
  } finally {
    lock.release();
  }
}

async function restore(dir: string, file: string | undefined, print: Print): Promise<number> {
  const chosen = file ? resolve(file) : listBackups(dir)[0]?.path;
  if (!chosen) {
    print(`no backup to restore in ${backupDirOf(dir)}; name one: airwaves db restore FILE`);
    return 1;
  }
  if (!existsSync(chosen)) {
    print(`backup ${chosen} does not exist`);
    return 1;
  }
  const lock = lockDataDir(dir);
  try {
    let aside: string | null = null;
    if (existsSync(dir)) {
      aside = `${dir}.replaced-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      renameSync(dir, aside);
    }
    try {
      mkdirSync(dir, { recursive: true });
      const pglite = await openPGlite(dir, { loadDataDir: new Blob([readFileSync(chosen)]), timeoutMs: 120_000 });
      await pglite.close();
    } catch (err) {
      if (aside) {
        // The backup did not open: put the previous directory back exactly as it was.
        renameSync(dir, `${dir}.failed-restore-${Date.now()}`);
        renameSync(aside, dir);
      }
      throw err;
    }
    const probe = await probeDataDir(dir, 120_000, true);
    print(`restored ${basename(chosen)} into ${dir}${aside ? `; the replaced directory is kept at ${aside}` : ''}`);
    for (const t of probe.tables ?? []) print(`  table ${t.name}: ${t.rows.toLocaleString('en')} rows`);
    return probe.ok ? 0 : 1;
  } finally {
    lock.release();
  }
}

/** Runs `airwaves db <sub> …`; returns the exit code. */
export async function runDbCommand(args: string[], config: CoreConfig, print: Print = (l) => console.log(l)): Promise<number> {
  const [sub, file] = args;
  const dir = embeddedDataDir(config.databaseUrl, config.dataDir);
  if (!dir) {
    print('DATABASE_URL names a PostgreSQL server (or in-memory PGlite): use pg_dump / pg_restore and the server\'s own checks');
    return 2;
  }
  try {
    switch (sub) {
      case 'check':
        return await check(dir, print);
      case 'backup':
        return await backup(dir, print);
      case 'backups':
        printBackups(dir, print);
        return 0;
      case 'restore':
        return await restore(dir, file, print);
      default:
        print(`unknown db command "${sub ?? ''}"\n${DB_USAGE}`);
        return 2;
    }
  } catch (err) {
    if (err instanceof DataDirLockedError) {
      print(err.message);
      return 75;
    }
    throw err;
  }
}
