/**
 * @module test/helpers/postgres
 * A throwaway PostgreSQL cluster for tests and benchmarks: initdb into a temp dir, start
 * `postgres` on a random loopback port (socket in the same temp dir, fsync off), create a
 * database, and remove everything on stop(). As root the server runs as the `postgres` user
 * (PostgreSQL refuses to run as root) with the directory chowned to it.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, chmodSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import pg from 'pg';

/** Debian's PostgreSQL binaries: the newest installed major version (15 on bookworm, 16 on noble). */
export const PG_BIN = process.env.PG_BIN ?? findPgBin();

function findPgBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a)) : [];
  return join(root, versions[0] ?? '15', 'bin');
}

export interface PostgresOptions {
  /** Database created for the caller (default "airwaves_test"). */
  database?: string;
  /** Extra `-c name=value` server settings, e.g. { shared_preload_libraries: 'pg_stat_statements' }. */
  settings?: Record<string, string | number>;
  /** How long to wait for the server to accept connections. */
  startTimeoutMs?: number;
}

export interface PostgresInstance {
  /** postgres://postgres@127.0.0.1:<port>/<database> */
  url: string;
  port: number;
  dataDir: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** Runs a PostgreSQL binary, as the postgres user when we are root. */
function pgCommand(bin: string, args: string[]): [string, string[]] {
  const path = join(PG_BIN, bin);
  return isRoot ? ['runuser', ['-u', 'postgres', '--', path, ...args]] : [path, args];
}

/**
 * The server itself is spawned with the postgres uid/gid rather than through runuser: signals
 * then reach the postmaster directly, so stop() is a fast shutdown and never leaves an orphan.
 */
function postgresUser(): { uid: number; gid: number } | undefined {
  if (!isRoot) return undefined;
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  return { uid, gid };
}

export async function startPostgres(options: PostgresOptions = {}): Promise<PostgresInstance> {
  const base = mkdtempSync(join(tmpdir(), 'airwaves-pg-'));
  const dataDir = join(base, 'data');
  const socketDir = base;
  if (isRoot) {
    execFileSync('chown', ['-R', 'postgres:postgres', base]);
    chmodSync(base, 0o700);
  }
  const [initCmd, initArgs] = pgCommand('initdb', ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
  try {
    execFileSync(initCmd, initArgs, { stdio: 'pipe' });
  } catch (err) {
    rmSync(base, { recursive: true, force: true });
    const e = err as { stderr?: Buffer; message: string };
    throw new Error(`initdb failed: ${e.stderr?.toString() || e.message}`);
  }
  const port = await freePort();
  const settings: Record<string, string | number> = {
    listen_addresses: '127.0.0.1',
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    max_connections: 200,
    shared_buffers: '256MB',
    ...options.settings,
  };
  const settingArgs = Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`]);
  const child: ChildProcess = spawn(join(PG_BIN, 'postgres'), ['-D', dataDir, '-p', String(port), '-k', socketDir, ...settingArgs], {
    stdio: ['ignore', 'ignore', 'pipe'],
    ...postgresUser(),
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  let exited = false;
  // A test process that dies without calling stop() must not leave a postmaster behind.
  const killOnExit = () => {
    if (!exited) child.kill('SIGKILL');
    rmSync(base, { recursive: true, force: true });
  };
  process.once('exit', killOnExit);
  child.on('exit', () => (exited = true));

  const stop = async (): Promise<void> => {
    if (!exited) {
      // SIGINT = "fast shutdown": disconnect clients and stop without waiting for them.
      const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await done;
      clearTimeout(timer);
    }
    process.removeListener('exit', killOnExit);
    rmSync(base, { recursive: true, force: true });
  };

  const database = options.database ?? 'airwaves_test';
  const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const deadline = Date.now() + (options.startTimeoutMs ?? 20_000);
  for (;;) {
    if (exited) {
      await stop();
      throw new Error(`postgres exited during start: ${stderr}`);
    }
    const client = new pg.Client({ connectionString: adminUrl });
    try {
      await client.connect();
      await client.query(`create database "${database.replace(/"/g, '')}"`);
      await client.end();
      break;
    } catch (err) {
      await client.end().catch(() => {});
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`postgres did not accept connections in time: ${(err as Error).message}\n${stderr}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { url: `postgres://postgres@127.0.0.1:${port}/${database}`, port, dataDir, stop };
}

/** Whether the PostgreSQL binaries are installed (callers can fail with a clear message). */
export function postgresAvailable(): boolean {
  try {
    execFileSync(join(PG_BIN, 'postgres'), ['--version'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}
