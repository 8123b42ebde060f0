/**
 * @module test/http/web-files
 * The UIs' files and the API docs' UI are served by a file server built on the first request that
 * needs it (http/web-files): a started server has not loaded @fastify/static or
 * @fastify/swagger-ui; /docs, /docs/json and /docs/yaml then answer with the server's OpenAPI
 * document; files answer with the core's security headers; a path that names no file gets the
 * core instance's own not-found answer (so an app still starting still answers 503); nothing
 * outside the root is reachable.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createHttpInstance } from '../../src/http/instance.js';
import { fileUnder, registerWebFiles } from '../../src/http/web-files.js';
import { createLogger } from '../../src/core/logger.js';
import { startServer, TEST_API_KEY, TEST_JWT_SECRET } from '../helpers/server.js';

/** Whether a package's main file is in the CommonJS cache of this process. */
const loaded = (pkg: string) => Object.keys(createRequire(import.meta.url).cache).some((f) => f.includes(`/node_modules/${pkg}/index.js`));

describe('the API docs, loaded on first use', () => {
  it('a started server has loaded neither the docs UI nor static file serving; /docs then serves the server’s document', async () => {
    const server = await startServer();
    try {
      assert.equal((await fetch(`${server.url}/readyz`)).status, 200);
      assert.equal(loaded('@fastify/swagger-ui'), false, 'the docs UI is not loaded by a start');
      assert.equal(loaded('@fastify/static'), false, 'static file serving is not loaded by a start');
      assert.equal(loaded('yaml'), false, 'yaml (the docs UI’s) is not loaded by a start');
      // Two first requests at once: one file server serves both.
      const [page, slash] = await Promise.all([fetch(`${server.url}/docs`), fetch(`${server.url}/docs/`)]);
      for (const res of [page, slash]) {
        assert.equal(res.status, 200);
        assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
        assert.match(await res.text(), /swagger-ui/i);
        assert.equal(res.headers.get('x-content-type-options'), 'nosniff', 'the core’s security headers are on a file server answer');
      }
      assert.equal(loaded('@fastify/swagger-ui'), true, 'loaded once asked for');
      const json = (await (await fetch(`${server.url}/docs/json`)).json()) as { paths: Record<string, unknown> };
      assert.ok('/api/v1/publish' in json.paths, 'the docs show the core’s routes');
      assert.deepEqual(Object.keys(json.paths).filter((p) => p.startsWith('/internal/')), [], 'not the node-to-node routes');
      const yaml = await fetch(`${server.url}/docs/yaml`);
      assert.equal(yaml.status, 200);
      assert.match(await yaml.text(), /^openapi: 3\.0\.3$/m);
      const missing = await fetch(`${server.url}/docs/no-such-thing`);
      assert.equal(missing.status, 404);
      assert.deepEqual(await missing.json(), { error: { code: 'not_found', message: 'no route GET /docs/no-such-thing' } });
    } finally {
      await server.close();
    }
  });
});

describe('the UIs’ files', () => {
  let root: string;
  let http: FastifyInstance;
  let base: string;
  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'airwaves-web-files-'));
    mkdirSync(join(root, 'radio'));
    mkdirSync(join(root, 'assets'));
    writeFileSync(join(root, 'radio', 'index.html'), '<!doctype html><title>radio</title>');
    writeFileSync(join(root, 'assets', 'app-1234.js'), 'console.log(1)');
    writeFileSync(join(root, '..', `outside-${root.split('-').pop()}.txt`), 'secret');
    http = await createHttpInstance({ logger: createLogger('silent'), logLevel: 'silent', jwtSecret: TEST_JWT_SECRET, apiKey: TEST_API_KEY, notFound: false });
    // The core's own not-found answer, told apart from the file server's.
    http.setNotFoundHandler(async (request, reply) => reply.status(503).send({ error: { code: 'app_starting', message: `core: ${request.url}` } }));
    registerWebFiles(http, { root, openApi: () => http.swagger() });
    base = await http.listen({ port: 0, host: '127.0.0.1' });
  });
  after(async () => {
    await http.close();
    rmSync(join(root, '..', `outside-${root.split('-').pop()}.txt`), { force: true });
    rmSync(root, { recursive: true, force: true });
  });

  it('serves a UI’s page and its hashed files, public, with the security headers', async () => {
    const page = await fetch(`${base}/radio/`);
    assert.equal(page.status, 200);
    assert.equal(await page.text(), '<!doctype html><title>radio</title>');
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    const asset = await fetch(`${base}/assets/app-1234.js`);
    assert.equal(asset.status, 200);
    assert.equal(asset.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    const head = await fetch(`${base}/assets/app-1234.js`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    const folder = await fetch(`${base}/radio`, { redirect: 'manual' });
    assert.equal(folder.status, 301);
    assert.equal(folder.headers.get('location'), '/radio/');
  });

  it('a path naming no file gets the core’s not-found answer, not the file server’s', async () => {
    for (const path of ['/api/v1/radio/stations', '/nothing.js', '/radio/nothing.html']) {
      const res = await fetch(base + path);
      assert.equal(res.status, 503, path);
      assert.deepEqual(await res.json(), { error: { code: 'app_starting', message: `core: ${path}` } });
    }
    // A folder with no page: the file server's own answer, the same 404 the core gives outside the apps.
    const folder = await fetch(`${base}/assets/`);
    assert.equal(folder.status, 404);
    assert.deepEqual(await folder.json(), { error: { code: 'not_found', message: 'no route GET /assets/' } });
  });

  it('nothing outside the root is reachable', async () => {
    const name = `outside-${root.split('-').pop()}.txt`;
    for (const path of [`/..%2F${name}`, `/%2e%2e/${name}`, `/radio/..%2F..%2F${name}`]) {
      const res = await fetch(base + path);
      assert.notEqual(res.status, 200, path);
      assert.doesNotMatch(await res.text(), /secret/, path);
    }
    assert.equal(await fileUnder(root, `/../${name}`), undefined);
    assert.equal(await fileUnder(root, '/%E0%A4%A'), undefined, 'a malformed escape names no file');
    assert.equal(await fileUnder(root, '/radio%00/index.html'), undefined, 'a NUL names no file');
    assert.equal(await fileUnder(root, '/radio/index.html?x=1'), join(root, 'radio', 'index.html'));
  });
});
