/**
 * @module db/pglite-probe
 * Opens a PGlite data directory in a child process and reads every table through, so a caller
 * can kill it after a deadline: a damaged directory can abort or spin inside PGlite's WebAssembly,
 * where no in-process timer would ever fire. Run as a script it prints one JSON line; imported,
 * `probeDataDir` spawns it.
 */
import { spawn } from 'node:child_process';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ProbeResult {
  ok: boolean;
  /** Why the directory could not be read (ok = false). */
  error?: string;
  /** Row count of every table in the public schema. */
  tables?: { name: string; rows: number }[];
  ms: number;
}

const self = fileURLToPath(import.meta.url);

/** Probes `dir` in a child process; a child that has not answered after `timeoutMs` is killed. */
/** `thorough` counts every table's rows; otherwise the probe only opens the directory and runs one query. */
export function probeDataDir(dir: string, timeoutMs = 30_000, thorough = false): Promise<ProbeResult> {
  const started = Date.now();
  const script = join(dirname(self), `pglite-probe${extname(self)}`);
  return new Promise((resolve) => {
    // execArgv carries tsx's loader when running from sources.
    const child = spawn(process.execPath, [...process.execArgv, script, dir, thorough ? 'thorough' : 'quick'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const ms = Date.now() - started;
      const line = out.trim().split('\n').pop() ?? '';
      try {
        if (line) return resolve({ ...(JSON.parse(line) as ProbeResult), ms });
      } catch {
        // fall through: the child died mid-line
      }
      const why = signal === 'SIGKILL' ? `no answer within ${Math.round(timeoutMs / 1000)} s` : `probe exited with ${code ?? signal}: ${err.trim().split('\n').slice(-3).join(' ') || 'no output'}`;
      resolve({ ok: false, error: why, ms });
    });
  });
}

async function runProbe(dir: string, thorough: boolean): Promise<void> {
  const started = Date.now();
  const { openPGlite } = await import('./pglite-open.js');
  try {
    const pglite = await openPGlite(dir, { timeoutMs: 3_600_000 });
    const { rows } = await pglite.query<{ name: string }>(`select tablename as name from pg_tables where schemaname = 'public' order by tablename`);
    const tables: { name: string; rows: number }[] = [];
    for (const { name } of thorough ? rows : []) {
      // count(*) reads every heap page: damage in a table's files shows up here, not only at open.
      const counted = await pglite.query<{ n: number }>(`select count(*)::int as n from "${name.replace(/"/g, '""')}"`);
      tables.push({ name, rows: counted.rows[0]?.n ?? 0 });
    }
    await pglite.close();
    process.stdout.write(JSON.stringify({ ok: true, tables, ms: Date.now() - started }) + '\n');
  } catch (err) {
    const reason = (err as { reason?: string }).reason ?? (err as Error).message;
    process.stdout.write(JSON.stringify({ ok: false, error: reason, ms: Date.now() - started }) + '\n');
    process.exitCode = 1;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1] && process.argv[2]) {
  await runProbe(process.argv[2], process.argv[3] === 'thorough');
}
