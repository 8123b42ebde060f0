/**
 * @module test/web/browser-pages
 * What a browser meets outside the apps: an HTML 404 with a way back for pages, the JSON error
 * for API clients (by Accept), /favicon.ico, and /docs without the node-to-node routes.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../helpers/server.js';

let server: Awaited<ReturnType<typeof startServer>>;
before(async () => (server = await startServer()));
after(async () => server?.close());

test('a browser asking for a missing page gets an HTML 404 with a link to the landing page', async () => {
  const res = await fetch(`${server.url}/no/such/page?x=1`, { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
  assert.equal(res.status, 404);
  assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
  const html = await res.text();
  assert.match(html, /<a class="aw-home" href="\/">/);
  assert.match(html, /<code>\/no\/such\/page<\/code>/);
  assert.match(html, /<link rel="icon" href="\/favicon.svg">/);
});

test('the path is escaped in the 404 page', async () => {
  const res = await fetch(`${server.url}/%3Cscript%3Ealert(1)%3C%2Fscript%3E`, { headers: { accept: 'text/html' } });
  const html = await res.text();
  assert.ok(!html.includes('<script>alert(1)'), html);
});

test('API clients get the JSON error, whatever the path', async () => {
  for (const accept of ['application/json', '*/*', '']) {
    const res = await fetch(`${server.url}/api/v1/nothing`, { headers: accept ? { accept } : {} });
    assert.equal(res.status, 404);
    assert.deepEqual(await res.json(), { error: { code: 'not_found', message: 'no route GET /api/v1/nothing' } });
  }
  const post = await fetch(`${server.url}/nothing`, { method: 'POST', headers: { accept: 'text/html' } });
  assert.equal(post.status, 404);
  assert.equal(((await post.json()) as { error: { code: string } }).error.code, 'not_found');
});

test('/favicon.ico points at the shared icon', async () => {
  const res = await fetch(`${server.url}/favicon.ico`, { redirect: 'manual' });
  assert.equal(res.status, 301);
  assert.equal(res.headers.get('location'), '/favicon.svg');
});

test('/docs lists the API but not the node-to-node routes under /internal/', async () => {
  const spec = (await (await fetch(`${server.url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
  const paths = Object.keys(spec.paths);
  assert.ok(paths.includes('/api/v1/publish'), paths.join(' '));
  assert.ok(paths.includes('/api/v1/admin/channels'), paths.join(' '));
  assert.deepEqual(paths.filter((p) => p.startsWith('/internal/')), []);
  // Hidden from the docs, not removed: the route still answers (here: without the API key).
  const res = await fetch(`${server.url}/internal/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  assert.notEqual(res.status, 404);
});

test('the channel list needs the API key', async () => {
  const res = await fetch(`${server.url}/api/v1/admin/channels`);
  assert.equal(res.status, 401);
  const ok = await fetch(`${server.url}/api/v1/admin/channels`, { headers: { authorization: `Bearer ${server.config.apiKey}` } });
  assert.equal(ok.status, 200);
  const body = (await ok.json()) as { namespaces: { name: string }[] };
  assert.ok(body.namespaces.some((n) => n.name === 'chat'), 'the example namespace is there by default');
});
