/**
 * @module db/pglite-open
 * Opens an embedded PGlite data directory or fails within seconds, saying which directory and
 * how to recover. A damaged directory makes PGlite reject with "Aborted()" or "failed to
 * initialize" (and a start that waited on it forever looked like a hang); the timeout covers
 * anything that would never settle.
 */
import { PGlite } from '@electric-sql/pglite';

/**
 * How long opening an existing directory may take. In a worker thread (db/pglite-thread) this
 * timer fires on time even while PGlite computes, so it is sized for a loaded machine, not a quiet one.
 */
export const DEFAULT_OPEN_TIMEOUT_MS = 60_000;
/** A directory with no database yet (or memory) runs initdb first: 36 s were seen at load 25. */
export const FIRST_OPEN_TIMEOUT_MS = 300_000;

/**
 * PGlite's start parameters with a 16 MB buffer pool instead of PostgreSQL's 128 MB: the pool
 * lives in PGlite's WebAssembly memory, which never shrinks, and an embedded database of this
 * size (an all-apps data directory is ~23 MB on disk, mostly catalog) keeps its hot pages in far
 * less; a miss is a read from the OS page cache. Measured on a restart of an all-apps data
 * directory: a bare process opening it, RSS 299–311 MB at 128 MB, 187 MB at 32 MB; the server,
 * every app, 20 s idle (load 15–25): 293 and 297 MB at 32 MB, 242 and 254 MB at 16 MB, 266–269 MB
 * at 8 MB.
 */
export const PGLITE_START_PARAMS: string[] = [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB'];

export class DataDirUnopenableError extends Error {
  readonly code = 'DATA_DIR_UNOPENABLE';
  constructor(
    readonly dir: string,
    readonly reason: string,
  ) {
    super(
      `cannot open the embedded database in ${dir}: ${reason}. ` +
        `Recover with \`npm run airwaves -- db check\` (diagnoses the directory) and ` +
        `\`npm run airwaves -- db restore\` (puts back the newest backup, taken before each schema change; ` +
        `the damaged directory is kept aside), or move ${dir} away to start empty.`,
    );
    this.name = 'DataDirUnopenableError';
  }
}

/** Why `dir` could not be opened, as the error a start fails with. */
export function unopenable(dir: string, err: unknown): DataDirUnopenableError {
  const message = (err as Error).message || String(err);
  return new DataDirUnopenableError(dir, message.replace(/\. Build with -sASSERTIONS for more info\.?/, ' (PGlite aborted)'));
}

/** Opens `dir` and runs one query; rejects with DataDirUnopenableError on failure or after `timeoutMs`. */
export async function openPGlite(dir: string, options: { timeoutMs?: number; loadDataDir?: Blob } = {}): Promise<PGlite> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_OPEN_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  let pglite: PGlite | undefined;
  const opening = (async () => {
    pglite = new PGlite(dir, { startParams: PGLITE_START_PARAMS, ...(options.loadDataDir ? { loadDataDir: options.loadDataDir } : {}) });
    await pglite.waitReady;
    await pglite.query('select 1');
    return pglite;
  })();
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${(timeoutMs / 1000).toFixed(0)} s`)), timeoutMs);
  });
  try {
    return await Promise.race([opening, timeout]);
  } catch (err) {
    // Whatever PGlite still holds is abandoned; the caller ends the process.
    opening.catch(() => {});
    void pglite?.close().catch(() => {});
    throw unopenable(dir, err);
  } finally {
    clearTimeout(timer);
  }
}
