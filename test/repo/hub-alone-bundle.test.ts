/**
 * @module test/repo/hub-alone-bundle
 * The built CLI runs the hub alone (`AIRWAVES_APPS=` empty, no Redis) from the one-file bundle
 * that `npm run build` writes (dist/hub/server.js), and serves as the modules do: readiness, the
 * API docs, the OpenAPI document, the landing page and a WebSocket handshake. With an app it
 * loads the modules from dist/src instead (the apps share them).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { freePort } from '../../bench/hub/servers.js';
import { sleep } from '../helpers/server.js';

// Records every ES module file the process loads (a module-customization hook), one URL a line.
const RECORD_LOADS = `data:text/javascript,${encodeURIComponent(`import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent("import { appendFileSync } from 'node:fs'; export async function load(url, context, next) { if (url.startsWith('file:')) appendFileSync(process.env.LOADS_FILE, url + '\\\\n'); return next(url, context); }"));`)}`;

async function startCli(apps: string, dir: string): Promise<{ base: string; stop: () => Promise<void>; loads: () => string[] }> {
  const port = await freePort();
  const loadsFile = join(dir, `loads-${port}.txt`);
  const child = spawn(process.execPath, ['--import', RECORD_LOADS, 'dist/src/cli.js', 'serve'], {
    env: { ...process.env, AIRWAVES_APPS: apps, AIRWAVES_PORT: String(port), AIRWAVES_HOST: '127.0.0.1', AIRWAVES_LOG_LEVEL: 'warn', AIRWAVES_DATA_DIR: join(dir, `data-${port}`), AIRWAVES_REDIS_URL: '', AIRWAVES_CONFIG: '', LOADS_FILE: loadsFile },
    stdio: 'ignore',
  });
  const base = `http://127.0.0.1:${port}`;
  for (const deadline = Date.now() + 60_000; ; await sleep(50)) {
    assert.ok(Date.now() < deadline, 'the CLI answers /readyz within 60 s');
    assert.equal(child.exitCode, null, 'the CLI is still running');
    if ((await fetch(`${base}/readyz`).then((r) => r.status, () => 0)) === 200) break;
  }
  return {
    base,
    loads: () => readFileSync(loadsFile, 'utf8').trim().split('\n'),
    stop: () => new Promise<void>((done) => (child.once('exit', () => done()), child.kill('SIGTERM'))),
  };
}

test('the built CLI runs the hub alone from dist/hub/server.js and serves the core routes and the hub', { timeout: 400_000 }, async () => {
  execFileSync(process.execPath, ['scripts/build.mjs', '--if-stale'], { stdio: 'inherit', timeout: 300_000 });
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
      assert.ok(loads.some((u) => u.endsWith('/dist/hub/server.js')), 'the bundle was loaded');
      assert.ok(!loads.some((u) => u.endsWith('/dist/src/server.js') || u.endsWith('/dist/src/config.js')), 'not the server modules of dist/src');
    } finally {
      await hub.stop();
    }
    const withApp = await startCli('radio', dir);
    try {
      const loads = withApp.loads();
      assert.ok(loads.some((u) => u.endsWith('/dist/src/server.js')), 'with an app: the modules of dist/src');
      assert.ok(!loads.some((u) => u.endsWith('/dist/hub/server.js')), 'with an app: not the bundle');
    } finally {
      await withApp.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
