/**
 * @module bench/shared/worker
 * Runs a benchmark's load generator (a TypeScript module) in a worker thread, so the simulated
 * users get their own event loop, and resolves with the first message it posts.
 */
import { Worker } from 'node:worker_threads';

export function runInWorker<T>(entry: URL, workerData: unknown, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    // Node 20 does not carry tsx's loader into workers: the worker registers it, then loads the TS.
    const bootstrap = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(entry.href)}); })`;
    const worker = new Worker(bootstrap, { eval: true, workerData });
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(new Error('load worker timed out'));
    }, timeoutMs);
    worker.once('message', (m: T) => {
      clearTimeout(timer);
      void worker.terminate();
      resolve(m);
    });
    worker.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}
