/**
 * Serving while the apps start (what `airwaves serve` does): the port opens as soon as the hub
 * runs; /healthz, /readyz, the landing page, the UIs and the API docs answer at once; the apps
 * start together and each one's routes serve as soon as it is in, while those of the others
 * answer 503 `app_starting` (with Retry-After); `/readyz?apps=all` waits for all of them. An
 * app's hub namespaces are reserved from the start: an early subscriber hears `app_starting`.
 * A client's sign-in limit is counted once across a handover. Apps here are test apps whose start
 * the test holds and releases, so nothing depends on timing.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AirwavesServer } from '../../src/server.js';
import { createLogger } from '../../src/core/logger.js';
import type { AirwavesApp } from '../../src/apps/app.js';
import { RawClient, TEST_API_KEY, TEST_JWT_SECRET, adminFetch, until } from '../helpers/server.js';

/**
 * An app whose registration waits until the test calls `release` (or `fail`); once released it
 * registers GET /hello and the namespaces it was told to (`declared` is what its manifest says).
 */
function heldApp(name: string, options: { declared?: string[]; registers?: string[] } = {}) {
  let release!: () => void;
  let fail!: (err: Error) => void;
  const gate = new Promise<void>((ok, ko) => {
    release = ok;
    fail = ko;
  });
  // The app's register() observes the gate whenever the server gets to it; a failure told before
  // then is not an unhandled rejection.
  gate.catch(() => undefined);
  let entered!: () => void;
  const started = new Promise<void>((resolve) => (entered = resolve));
  let registered = false;
  const app: AirwavesApp = {
    name,
    title: `Held ${name}`,
    description: 'a test app that starts when told',
    namespaces: options.declared ?? [],
    async register(ctx) {
      entered();
      await gate;
      for (const ns of options.registers ?? options.declared ?? []) ctx.hub.registerNamespace({ name: ns, subscribe: 'anonymous', publish: 'server' });
      ctx.http.get(`/hello`, { config: { auth: 'public' }, schema: { summary: `hello from ${name}` } }, async () => ({ hello: name }));
      registered = true;
    },
  };
  return { app, release: () => release(), fail: (err: Error) => fail(err), registered: () => registered, started };
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

async function errorCode(response: Response): Promise<string> {
  return ((await response.json()) as { error: { code: string } }).error.code;
}

describe('serving while the apps start', () => {
  it('answers readiness, health, pages and the hub API at once, an app route 503 app_starting until the app is in, then the route itself', async () => {
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
      const page = await fetch(`${server.url}/api/v1/slowpoke/hello`, { headers: { accept: 'text/html' } });
      assert.equal(page.status, 503);
      assert.match(await page.text(), /Starting…[\s\S]*http-equiv="refresh"|http-equiv="refresh"[\s\S]*Starting…/);

      const unknown = await fetch(`${server.url}/api/v1/nosuchapp/x`);
      assert.equal(unknown.status, 404, 'a path no app owns is not found, starting or not');
      assert.equal(await errorCode(unknown), 'not_found');
      assert.equal((await fetch(`${server.url}/docs`, { headers: { accept: 'text/html' } })).status, 200, 'the API docs answer while starting');
      assert.equal((await fetch(`${server.url}/`)).status, 200, 'the landing page answers while starting');
      assert.match(await (await fetch(`${server.url}/`)).text(), /Held slowpoke/, 'and names the app by its manifest');
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

  it('starts the apps together and hands each one over as soon as it is in; the others keep answering app_starting', async () => {
    const first = heldApp('first');
    const second = heldApp('second');
    const server = await start([first.app, second.app]);
    try {
      await Promise.all([first.started, second.started]); // both registrations run before either is released
      const docs = async () => Object.keys(((await (await fetch(`${server.url}/openapi.json`)).json()) as { paths: Record<string, unknown> }).paths);
      assert.ok(!(await docs()).some((p) => p.startsWith('/api/v1/first')), 'the API docs list no route of an app still starting');

      second.release(); // the second finishes first: it does not wait for the first
      await until('the second app to serve', async () => (await fetch(`${server.url}/api/v1/second/hello`)).status === 200, 60_000, 20);
      assert.deepEqual(await (await fetch(`${server.url}/api/v1/second/hello`)).json(), { hello: 'second' });
      const firstRoute = await fetch(`${server.url}/api/v1/first/hello`);
      assert.equal(firstRoute.status, 503, 'the first is still starting');
      assert.equal(await errorCode(firstRoute), 'app_starting');
      const ready = await fetch(`${server.url}/readyz?apps=all`);
      assert.equal(ready.status, 503);
      assert.deepEqual((await ready.json()).starting, ['first']);
      assert.ok((await docs()).includes('/api/v1/second/hello'), 'the API docs list the routes of an app as soon as it serves');
      const unknown = await fetch(`${server.url}/api/v1/second/nothing-here`);
      assert.equal(unknown.status, 404, "an app that serves answers its own not-found");

      first.release();
      await server.appsStarted;
      assert.deepEqual(await (await fetch(`${server.url}/api/v1/first/hello`)).json(), { hello: 'first' });
      assert.equal((await fetch(`${server.url}/readyz?apps=all`)).status, 200);
      assert.ok((await docs()).includes('/api/v1/first/hello'));
    } finally {
      first.release();
      second.release();
      await server.close();
    }
  });

  it("reserves a starting app's hub namespaces: subscribing or publishing there answers app_starting (retry), not unknown_namespace, until the app registers them", async () => {
    const held = heldApp('desk', { declared: ['desk', 'desk-typing'] });
    const server = await start([held.app]);
    const client = await RawClient.open(`${server.url.replace('http', 'ws')}/ws`);
    try {
      const early = await client.request('subscribe', { channel: 'desk:room-1' });
      assert.equal(early.ok, false);
      const error = early.error as { code: string; message: string };
      assert.equal(error.code, 'app_starting', JSON.stringify(early));
      assert.match(error.message, /desk is starting: namespace "desk"/);
      const unknown = await client.request('subscribe', { channel: 'nowhere:room-1' });
      assert.equal((unknown.error as { code: string }).code, 'unknown_namespace', 'a namespace nobody declared is still unknown');
      const published = await adminFetch(`${server.url}/api/v1/publish`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ channel: 'desk-typing:room-1', data: {} }) });
      assert.equal(published.status, 503, 'publishing over HTTP gets the same answer');
      assert.equal(await errorCode(published), 'app_starting');

      held.release();
      await server.appsStarted;
      const later = await client.request('subscribe', { channel: 'desk:room-1' });
      assert.equal(later.ok, true, `the same subscribe succeeds once the app is in: ${JSON.stringify(later)}`);
    } finally {
      client.close();
      held.release();
      await server.close();
    }
  });

  it('an app that does not register a namespace its manifest declares fails its start, naming it', async () => {
    const held = heldApp('liar', { declared: ['liar', 'liar-extra'], registers: ['liar'] });
    const server = await start([held.app]);
    held.release();
    await assert.rejects(server.appsStarted, /liar declared hub namespaces it did not register: liar-extra/);
    assert.equal((await fetch(`${server.url}/api/v1/liar/hello`)).status, 503, 'its routes never serve');
    await server.close().catch(() => undefined);
  });

  it("a client's sign-in limit holds across an app's handover: it is counted once, before and after", async () => {
    const held = heldApp('gatekeeper');
    const server = await start([held.app], 3);
    const guess = async () => (await fetch(`${server.url}/api/v1/auth/token`, { method: 'POST', headers: { authorization: 'Bearer wrong-key' } })).status;
    try {
      assert.deepEqual([await guess(), await guess()], [401, 401], 'two wrong guesses while the app starts');
      held.release();
      await server.appsStarted;
      assert.equal((await fetch(`${server.url}/api/v1/gatekeeper/hello`)).status, 200, 'the app serves now');
      assert.deepEqual([await guess(), await guess()], [401, 429], 'the third guess is the last of 3 a minute, the fourth is refused');
    } finally {
      held.release();
      await server.close();
    }
  });

  it('a stop while an app starts waits for it, then closes (the port and the process are released)', async () => {
    const held = heldApp('late');
    const server: AirwavesServer = await start([held.app]);
    const url = server.url;
    let closed = false;
    await held.started;
    const closing = server.close().then(() => (closed = true));
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(closed, false, 'close waits for the app still starting');
    held.release();
    await closing;
    await assert.rejects(fetch(`${url}/healthz`), 'nothing listens any more');
  });

  it('an app that fails to start rejects appsStarted with its error (the CLI exits on it)', async () => {
    const held = heldApp('broken');
    const fine = heldApp('fine');
    const server = await start([held.app, fine.app]);
    held.fail(new Error('the broken app cannot open its store'));
    fine.release();
    await assert.rejects(server.appsStarted, /cannot open its store/);
    const route = await fetch(`${server.url}/api/v1/broken/hello`);
    assert.equal(route.status, 503, 'its routes never pretend to be served');
    await server.close().catch(() => undefined);
  });
});
