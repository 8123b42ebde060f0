/**
 * @module test/repo/all-apps-bundle
 * The built CLI with the default apps runs from the all-apps bundle that `npm run build` writes
 * (dist/all/server.js and config.js, ES modules with a chunk per dynamic import), not from the
 * modules of dist/src, and everything that finds a file beside its own module still finds it: the
 * PGlite worker thread (studio's count is a query), the radio synthesis worker (a subscriber gets
 * chunks), each app's page and one API call of each, /readyz?apps=all. zod's locales are not in
 * it, nor `pg` (loaded only for a PostgreSQL URL). AIRWAVES_BUNDLE=off loads dist/src.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../bench/hub/servers.js';
import { sleep } from '../helpers/server.js';
import { Listener } from '../radio/listener.js';

// Records every ES module file the process loads (a module-customization hook), one URL a line.
const RECORD_LOADS = `data:text/javascript,${encodeURIComponent(`import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent("import { appendFileSync } from 'node:fs'; export async function load(url, context, next) { if (url.startsWith('file:')) appendFileSync(process.env.LOADS_FILE, url + '\\\\n'); return next(url, context); }"));`)}`;

async function startCli(dir: string, env: NodeJS.ProcessEnv = {}): Promise<{ base: string; stop: () => Promise<void>; loads: () => string[]; log: () => string }> {
  const port = await freePort();
  const loadsFile = join(dir, `loads-${port}.txt`);
  const child = spawn(process.execPath, ['--import', RECORD_LOADS, 'dist/src/cli.js', 'serve'], {
    env: { ...process.env, AIRWAVES_APPS: 'radio,live,support,studio,market', AIRWAVES_PORT: String(port), AIRWAVES_HOST: '127.0.0.1', AIRWAVES_LOG_LEVEL: 'info', AIRWAVES_DATA_DIR: join(dir, `data-${port}`), AIRWAVES_REDIS_URL: '', AIRWAVES_CONFIG: '', DATABASE_URL: '', LOADS_FILE: loadsFile, ...env },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let log = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (log += chunk));
  const base = `http://127.0.0.1:${port}`;
  for (const deadline = Date.now() + 180_000; ; await sleep(100)) {
    assert.ok(Date.now() < deadline, 'every app serves (/readyz?apps=all) within 180 s');
    assert.equal(child.exitCode, null, `the CLI is still running: ${log}`);
    if ((await fetch(`${base}/readyz?apps=all`).then((r) => r.status, () => 0)) === 200) break;
  }
  return {
    base,
    loads: () => readFileSync(loadsFile, 'utf8').trim().split('\n'),
    log: () => log,
    stop: () => new Promise<void>((done) => (child.once('exit', () => done()), child.kill('SIGTERM'))),
  };
}

test('the built CLI runs every app from dist/all: pages, APIs, the PGlite and radio workers', { timeout: 600_000 }, async () => {
  execFileSync(process.execPath, ['scripts/build.mjs', '--if-stale'], { stdio: 'inherit', timeout: 300_000 });
  const bundled = readdirSync('dist/all')
    .filter((f) => f.endsWith('.js.map'))
    .flatMap((f) => (JSON.parse(readFileSync(join('dist/all', f), 'utf8')) as { sources: string[] }).sources);
  assert.ok(bundled.some((f) => f.endsWith('src/apps/radio/index.ts')) && bundled.some((f) => f.includes('node_modules/zod/')), `the check sees the bundle's files: ${bundled.length}`);
  assert.deepEqual(bundled.filter((f) => /node_modules\/zod\/.*\/locales\/(?!en\.js$|english-only\.js$)[\w-]+\.js$/.test(f)), [], "zod's locales other than English are not in the bundle");
  assert.deepEqual(bundled.filter((f) => /node_modules\/pg(-[\w]+)?\//.test(f)), [], 'pg stays out of it');
  const dir = mkdtempSync(join(tmpdir(), 'airwaves-all-bundle-'));
  try {
    const server = await startCli(dir);
    try {
      assert.ok(server.log().includes('the server runs from the all-apps bundle (dist/all)'), `the bundle was loaded: ${server.log()}`);
      const loads = server.loads();
      assert.ok(!loads.some((u) => u.endsWith('/dist/src/server.js') || u.endsWith('/dist/src/config.js')), 'not the server modules of dist/src');
      assert.ok(!loads.some((u) => u.includes('/node_modules/pg/')), 'pg is not loaded on PGlite');
      for (const page of ['/', '/radio/', '/live/', '/support/', '/market/', '/studio/']) assert.equal((await fetch(server.base + page)).status, 200, page);
      const key = (JSON.parse(readFileSync(join(dir, readdirSync(dir).find((d) => d.startsWith('data-'))!, 'secrets.json'), 'utf8')) as { apiKey: string }).apiKey;
      const api = async (path: string) => {
        const res = await fetch(server.base + path, { headers: { authorization: `Bearer ${key}` } });
        assert.equal(res.status, 200, `${path}: ${res.status}`);
        return (await res.json()) as Record<string, unknown>;
      };
      assert.ok(((await api('/api/v1/radio/stations')).stations as unknown[]).length > 0, 'radio lists its stations');
      assert.ok(((await api('/api/v1/market/symbols')).symbols as unknown[]).length > 0, 'market lists its symbols');
      assert.deepEqual(await api('/api/v1/streams'), { streams: [] }, 'live lists its streams');
      assert.deepEqual(await api('/api/v1/studio/conversations/count'), { count: 0, exact: true }, "studio's count, a query through the PGlite worker");
      assert.deepEqual((await api('/api/v1/auth/me')).roles, ['admin'], 'the API key signs in as admin');
      // The radio synthesis worker (started from dist/src beside the bundle) sends chunks to a subscriber.
      const listener = await Listener.open(`${server.base.replace('http', 'ws')}/ws`);
      try {
        await listener.subscribe('radio:calm:pcm');
        for (const deadline = Date.now() + 30_000; listener.arrivals.length < 5; await sleep(100)) assert.ok(Date.now() < deadline, `radio chunks arrive (${listener.arrivals.length})`);
      } finally {
        listener.close();
      }
    } finally {
      await server.stop();
    }
    const modules = await startCli(dir, { AIRWAVES_BUNDLE: 'off' });
    try {
      assert.ok(modules.loads().some((u) => u.endsWith('/dist/src/server.js')), 'AIRWAVES_BUNDLE=off: the modules of dist/src');
      assert.ok(!modules.log().includes('all-apps bundle'), 'AIRWAVES_BUNDLE=off: not the bundle');
    } finally {
      await modules.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
