/**
 * @module hub-alone-bundle
 * Loads the hub-alone bundle (dist/hub/server.cjs, written by scripts/build.mjs) with a V8 code
 * cache kept beside it (dist/hub/server.cjs.cache). Compiling the 2.6 MB bundle was the largest
 * share of a hub-alone start (its top level alone ~120 ms of parsing, then every function its start
 * runs), and Node 20 has no module compile cache (`module.enableCompileCache` came in Node 22), so
 * the bundle is CommonJS and compiled here as Node compiles a CommonJS module (the same wrapper,
 * `require` relative to the file) with `vm.Script`, which takes and makes V8 code caches. As
 * CommonJS it also skips what an ES module pays for its CommonJS dependencies (Node lexes each
 * one's source for its export names).
 *
 * The cache is made after a start (so it holds every function the start compiled): by the build
 * (`primeHubAloneCodeCache`), and again by a start whose cache V8 refused (another Node, other V8
 * flags) when the directory is writable. A refused or missing cache costs only the compiling.
 */
import { isAscii } from 'node:buffer';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

/** What the cache did for this load: V8 took it, refused it (made by another Node or other flags), or there was none. */
export type CodeCacheState = 'used' | 'refused' | 'missing';

export interface LoadedBundle<T> {
  exports: T;
  codeCache: CodeCacheState;
  /** Writes the code cache of everything compiled so far (atomically: a file and a rename); returns where. */
  saveCodeCache(): string;
}

/** The code cache beside a bundle. */
export const codeCacheOf = (bundle: string): string => `${bundle}.cache`;

/** Compiles and runs the CommonJS bundle at `file` (a path) as Node's `require` would, with its code cache if there is one. */
export function loadBundle<T>(file: string): LoadedBundle<T> {
  const bytes = readFileSync(file);
  // The build writes ASCII (esbuild escapes the rest): decoded as Latin-1 it is V8's one-byte string at once, without UTF-8 decoding.
  const source = bytes.toString(isAscii(bytes) ? 'latin1' : 'utf8');
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(codeCacheOf(file));
  } catch {
    cachedData = undefined; // not built, or removed: compiled from source
  }
  // No dynamic-import callback: Node 20 loses it on a script compiled from another process's
  // cache, so the build turns the bundle's import() into require() (scripts/build.mjs).
  const script = new Script(Module.wrap(source), { filename: file, cachedData });
  const module = { exports: {} as T };
  const run = script.runInThisContext() as (exports: T, require: NodeJS.Require, module: { exports: T }, filename: string, dirname: string) => void;
  run(module.exports, createRequire(file), module, file, dirname(file));
  return {
    exports: module.exports,
    codeCache: cachedData === undefined ? 'missing' : script.cachedDataRejected ? 'refused' : 'used',
    saveCodeCache() {
      const target = codeCacheOf(file);
      const partial = `${target}.${process.pid}.partial`;
      try {
        writeFileSync(partial, script.createCachedData());
        renameSync(partial, target);
      } catch (err) {
        rmSync(partial, { force: true }); // no half-written file left behind
        throw err;
      }
      return target;
    },
  };
}

type HubAloneModules = Pick<typeof import('./server.js'), 'createServer'>;

/**
 * Starts the hub alone from the bundle on a spare port and a scratch data directory, stops it,
 * and writes the code cache (`npm run build` runs this once the bundle is written). The V8 flags
 * must be those of `serve` (the scavenger's: V8 refuses a cache made under other flags).
 */
export async function primeHubAloneCodeCache(file = fileURLToPath(new URL('../hub/server.cjs', import.meta.url))): Promise<string> {
  (await import('./core/scavenger.js')).applyServerScavenger();
  const bundle = loadBundle<HubAloneModules>(file);
  const dataDir = mkdtempSync(join(tmpdir(), 'airwaves-code-cache-'));
  try {
    const server = await bundle.exports.createServer({ env: {}, config: { apps: [], port: 0, host: '127.0.0.1', dataDir, logLevel: 'warn' } });
    await server.listen();
    await fetch(`${server.url}/readyz`);
    await server.close();
    return bundle.saveCodeCache();
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
