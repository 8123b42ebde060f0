#!/usr/bin/env node
/**
 * @module scripts/build
 * Builds the server (tsc → dist/src), the hub-alone bundle (esbuild → dist/hub/server.cjs, and its
 * V8 code cache) and the web UIs (vite → dist/web), then stamps dist/ with the time the build
 * started. `--if-stale` (what `npm start` runs first) builds only when a source is
 * newer than that stamp, so every start after the first is instant; and before it builds, it checks
 * the configuration, so a bad setting costs a second, not a whole build.
 *
 * @example
 *   node scripts/build.mjs             # always build
 *   node scripts/build.mjs --if-stale  # check config, then build only if sources changed
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const stampFile = join(root, 'dist', '.build-stamp');
/** What the build reads: a change to any of these makes dist/ stale. */
const inputs = ['src', 'web', 'vite.config.ts', 'tsconfig.json', 'tsconfig.build.json', 'package.json'];
/** What the server needs from a build (the CLI and each UI's page); a missing one makes dist/ stale whatever the stamp says. */
const outputs = [
  'dist/src/cli.js',
  ...readdirSync(join(root, 'web'), { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(root, 'web', d.name, 'index.html')))
    .map((d) => `dist/web/${d.name}/index.html`),
];

/** Newest modification time (ms) under a file or folder. */
function newestMtime(path) {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs; // a deleted file shows only as its folder's change
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

export function isStale() {
  if (outputs.some((file) => !existsSync(join(root, file)))) return true;
  const stamp = statSync(stampFile, { throwIfNoEntry: false });
  if (!stamp) return true;
  return inputs.some((input) => newestMtime(join(root, input)) > stamp.mtimeMs);
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', ...options });
  if (result.error) throw result.error;
  return result;
}

/** `airwaves check-config` from the sources (dist/ may be missing or stale): exit 78 naming each bad field. */
function checkConfig() {
  const result = run(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'check-config'], { stdio: ['ignore', 'ignore', 'pipe'] });
  if (result.status !== 0) {
    process.stderr.write(result.stderr);
    process.exit(result.status ?? 1);
  }
}

async function build() {
  const started = new Date();
  const bin = (name) => join(root, 'node_modules', '.bin', name);
  for (const [command, args] of [
    [bin('tsc'), ['-p', 'tsconfig.build.json']],
    [bin('vite'), ['build', '--logLevel', 'warn']],
  ]) {
    const result = run(command, args);
    if (result.status !== 0) process.exit(result.status ?? 1);
  }
  await bundleHubAlone();
  await bundleAllApps();
  // The start time, not the end: a source saved during the build makes the next start rebuild.
  mkdirSync(join(root, 'dist'), { recursive: true });
  writeFileSync(stampFile, `${started.toISOString()}\n`);
  utimesSync(stampFile, started, started);
}

/* esbuild plugins both server bundles use. */
const noPushgateway = {
  // prom-client's Pushgateway (never used: Prometheus scrapes /metrics) loads node:https and
  // node:tls when prom-client loads, ~15 ms of a hub-alone start; in the bundle it is a class that says so.
  name: 'no-pushgateway',
  setup(build) {
    build.onResolve({ filter: /^\.\/lib\/pushgateway$/ }, (args) => (args.importer.includes(`${sep}prom-client${sep}`) ? { path: 'pushgateway', namespace: 'airwaves-stub' } : undefined));
    build.onLoad({ filter: /.*/, namespace: 'airwaves-stub' }, () => ({
      contents: "module.exports = class Pushgateway { constructor() { throw new Error('prom-client Pushgateway is not in the hub-alone bundle (Prometheus scrapes /metrics)'); } };",
      loader: 'js',
    }));
  },
};

const nodeModulesLoadedOnFirstUse = {
  // Node modules ws and fastify require at their top level for what a hub alone never does:
  // a WebSocket client over TLS (ws: https, tls), compression (ws: zlib; the hub turns
  // permessage-deflate off), HTTP/2 and a `localhost` lookup (fastify: http2, dns). Loading
  // them was ~9 ms of a hub-alone start on the 2-core machine; in the bundle each is loaded
  // the first time one of its properties is read (those packages keep the module object).
  name: 'node-modules-loaded-on-first-use',
  setup(build) {
    const lazy = /^(node:)?(https|tls|http2|dns|zlib)$/;
    const importers = new RegExp(`\\${sep}node_modules\\${sep}(ws|fastify)\\${sep}`);
    build.onResolve({ filter: lazy }, (args) => (args.kind === 'require-call' && importers.test(args.importer) ? { path: args.path.replace(/^node:/, ''), namespace: 'airwaves-lazy-builtin' } : undefined));
    build.onLoad({ filter: /.*/, namespace: 'airwaves-lazy-builtin' }, (args) => ({
      contents: `let m; const load = () => (m ??= require('node:${args.path}')); module.exports = new Proxy({}, { get: (_, k) => load()[k], has: (_, k) => k in load(), set: (_, k, v) => ((load()[k] = v), true) });`,
      loader: 'js',
    }));
  },
};

const zodEnglishOnly = {
  // zod re-exports every locale it has as `z.locales` (64 modules, a third of zod's source in
  // the bundle) and configures English itself; Airwaves sets no other. In the bundle the
  // namespace holds English alone: bytes every start reads and decodes for nothing.
  name: 'zod-english-only',
  setup(build) {
    build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) => (args.importer.includes(`${sep}node_modules${sep}zod${sep}`) ? { path: join(dirname(args.importer), '..', 'locales', 'english-only.js'), namespace: 'airwaves-zod-locales' } : undefined));
    build.onLoad({ filter: /.*/, namespace: 'airwaves-zod-locales' }, (args) => ({ contents: "export { default as en } from './en.js';", loader: 'js', resolveDir: dirname(args.path) }));
  },
};

/**
 * dist/src/server.js and config.js and what they import statically, as one CommonJS file
 * (dist/hub/server.cjs): the CLI loads it for the hub alone (no app, no Redis), where resolving and
 * reading some 670 module files (fastify's, zod's, jose's, yaml's, semver's…) was most of the time
 * to /readyz; then a start of the hub alone from it writes its V8 code cache
 * (dist/hub/server.cjs.cache), which the CLI hands V8 with the source (src/hub-alone-bundle.ts):
 * Node 20 has no compile cache for modules. Dynamic imports (apps, the database, Redis) stay
 * outside, pointing at dist/src: the CLI never takes this path when it would reach them. Packages
 * that read files next to their own module (the API docs' UI, static files) and native or optional
 * ones stay outside too; pino is inside (a transport's worker file would not be found from here,
 * and Airwaves logs to stdout without one). Without esbuild (a dependency of tsx and vite) the
 * bundle is skipped: the CLI then loads dist/src/server.js.
 */
async function bundleHubAlone() {
  const esbuild = await import('esbuild').catch(() => null);
  if (!esbuild) return console.error('airwaves: esbuild not installed; no hub-alone bundle (the CLI loads dist/src)');
  const src = join(root, 'dist', 'src');
  const outdir = join(root, 'dist', 'hub');
  // What an older build left there (the ES module bundle, a cache of another source).
  rmSync(outdir, { recursive: true, force: true });
  await esbuild.build({
    // What the CLI's `serve` takes from the modules (src/cli.ts serverModules), from one file.
    stdin: { contents: "export { createServer } from './server.js'; export { loadConfig, clusterProblems } from './config.js';", resolveDir: src, sourcefile: 'hub-alone-entry.js' },
    outfile: join(outdir, 'server.cjs'),
    bundle: true,
    platform: 'node',
    // CommonJS: V8 takes a code cache for a script (vm.Script), not for a module, in Node 20.
    format: 'cjs',
    target: 'node20',
    // import() as require(): a vm.Script from a code cache made by another process has lost its
    // dynamic-import callback in Node 20 (ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING). The packages a
    // hub-alone server imports on first use (the docs' UI, static files) are CommonJS; the ES
    // modules of dist/src that the apps, the database and Redis need are never reached from here.
    supported: { 'dynamic-import': false },
    logLevel: 'warning',
    // Whitespace and comments out (names kept): V8 keeps a script's whole source for lazy
    // compilation, and a comment with one non-ASCII character (zod's, ip-address's) made all
    // 3.7 MB of it a two-byte string, 7.5 MB of heap. Minified it is 2.6 MB, one byte a character.
    // The source map (dist/hub/server.cjs.map) maps a stack trace's positions back by hand: V8
    // does not apply it to a vm.Script.
    minifyWhitespace: true,
    legalComments: 'none',
    sourcemap: true,
    // The modules' `import.meta.url` (their own location: the web UIs' root, createRequire) is the bundle's.
    define: { 'import.meta.url': '__airwavesBundleUrl' },
    banner: { js: "const __airwavesBundleUrl = require('node:url').pathToFileURL(__filename).href;" },
    // Outside too, read only when first used: the schema compilers (http/lazy-schema-compilers) and
    // Fastify's inject (tests): 0.3 MB of source a start would read and keep for nothing.
    external: ['@fastify/swagger-ui', '@fastify/static', '@fastify/ajv-compiler', 'light-my-request', 'bufferutil', 'utf-8-validate', '@electric-sql/pglite', 'pg', 'ioredis', 'opusscript'],
    plugins: [
      noPushgateway,
      nodeModulesLoadedOnFirstUse,
      {
        // bufferutil finds its native addon through node-gyp-build, which scans its prebuilds
        // folder at every start (~3.5 ms of a hub-alone start); the bundle names the addon the
        // build found, relative to dist/hub, and falls back to the package (another platform, another layout).
        name: 'bufferutil-addon-named',
        setup(build) {
          // ws's require of the package gets the stub; the stub's own requires stay outside the bundle.
          build.onResolve({ filter: /^bufferutil$|\.node$/ }, (args) => (args.namespace === 'airwaves-bufferutil' ? { path: args.path, external: true } : args.path === 'bufferutil' ? { path: 'bufferutil', namespace: 'airwaves-bufferutil' } : undefined));
          build.onLoad({ filter: /.*/, namespace: 'airwaves-bufferutil' }, async () => {
            const { createRequire } = await import('node:module');
            const require = createRequire(join(root, 'package.json'));
            let addon;
            try {
              addon = relative(outdir, require('node-gyp-build').path(dirname(require.resolve('bufferutil')))).split(sep).join('/');
            } catch {
              addon = undefined; // no prebuilt addon here: the package decides at run time
            }
            const direct = addon ? `try { module.exports = require(${JSON.stringify(`./${addon}`)}); } catch { module.exports = require('bufferutil'); }` : "module.exports = require('bufferutil');";
            return { contents: direct, loader: 'js', resolveDir: outdir };
          });
        },
      },
      zodEnglishOnly,
      {
        // The bundle runs only with no app enabled (src/cli.ts hubAloneBundle: AIRWAVES_APPS empty),
        // so no app's settings are read: config.js merges the core's alone here, and no app's
        // settings module (zod schemas built at its top level) is in the bundle. A bad app
        // variable does not stop the hub alone; `airwaves check-config` (dist/src) checks every app's.
        name: 'no-app-settings',
        setup(build) {
          build.onResolve({ filter: /^\.\/apps\/settings\.js$/ }, (args) => (args.importer === join(src, 'config.js') ? { path: 'app-settings', namespace: 'airwaves-no-app-settings' } : undefined));
          build.onLoad({ filter: /.*/, namespace: 'airwaves-no-app-settings' }, () => ({ contents: 'exports.APP_SETTINGS = [];', loader: 'js' }));
        },
      },
      {
        name: 'dynamic-imports-stay-in-dist-src',
        setup(build) {
          build.onResolve({ filter: /^\./ }, (args) => {
            if (args.kind !== 'dynamic-import') return undefined;
            const target = resolve(args.resolveDir, args.path);
            return { path: '../src/' + relative(src, target).split(sep).join('/'), external: true };
          });
        },
      },
    ],
  });
  // The code cache of a start (every function it compiled), in a node of its own as `serve` runs.
  const primer = "const { primeHubAloneCodeCache } = await import('./dist/src/hub-alone-bundle.js'); await primeHubAloneCodeCache(); process.exit(0);";
  const result = run(process.execPath, ['--input-type=module', '-e', primer]);
  if (result.status !== 0) console.error('airwaves: the hub-alone code cache was not written; the first hub-alone start writes it');
}

/**
 * The server with every app (what `npm start` runs with the default AIRWAVES_APPS), bundled:
 * dist/all/server.js and config.js, ES modules, each app and the other dynamic imports a chunk
 * beside them. Measured (issue 18, docs/benchmarks.md): an all-apps server from dist/src keeps
 * ~29 MB of live heap after start against the hub alone's 12 MB, 6.4 MB of it module source
 * (comments, zod's 64 locales nothing reads), and that heap is what a 1M/s burst's mark-compact
 * walks. Whitespace and comments out, zod in English alone, as in the hub-alone bundle. ES
 * modules, not CommonJS: PGlite is an ES module the bundle imports (it finds its wasm and data
 * beside its own file, so it stays in node_modules), and a dynamic import() keeps working. The
 * modules that find a file beside their own (the PGlite and radio workers, the probe's child
 * process, Redis's Lua scripts) are told where they are in dist/src, which holds those files.
 */
async function bundleAllApps() {
  const esbuild = await import('esbuild').catch(() => null);
  if (!esbuild) return console.error('airwaves: esbuild not installed; no all-apps bundle (the CLI loads dist/src)');
  const src = join(root, 'dist', 'src');
  const outdir = join(root, 'dist', 'all');
  rmSync(outdir, { recursive: true, force: true });
  /** Modules that look for a file next to themselves: their import.meta.url is their dist/src file's. */
  const locationBound = ['db/pglite-thread.js', 'db/pglite-probe.js', 'apps/radio/synth/engine.js', 'hub/engines/redis/scripts.js'].map((file) => join(src, file));
  await esbuild.build({
    entryPoints: { server: join(src, 'server.js'), config: join(src, 'config.js') },
    outdir,
    bundle: true,
    splitting: true,
    chunkNames: 'chunk-[hash]',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'warning',
    minifyWhitespace: true,
    legalComments: 'none',
    sourcemap: true,
    // The CommonJS packages inside call require() (node: modules, and the packages left outside).
    banner: { js: "import { createRequire as __airwavesCreateRequire } from 'node:module'; const require = __airwavesCreateRequire(import.meta.url);" },
    external: ['@fastify/swagger-ui', '@fastify/static', '@fastify/ajv-compiler', 'light-my-request', 'bufferutil', 'utf-8-validate', '@electric-sql/pglite', 'pg', 'ioredis', 'opusscript'],
    plugins: [
      noPushgateway,
      nodeModulesLoadedOnFirstUse,
      zodEnglishOnly,
      {
        name: 'location-bound-modules-in-dist-src',
        setup(build) {
          build.onLoad({ filter: /\.js$/ }, async (args) => {
            if (!locationBound.includes(args.path)) return undefined;
            const { readFile } = await import('node:fs/promises');
            const at = `new URL(${JSON.stringify(`../src/${relative(src, args.path).split(sep).join('/')}`)}, import.meta.url).href`;
            return { contents: (await readFile(args.path, 'utf8')).replaceAll('import.meta.url', at), loader: 'js', resolveDir: dirname(args.path) };
          });
        },
      },
    ],
  });
}

if (process.argv.includes('--if-stale')) {
  if (isStale()) {
    checkConfig();
    console.error('airwaves: sources changed since the last build; building (once) …');
    await build();
  }
} else {
  await build();
}
