/**
 * @module test/repo/hub-alone-bundle
 * The built CLI runs the hub alone (`AIRWAVES_APPS=` empty, no Redis) from the one-file bundle
 * that `npm run build` writes (dist/hub/server.cjs) with the V8 code cache the build made beside
 * it, and serves as the modules do: readiness, the API docs, the OpenAPI document, the landing
 * page and a WebSocket handshake. With an app it loads the all-apps bundle (dist/all) instead. The loader (src/hub-alone-bundle.ts) runs a CommonJS file as `require` would,
 * tells a used cache from a refused or missing one, and writes one that the next load uses.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import WebSocket from 'ws';
import { freePort } from '../../bench/hub/servers.js';
import { sleep } from '../helpers/server.js';
import { codeCacheOf, loadBundle } from '../../src/hub-alone-bundle.js';

// Records every ES module file the process loads (a module-customization hook), one URL a line.
const RECORD_LOADS = `data:text/javascript,${encodeURIComponent(`import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent("import { appendFileSync } from 'node:fs'; export async function load(url, context, next) { if (url.startsWith('file:')) appendFileSync(process.env.LOADS_FILE, url + '\\\\n'); return next(url, context); }"));`)}`;

async function startCli(apps: string, dir: string): Promise<{ base: string; stop: () => Promise<void>; loads: () => string[]; log: () => string }> {
  const port = await freePort();
  const loadsFile = join(dir, `loads-${port}.txt`);
  const child = spawn(process.execPath, ['--import', RECORD_LOADS, 'dist/src/cli.js', 'serve'], {
    env: { ...process.env, AIRWAVES_APPS: apps, AIRWAVES_PORT: String(port), AIRWAVES_HOST: '127.0.0.1', AIRWAVES_LOG_LEVEL: 'info', AIRWAVES_DATA_DIR: join(dir, `data-${port}`), AIRWAVES_REDIS_URL: '', AIRWAVES_CONFIG: '', LOADS_FILE: loadsFile },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let log = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (log += chunk));
  const base = `http://127.0.0.1:${port}`;
  for (const deadline = Date.now() + 60_000; ; await sleep(50)) {
    assert.ok(Date.now() < deadline, 'the CLI answers /readyz within 60 s');
    assert.equal(child.exitCode, null, 'the CLI is still running');
    if ((await fetch(`${base}/readyz`).then((r) => r.status, () => 0)) === 200) break;
  }
  return {
    base,
    loads: () => readFileSync(loadsFile, 'utf8').trim().split('\n'),
    log: () => log,
    stop: () => new Promise<void>((done) => (child.once('exit', () => done()), child.kill('SIGTERM'))),
  };
}

test('the built CLI runs the hub alone from dist/hub/server.cjs with its code cache and serves the core routes and the hub', { timeout: 400_000 }, async () => {
  execFileSync(process.execPath, ['scripts/build.mjs', '--if-stale'], { stdio: 'inherit', timeout: 300_000 });
  // What ws and fastify require for a client over TLS, compression, HTTP/2 and a DNS lookup is loaded on first use,
  // and bufferutil's addon is required by the path the build found, without node-gyp-build's scan (scripts/build.mjs).
  const loaded = JSON.parse(
    execFileSync(process.execPath, ['-e', "require('./dist/src/hub-alone-bundle.js').loadBundle(require('node:path').resolve('dist/hub/server.cjs')); console.log(JSON.stringify({ builtins: process.moduleLoadList, files: Object.keys(require.cache) }))"], { encoding: 'utf8' }),
  ) as { builtins: string[]; files: string[] };
  for (const name of ['https', 'tls', 'http2', 'zlib', 'dns']) assert.ok(!loaded.builtins.includes(`NativeModule ${name}`), `loading the bundle does not load node:${name}`);
  assert.ok(loaded.builtins.includes('NativeModule http'), 'the check sees what the bundle loads');
  assert.ok(loaded.files.some((f) => f.endsWith('bufferutil.node')), `bufferutil's addon is loaded: ${loaded.files.join(', ')}`);
  assert.ok(!loaded.files.some((f) => f.includes(`${sep}node-gyp-build${sep}`)), 'without node-gyp-build');
  // No app runs from the bundle, so no app's settings module is in it (their zod schemas were built at every start):
  // the source map lists every file the bundle holds.
  const bundled = (JSON.parse(readFileSync('dist/hub/server.cjs.map', 'utf8')) as { sources: string[] }).sources;
  assert.ok(bundled.some((f) => f.endsWith('src/core/settings.ts')) && bundled.some((f) => f.endsWith('src/apps/catalog.ts')), `the check sees the bundle's own files: ${bundled.length}`);
  const appSettings = bundled.filter((f) => /src\/apps\/(\w+\/)?settings\.ts$/.test(f));
  assert.deepEqual(appSettings, [], 'no settings module of an app is in the hub-alone bundle');
  const config = JSON.parse(
    execFileSync(process.execPath, ['-e', "const { loadConfig } = require('./dist/src/hub-alone-bundle.js').loadBundle(require('node:path').resolve('dist/hub/server.cjs')).exports; console.log(JSON.stringify(loadConfig({ AIRWAVES_APPS: '', AIRWAVES_RADIO_STATIONS: 'not json' })))"], { encoding: 'utf8' }),
  ) as Record<string, unknown>;
  assert.deepEqual(config.apps, [], "the bundle's configuration is the core's");
  assert.ok(!('radioStations' in config) && !('marketEnabled' in config), `without any app's fields (a disabled app's variable is not read): ${Object.keys(config).join(', ')}`);
  const dir = mkdtempSync(join(tmpdir(), 'airwaves-bundle-'));
  try {
    const hub = await startCli('', dir);
    try {
      for (const path of ['/readyz', '/healthz', '/docs/', '/openapi.json', '/', '/metrics']) assert.equal((await fetch(hub.base + path)).status, 200, path);
      const openApi = (await (await fetch(`${hub.base}/openapi.json`)).json()) as { paths: Record<string, unknown> };
      assert.ok('/api/v1/status' in openApi.paths, 'the OpenAPI document lists the core routes');
      await new Promise<void>((resolve, reject) => {
        const ws = new WebSocket(`${hub.base.replace('http', 'ws')}/ws`);
        ws.once('open', () => (ws.close(), resolve()));
        ws.once('error', reject);
      });
      const loads = hub.loads();
      const started = hub.log().split('\n').filter((l) => l.includes('hub alone: the server runs from dist/hub/server.cjs'));
      assert.equal(started.length, 1, `the bundle was loaded: ${hub.log()}`);
      assert.equal((JSON.parse(started[0]!) as { codeCache: string }).codeCache, 'used', 'with the code cache the build made');
      assert.ok(!loads.some((u) => u.endsWith('/dist/src/server.js') || u.endsWith('/dist/src/config.js')), 'not the server modules of dist/src');
    } finally {
      await hub.stop();
    }
    const withApp = await startCli('radio', dir);
    try {
      const loads = withApp.loads();
      assert.ok(loads.some((u) => u.endsWith('/dist/all/server.js')), 'with an app: the all-apps bundle (test/repo/all-apps-bundle)');
      assert.ok(!withApp.log().includes('dist/hub/server.cjs'), 'with an app: not the bundle');
    } finally {
      await withApp.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a CommonJS bundle runs as require would run it, and its code cache is written, used, and refused when it does not fit', () => {
  const dir = mkdtempSync(join(tmpdir(), 'airwaves-code-cache-'));
  try {
    const file = join(dir, 'bundle.cjs');
    writeFileSync(join(dir, 'helper.cjs'), 'module.exports = 41;');
    writeFileSync(file, "const helper = require('./helper.cjs'); exports.answer = () => helper + 1; exports.where = __filename; exports.folder = __dirname;");
    const first = loadBundle<{ answer: () => number; where: string; folder: string }>(file);
    assert.equal(first.codeCache, 'missing');
    assert.deepEqual([first.exports.answer(), first.exports.where, first.exports.folder], [42, file, dir], 'require, __filename and __dirname are the file’s');
    assert.equal(first.saveCodeCache(), codeCacheOf(file));
    const second = loadBundle<{ answer: () => number }>(file);
    assert.equal(second.codeCache, 'used');
    assert.equal(second.exports.answer(), 42);
    // Another source under the same name (a rebuild without its cache): V8 refuses the old cache, the source still runs.
    writeFileSync(file, 'exports.answer = () => 7;');
    const changed = loadBundle<{ answer: () => number }>(file);
    assert.equal(changed.codeCache, 'refused');
    assert.equal(changed.exports.answer(), 7);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
