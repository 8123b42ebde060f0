/**
 * @module db/backups
 * Backups of the embedded data directory: a gzip tarball (PGlite's dumpDataDir) written to
 * `<dir>.backups/` just before a migration run changes the schema, the newest few kept. A backup
 * is restored into a fresh directory with PGlite's loadDataDir (db/maintenance).
 */
import { mkdirSync, readdirSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

/** What a backup needs of an open embedded database: PGlite itself, or db/pglite-thread. */
export interface DumpableDatabase {
  query<T>(sql: string): Promise<{ rows: T[] }>;
  dumpDataDir(compression: 'gzip'): Promise<Blob>;
}

/** Backups kept per directory; older ones are removed after a new one is written. */
export const BACKUPS_KEPT = 5;

export interface BackupFile {
  path: string;
  name: string;
  bytes: number;
  createdAt: Date;
}

export const backupDirOf = (dataDir: string): string => `${dataDir}.backups`;

/** Backups of `dataDir`, newest first. */
export function listBackups(dataDir: string): BackupFile[] {
  const dir = backupDirOf(dataDir);
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.tar.gz'));
  } catch {
    return [];
  }
  return names
    .map((name) => {
      const st = statSync(join(dir, name));
      return { path: join(dir, name), name, bytes: st.size, createdAt: st.mtime };
    })
    .sort((a, b) => b.name.localeCompare(a.name));
}

/** Whether the database already holds tables of ours (a brand-new directory needs no backup). */
async function hasTables(pglite: DumpableDatabase): Promise<boolean> {
  const { rows } = await pglite.query<{ n: number }>(`select count(*)::int as n from pg_tables where schemaname = 'public'`);
  return (rows[0]?.n ?? 0) > 0;
}

/**
 * Writes a backup of the open database before `app`'s pending migrations run. The checkpoint
 * first flushes everything to the data files, so the tarball opens without WAL replay.
 */
export async function backupBeforeMigration(pglite: DumpableDatabase, dataDir: string, app: string, keep = BACKUPS_KEPT): Promise<BackupFile | null> {
  if (!(await hasTables(pglite))) return null;
  await pglite.query('checkpoint');
  const blob = await pglite.dumpDataDir('gzip');
  const dir = backupDirOf(dataDir);
  mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const name = `${stamp}-before-${app.replace(/[^a-z0-9_-]/gi, '_')}-migrations.tar.gz`;
  const path = join(dir, name);
  // Written under a temporary name first: a crash mid-write never leaves a truncated "backup".
  writeFileSync(`${path}.partial`, Buffer.from(await blob.arrayBuffer()));
  renameSync(`${path}.partial`, path);
  for (const old of listBackups(dataDir).slice(keep)) unlinkSync(old.path);
  const st = statSync(path);
  return { path, name: basename(path), bytes: st.size, createdAt: st.mtime };
}
