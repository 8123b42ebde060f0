/**
 * @module db/data-dir-lock
 * One process per embedded database. PGlite is a single-user PostgreSQL: two processes writing
 * one data directory corrupt it. The process that opens the directory first creates
 * `<dir>.lock` atomically (O_CREAT|O_EXCL) holding its pid, its start time and its host; any
 * other process is refused with a `DataDirLockedError` naming the holder and what to do.
 *
 * A lock whose holder is gone (same host, and the pid is dead or now belongs to a process that
 * started later — pid reuse) is stale and taken over. A lock from another host is never assumed
 * stale: a shared network directory may really be in use.
 */
import { closeSync, linkSync, openSync, readFileSync, renameSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { processAlive } from '../core/process-alive.js';

export interface LockHolder {
  pid: number;
  host: string;
  /** Kernel start time of the holder (clock ticks since boot, /proc/<pid>/stat field 22); null off Linux. */
  processStart: string | null;
  /** ISO time the lock was taken. */
  since: string;
  /** The holder's command line, for the message a second process prints. */
  command: string;
  /** The holder's HTTP base URL, once it listens (tools reach the running server through it). */
  url?: string;
}

export class DataDirLockedError extends Error {
  readonly code = 'DATA_DIR_LOCKED';
  constructor(
    readonly dir: string,
    readonly lockPath: string,
    readonly holder: LockHolder,
  ) {
    super(
      `data directory ${dir} is in use by process ${holder.pid} on ${holder.host} (since ${holder.since}: ${holder.command}). ` +
        `An embedded database allows one process at a time: stop that process first, or work through it ` +
        `(npm run studio:seed seeds through a running server). If process ${holder.pid} is not running any more, remove ${lockPath}.`,
    );
    this.name = 'DataDirLockedError';
  }
}

/** Start time of `pid` as the kernel records it, or null when it cannot be read (not Linux, no such process). */
export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count fields after it.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null; // field 22 overall
  } catch {
    return null;
  }
}

/** Whether the recorded holder certainly no longer runs (only decidable on this host). */
export function isStale(holder: LockHolder): boolean {
  if (holder.host !== hostname()) return false;
  if (!processAlive(holder.pid)) return true;
  const start = processStartTime(holder.pid);
  return holder.processStart !== null && start !== null && start !== holder.processStart;
}

export function readLock(lockPath: string): LockHolder | null {
  try {
    return JSON.parse(readFileSync(lockPath, 'utf8')) as LockHolder;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    // Unparseable: a holder that died between create and write. Treat as a dead holder.
    return { pid: 0, host: hostname(), processStart: null, since: 'unknown', command: 'unreadable lock file' };
  }
}

export interface DataDirLock {
  readonly path: string;
  readonly holder: LockHolder;
  /** True when the previous holder died without releasing the lock (its directory may need a check). */
  readonly tookOverStale: boolean;
  /** Records more about the holder (its URL once it listens). */
  update(extra: Partial<Pick<LockHolder, 'url'>>): void;
  release(): void;
}

/**
 * Takes the lock for `dir` or throws DataDirLockedError. Released by `release()` and, as a last
 * resort, when the process exits normally.
 */
export function lockDataDir(dir: string): DataDirLock {
  const lockPath = `${dir}.lock`;
  const holder: LockHolder = {
    pid: process.pid,
    host: hostname(),
    processStart: processStartTime(process.pid),
    since: new Date().toISOString(),
    command: process.argv.slice(1).join(' ').slice(0, 300),
  };
  let tookOverStale = false;
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(lockPath, 'wx', 0o644);
      try {
        writeSync(fd, JSON.stringify(holder));
      } finally {
        closeSync(fd);
      }
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const current = readLock(lockPath);
    if (current === null) continue; // released between our create and our read
    if (attempt >= 3 || !isStale(current)) throw new DataDirLockedError(dir, lockPath, current);
    removeStaleLock(lockPath, current);
    tookOverStale = true;
  }
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.off('exit', release);
    const current = readLock(lockPath);
    if (current && current.pid === holder.pid && current.since === holder.since) unlinkSync(lockPath);
  };
  process.on('exit', release);
  return {
    path: lockPath,
    holder,
    tookOverStale,
    update(extra) {
      Object.assign(holder, extra);
      // Rewritten in place through a temporary file: a reader never sees half a lock.
      const tmp = `${lockPath}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(holder));
      renameSync(tmp, lockPath);
    },
    release,
  };
}

/**
 * Moves a stale lock aside. Two processes may both judge it stale: each renames it to its own
 * name (rename is atomic, so only one gets the stale file), and if what it moved turns out to
 * be a fresh lock that the other one already created, it puts that lock back.
 */
function removeStaleLock(lockPath: string, judged: LockHolder): void {
  const aside = `${lockPath}.stale.${process.pid}`;
  try {
    renameSync(lockPath, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const moved = readLock(aside);
  if (moved && (moved.pid !== judged.pid || moved.since !== judged.since)) {
    try {
      linkSync(aside, lockPath);
    } catch {
      // Someone created yet another lock meanwhile; theirs stands.
    }
  }
  unlinkSync(aside);
}
