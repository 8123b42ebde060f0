/**
 * @module db/pglite-thread
 * Embedded PGlite in a worker thread of this process. On a first start PGlite's initdb, its
 * WebAssembly compile and the migrations took 36 s of CPU on a loaded machine, all of it on the
 * event loop: the hub's WebSocket handshakes went unanswered for longer than a client's 10 s
 * timeout. In a worker the main thread only posts SQL and receives rows.
 *
 * The thread is in this process, so "one process owns a data directory" (db/data-dir-lock) holds
 * as before: the lock is taken here, before the thread touches a file. `PGliteThread` offers the
 * part of PGlite's interface the server uses (query, dumpDataDir, close), which is all
 * kysely-pglite-dialect calls. PGlite's own `PGliteWorker` needs a browser (navigator.locks, DOM
 * workers) and does not run on Node.
 */
import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../core/module-worker.js';
import type { DumpCompression, ErrorFields, FromThread, ThreadOptions, ToThread } from './pglite-thread-protocol.js';

export interface ThreadQueryResult<T> {
  rows: T[];
  affectedRows?: number;
}

interface Pending {
  resolve(value: FromThread): void;
  reject(err: Error): void;
  /** Where the call was made: a failed statement's error points at its caller, not at a message handler. */
  caller: Error;
}

/** An error from the thread, rebuilt with its fields (SQLSTATE `code`, …) and the caller's stack. */
function rebuild(fields: ErrorFields, caller?: Error): Error {
  const err = Object.assign(new Error(fields.message), fields);
  err.name = fields.name;
  if (caller?.stack) err.stack = `${fields.name}: ${fields.message}\n${caller.stack.split('\n').slice(1).join('\n')}`;
  return err;
}

export class PGliteThread {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private ended: Error | null = null;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (msg: FromThread) => {
      if (!('id' in msg)) return;
      const call = this.pending.get(msg.id);
      if (!call) return;
      this.pending.delete(msg.id);
      if (msg.type === 'error') call.reject(rebuild(msg.error, call.caller));
      else call.resolve(msg);
    });
    worker.on('error', (err) => this.end(err));
    worker.on('exit', (code) => this.end(new Error(`the embedded database thread exited (code ${code})`)));
  }

  /**
   * Starts the thread and waits until its database answers; a thread that has not answered after
   * `timeoutMs` is terminated (unlike PGlite on the main thread, a spinning WebAssembly call in a
   * worker can be stopped) and the promise rejects with "no answer within …".
   */
  static async open(options: ThreadOptions & { timeoutMs: number }): Promise<PGliteThread> {
    const { timeoutMs, ...data } = options;
    const worker = startModuleWorker(import.meta.url, 'pglite-thread-worker', data);
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${(timeoutMs / 1000).toFixed(0)} s`)), timeoutMs);
        worker.on('message', (msg: FromThread) => {
          if (msg.type === 'ready') resolve();
          else if (msg.type === 'open-failed') reject(rebuild(msg.error));
        });
        worker.once('error', reject);
        worker.once('exit', (code) => reject(new Error(`the embedded database thread exited (code ${code}) while opening`)));
      });
    } catch (err) {
      await worker.terminate();
      throw err;
    } finally {
      clearTimeout(timer);
    }
    worker.unref();
    return new PGliteThread(worker);
  }

  private end(err: Error): void {
    this.ended ??= err;
    for (const call of this.pending.values()) call.reject(err);
    this.pending.clear();
  }

  private call(msg: ToThread): Promise<FromThread> {
    if (this.ended) return Promise.reject(this.ended);
    // The thread keeps the process alive only while a call waits on it: an idle database never
    // holds a process open (as PGlite on the main thread never did), an awaited query always does.
    if (this.pending.size === 0) this.worker.ref();
    return new Promise<FromThread>((resolve, reject) => {
      this.pending.set(msg.id, { resolve, reject, caller: new Error() });
      this.worker.postMessage(msg);
    }).finally(() => {
      if (this.pending.size === 0) this.worker.unref();
    });
  }

  async query<T>(sql: string, params: unknown[] = []): Promise<ThreadQueryResult<T>> {
    const answer = await this.call({ op: 'query', id: this.nextId++, sql, params });
    if (answer.type !== 'result') throw new Error(`unexpected answer ${answer.type} to a query`);
    return { rows: answer.rows as T[], affectedRows: answer.affectedRows };
  }

  /** The whole data directory as a tarball (db/backups). */
  async dumpDataDir(compression: DumpCompression = 'gzip'): Promise<Blob> {
    const answer = await this.call({ op: 'dump', id: this.nextId++, compression });
    if (answer.type !== 'dump') throw new Error(`unexpected answer ${answer.type} to a dump`);
    return new Blob([answer.bytes]);
  }

  /** Closes the database (its files flushed), then ends the thread. */
  async close(): Promise<void> {
    try {
      if (!this.ended) await this.call({ op: 'close', id: this.nextId++ });
    } finally {
      this.ended ??= new Error('the embedded database is closed');
      await this.worker.terminate();
    }
  }
}
