/**
 * Route schemas are compiled on a route's first request, not at start (http/lazy-schema-compilers):
 * a started server has not loaded Ajv or fast-json-stringify, and once called it validates and
 * serialises exactly as before. A headers schema naming a header in capitals is refused when the
 * route is declared (Fastify's lowercasing applies only to its built-in compiler). The probes
 * (/healthz, /readyz) answer, and refuse a bad query, without loading either. Once the server has
 * started, a background pass compiles every route's schemas (SchemaWarmup), so a route's first
 * request does not wait for Ajv.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from '../../src/server.js';
import { createHttpInstance, schemaWarmupOf } from '../../src/http/instance.js';
import { createLogger } from '../../src/core/logger.js';
import { TEST_API_KEY, TEST_JWT_SECRET } from '../helpers/server.js';

/** Whether a module file is in the CommonJS cache (Fastify itself always loads fast-json-stringify's small runtime, not its compiler). */
const loaded = (file: string) => Object.keys(createRequire(import.meta.url).cache).some((f) => f.includes(`/node_modules/${file}`));
const AJV = 'ajv/dist/ajv.js';
const FJS = 'fast-json-stringify/index.js';

describe('schemas compiled on first use', () => {
  it('a started server has loaded neither compiler; a request then validates (400 naming the field) and serialises by its schema', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'airwaves-lazy-'));
    // No background pass here: this test is of compiling on first use.
    const server = await createServer({ env: { AIRWAVES_APPS: '' }, logger: createLogger('silent'), config: { port: 0, host: '127.0.0.1', apiKey: TEST_API_KEY, jwtSecret: TEST_JWT_SECRET, dataDir }, schemaWarmupDelayMs: null });
    try {
      await server.listen();
      assert.equal(loaded(AJV), false, 'Ajv is not loaded by a start');
      assert.equal(loaded(FJS), false, 'fast-json-stringify is not loaded by a start');
      // The probes answer, and refuse a bad query, without either compiler (a starting node's first requests).
      const ready = await fetch(`${server.url}/readyz`);
      assert.equal(ready.status, 200);
      assert.match(ready.headers.get('content-type') ?? '', /^application\/json/);
      assert.deepEqual(await ready.json(), { status: 'ready', engine: 'memory' });
      assert.equal((await fetch(`${server.url}/readyz?apps=all`)).status, 200);
      const health = await fetch(`${server.url}/healthz`);
      assert.deepEqual([health.status, await health.json()], [200, { status: 'ok' }]);
      for (const [query, field] of [['apps=some', /apps/], ['apps=all&x=1', /additional properties \(x\)/]] as const) {
        const refused = await fetch(`${server.url}/readyz?${query}`);
        assert.equal(refused.status, 400, query);
        const err = ((await refused.json()) as { error: { code: string; message: string } }).error;
        assert.equal(err.code, 'bad_request', query);
        assert.match(err.message, field, query);
      }
      assert.equal(loaded(AJV) || loaded(FJS), false, 'the probes loaded neither compiler');

      const auth = { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' };
      const bad = await fetch(`${server.url}/api/v1/publish`, { method: 'POST', headers: auth, body: JSON.stringify({ data: { n: 1 } }) });
      assert.equal(bad.status, 400);
      const error = ((await bad.json()) as { error: { code: string; message: string } }).error;
      assert.equal(error.code, 'bad_request');
      assert.match(error.message, /channel/, 'the message names the missing field');

      // The same route twice: the second uses the compiled validator (and answers the same).
      const again = await fetch(`${server.url}/api/v1/publish`, { method: 'POST', headers: auth, body: JSON.stringify({ channel: 'no namespace' }) });
      assert.equal(again.status, 400);

      const me = await fetch(`${server.url}/api/v1/auth/me`, { headers: auth });
      assert.equal(me.status, 200);
      assert.deepEqual(await me.json(), { user: 'admin', roles: ['admin'] });
      assert.equal(loaded(AJV) && loaded(FJS), true, 'requests loaded them');
    } finally {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('a response is serialised by its schema: what it does not declare is left out', async () => {
    const http = await createHttpInstance({ logger: createLogger('silent'), logLevel: 'silent', jwtSecret: TEST_JWT_SECRET, apiKey: TEST_API_KEY });
    http.get('/x', { config: { auth: 'public' }, schema: { response: { 200: { type: 'object', properties: { shown: { type: 'integer' } } } } } }, async () => ({ shown: 1, secret: 'never sent' }));
    try {
      const res = await http.inject({ method: 'GET', url: '/x' });
      assert.equal(res.statusCode, 200);
      assert.deepEqual(res.json(), { shown: 1 });
    } finally {
      await http.close();
    }
  });

  it('a headers schema that names a header in capitals is refused when the route is declared', async () => {
    const http = await createHttpInstance({ logger: createLogger('silent'), logLevel: 'silent', jwtSecret: TEST_JWT_SECRET, apiKey: TEST_API_KEY });
    http.get('/x', { config: { auth: 'public' }, schema: { headers: { type: 'object', properties: { 'Idempotency-Key': { type: 'string' } } } } }, async () => ({}));
    await assert.rejects(async () => void (await http.ready()), /GET \/x: name headers in lowercase .*Idempotency-Key/);
    await http.close().catch(() => {});
  });
});

describe('schemas compiled in the background once started', () => {
  it('after the start, every route part is compiled with no request, in more than one turn; requests then validate as before', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'airwaves-warm-'));
    const server = await createServer({ env: { AIRWAVES_APPS: '' }, logger: createLogger('silent'), config: { port: 0, host: '127.0.0.1', apiKey: TEST_API_KEY, jwtSecret: TEST_JWT_SECRET, dataDir }, schemaWarmupDelayMs: 50 });
    try {
      await server.listen();
      const warmup = schemaWarmupOf(server.http);
      const before = warmup.pending;
      assert.ok(before > 2, `route parts wait to be compiled (${before})`);
      // One route part per turn: a turn after the pass began, some are still waiting.
      const seen = new Set<number>();
      const deadline = Date.now() + 30_000;
      while (warmup.pending > 0 && Date.now() < deadline) {
        seen.add(warmup.pending);
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      assert.equal(warmup.pending, 0, 'every route part compiled');
      assert.ok(seen.size > 2, `compiled over several turns (pending went through ${[...seen].join(', ')})`);
      const auth = { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' };
      const bad = await fetch(`${server.url}/api/v1/publish`, { method: 'POST', headers: auth, body: JSON.stringify({ data: { n: 1 } }) });
      assert.equal(bad.status, 400);
      assert.match(((await bad.json()) as { error: { message: string } }).error.message, /channel/);
    } finally {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('close stops the pass: nothing is left waiting', async () => {
    const http = await createHttpInstance({ logger: createLogger('silent'), logLevel: 'silent', jwtSecret: TEST_JWT_SECRET, apiKey: TEST_API_KEY });
    http.post('/y', { config: { auth: 'public' }, schema: { body: { type: 'object', required: ['a'], properties: { a: { type: 'integer' } } } } }, async () => ({ ok: true }));
    await http.ready();
    const warmup = schemaWarmupOf(http);
    assert.ok(warmup.pending >= 1);
    warmup.stop();
    assert.equal(warmup.pending, 0);
    await warmup.run(); // a stopped pass compiles nothing and returns
    // The route still compiles on first use.
    const res = await http.inject({ method: 'POST', url: '/y', payload: { a: 'x' } });
    assert.equal(res.statusCode, 400);
    await http.close();
  });
});
