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
 * Each worker has its own V8 isolate, and V8 lets an isolate's young generation grow to 16 MB
 * semi-spaces (32 MB resident, kept when idle) while its start allocates: PGlite's thread loads
 * a ~9 MB wasm module and its data bundle. 6 MB (2 MB semi-spaces) costs only more, smaller
 * scavenges of short-lived objects; measured with all apps idle after a restart (issue 18,
 * docs/benchmarks.md), it is part of the RSS the workers no longer hold.
 */
export const WORKER_YOUNG_GENERATION_MB = 6;

/**
 * A worker running `<name>.ts|js` from the folder of `callerUrl` (pass `import.meta.url`);
 * `workerData` reaches it as `worker_threads.workerData`.
 */
export function startModuleWorker(callerUrl: string, name: string, workerData?: unknown): Worker {
  const here = fileURLToPath(callerUrl);
  const ts = here.endsWith('.ts');
  const file = join(dirname(here), `${name}.${ts ? 'ts' : 'js'}`);
  if (!existsSync(file)) throw new Error(`worker module not found at ${file}`);
  const resourceLimits = { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB };
  if (!ts) return new Worker(file, { workerData, resourceLimits });
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(pathToFileURL(file).href)}); })`;
  return new Worker(bootstrap, { eval: true, workerData, resourceLimits });
}
