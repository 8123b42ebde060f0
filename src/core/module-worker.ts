/**
 * @module core/module-worker
 * Starts a worker thread on a module that sits next to the caller, with the caller's own
 * extension: `.ts` when running under tsx (tests, `npm run airwaves`), `.js` when running from
 * dist/ after `npm run build`. Node 20 does not honour `--import tsx` in a worker's execArgv, so
 * under tsx a tiny bootstrap registers tsx's loader in the worker first, then imports the module.
 */
import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * A worker running `<name>.ts|js` from the folder of `callerUrl` (pass `import.meta.url`);
 * `workerData` reaches it as `worker_threads.workerData`.
 */
export function startModuleWorker(callerUrl: string, name: string, workerData?: unknown): Worker {
  const here = fileURLToPath(callerUrl);
  const ts = here.endsWith('.ts');
  const file = join(dirname(here), `${name}.${ts ? 'ts' : 'js'}`);
  if (!existsSync(file)) throw new Error(`worker module not found at ${file}`);
  if (!ts) return new Worker(file, { workerData });
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(pathToFileURL(file).href)}); })`;
  return new Worker(bootstrap, { eval: true, workerData });
}
