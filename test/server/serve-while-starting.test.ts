/**
 * Serving while the apps start (what `airwaves serve` does): the port opens as soon as the hub
 * runs; /healthz, /readyz, the landing page and the UIs answer at once; an app's routes answer
 * 503 `app_starting` (with Retry-After) until every app is in; `/readyz?apps=all` waits for them.
 * A client's sign-in limit is counted once across the two instances. Apps here are test apps
 * whose start the test holds and releases, so nothing depends on timing.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from '../../src/server.js';
import { createLogger } from '../../src/core/logger.js';
import type { AirwavesApp } from '../../src/apps/app.js';
import { TEST_API_KEY, TEST_JWT_SECRET, adminFetch } from '../helpers/server.js';

/** An app whose registration waits until the test calls `release` (or `fail`). */
function heldApp(name: string) {
  let release!: () => void;
  let fail!: (err: Error) => void;
  const gate = new Promise<void>((ok, ko) => {
    release = ok;
    fail = ko;
  });
  // The app's register() observes the gate whenever the server gets to it; a failure told before
  // then is not an unhandled rejection.
  gate.catch(() => undefined);
  let registered = false;
  const app: AirwavesApp = {
    name,
    title: `Held ${name}`,
    description: 'a test app that starts when told',
    async register(ctx) {
      await gate;
      ctx.http.get(`/hello`, { config: { auth: 'public' } }, async () => ({ hello: name }));
      registered = true;
    },
  };
  return { app, release: () => release(), fail: (err: Error) => fail(err), registered: () => registered };
}

async function start(apps: AirwavesApp[], loginRatePerMinute?: number) {
  const server = await createServer({
    env: {},
    apps,
    serveWhileStarting: true,
    logger: createLogger('silent'),
    config: { port: 0, host: '127.0.0.1', apiKey: TEST_API_KEY, jwtSecret: TEST_JWT_SECRET, demo: true, ...(loginRatePerMinute ? { loginRatePerMinute } : {}) },
  });
  await server.listen();
  return server;
}

describe('serving while the apps start', () => {
  it('answers readiness, health and pages at once, an app route 503 app_starting until the app is in, then the route itself', async () => {
    const held = heldApp('slowpoke');
    const server = await start([held.app]);
    try {
      assert.equal(held.registered(), false, 'the app is still held when listen() returns');
      assert.equal((await fetch(`${server.url}/healthz`)).status, 200);

      const ready = await fetch(`${server.url}/readyz`);
      assert.equal(ready.status, 200, 'the hub serves: ready');
      assert.deepEqual(await ready.json(), { status: 'ready', engine: 'memory', starting: ['slowpoke'] });
      const all = await fetch(`${server.url}/readyz?apps=all`);
      assert.equal(all.status, 503, 'not every app serves yet');
      assert.deepEqual((await all.json()).starting, ['slowpoke']);

      const route = await fetch(`${server.url}/api/v1/slowpoke/hello`);
      assert.equal(route.status, 503);
      assert.equal(route.headers.get('retry-after'), '1');
      const body = (await route.json()) as { error: { code: string; message: string } };
      assert.equal(body.error.code, 'app_starting');
      assert.match(body.error.message, /^slowpoke is starting/);

      const page = await fetch(`${server.url}/docs`, { headers: { accept: 'text/html' } });
      assert.equal(page.status, 503, 'a page of the full server (the API docs list the apps) is not there yet');
      assert.match(await page.text(), /Starting…[\s\S]*http-equiv="refresh"|http-equiv="refresh"[\s\S]*Starting…/);
      assert.equal((await fetch(`${server.url}/`)).status, 200, 'the landing page answers while starting');
      assert.equal((await fetch(`${server.url}/signin`, { headers: { accept: 'text/html' } })).status, 200, 'sign-in works while starting');
      const published = await adminFetch(`${server.url}/api/v1/publish`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ channel: 'chat:lobby', data: { text: 'early' } }) });
      assert.equal(published.status, 200, `the hub's own API serves while the apps start: ${await published.clone().text()}`);
      assert.equal((await fetch(`${server.url}/api/v1/publish`, { method: 'POST' })).status, 401, 'and it still checks who calls');

      held.release();
      await server.appsStarted;
      assert.equal(held.registered(), true);
      assert.deepEqual(await (await fetch(`${server.url}/api/v1/slowpoke/hello`)).json(), { hello: 'slowpoke' });
      const allNow = await fetch(`${server.url}/readyz?apps=all`);
      assert.equal(allNow.status, 200);
      assert.deepEqual(await allNow.json(), { status: 'ready', engine: 'memory' });
    } finally {
      held.release();
      await server.close();
    }
  });

  it("a client's sign-in limit holds across the handover: both instances count it together", async () => {
    const held = heldApp('gatekeeper');
    const server = await start([held.app], 3);
    const guess = async () => (await fetch(`${server.url}/api/v1/auth/token`, { method: 'POST', headers: { authorization: 'Bearer wrong-key' } })).status;
    try {
      assert.deepEqual([await guess(), await guess()], [401, 401], 'two wrong guesses while the apps start');
      held.release();
      await server.appsStarted;
      assert.equal((await fetch(`${server.url}/api/v1/gatekeeper/hello`)).status, 200, 'the full instance answers now');
      assert.deepEqual([await guess(), await guess()], [401, 429], 'the third guess is the last of 3 a minute, the fourth is refused');
    } finally {
      held.release();
      await server.close();
    }
  });

  it('a stop while an app starts waits for it, then closes (the port and the process are released)', async () => {
    const held = heldApp('late');
    const server = await start([held.app]);
    const url = server.url;
    let closed = false;
    const closing = server.close().then(() => (closed = true));
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(closed, false, 'close waits for the app still starting');
    held.release();
    await closing;
    await assert.rejects(fetch(`${url}/healthz`), 'nothing listens any more');
  });

  it('an app that fails to start rejects appsStarted with its error (the CLI exits on it)', async () => {
    const held = heldApp('broken');
    const server = await start([held.app]);
    held.fail(new Error('the broken app cannot open its store'));
    await assert.rejects(server.appsStarted, /cannot open its store/);
    const route = await fetch(`${server.url}/api/v1/broken/hello`);
    assert.equal(route.status, 503, 'its routes never pretend to be served');
    await server.close().catch(() => undefined);
  });
});
