/**
 * The closed-by-default proof: every route of a server hosting every app declares an access
 * rule, and every mutating route refuses an anonymous request (401) and a wrong-role token (403)
 * whatever body it sends, before the body is validated.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, TEST_API_KEY, TEST_JWT_SECRET } from '../helpers/server.js';
import { createSupportApp } from '../../src/apps/support/index.js';
import { apps } from '../../src/apps/index.js';
import { mintToken } from '../../src/auth/tokens.js';

type Server = Awaited<ReturnType<typeof startServer>>;
const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Mutating routes open to anyone, each with the reason. */
const OPEN_BY_DESIGN: Record<string, string> = {
  'POST /api/v1/auth/token': 'the admin key exchange (key checked in the handler, rate-limited)',
  'POST /api/v1/auth/demo-login': 'demo mode only',
  'POST /api/v1/support/demo-login': 'demo mode only',
  // nginx-rtmp on the same host calls these without headers; from elsewhere they need
  // ?secret=<admin key>, checked onRequest (the live app's callbackGuard). This test runs on loopback.
  'POST /api/v1/streams/nginx/on_publish': 'loopback nginx callback',
  'POST /api/v1/streams/nginx/on_publish_done': 'loopback nginx callback',
  'POST /api/v1/streams/nginx/on_play': 'loopback nginx callback',
};

describe('route rules (every app)', () => {
  let server: Server;
  before(async () => {
    // Every app the server hosts: a new app's routes are covered the day it is added.
    server = await startServer({ databaseUrl: 'pglite://memory', radioEnabled: false }, { apps });
  });
  after(() => server.close());

  test('every route in the route table declares an access rule', () => {
    const routes = server.http.authRoutes;
    assert.ok(routes.length > 40, `the route table was walked (${routes.length} routes)`);
    const missing = routes.filter((r) => r.rule === undefined).map((r) => `${r.method} ${r.url}`);
    assert.deepEqual(missing, [], 'routes without a rule');
  });

  test('every mutating route refuses an anonymous request with 401 whatever its body', async () => {
    const mutating = server.http.authRoutes.filter((r) => MUTATING.has(r.method) && !(`${r.method} ${r.url}` in OPEN_BY_DESIGN));
    assert.ok(mutating.length >= 20, `mutating routes found: ${mutating.length}`);
    const answers: string[] = [];
    for (const r of mutating) {
      const url = server.url + r.url.replace(/:[A-Za-z]+/g, '00000000-0000-4000-8000-000000000000');
      for (const body of ['{"garbage":', '{"status":"approved","ids":[]}']) {
        const res = await fetch(url, { method: r.method, headers: { 'content-type': 'application/json' }, body });
        if (res.status !== 401) answers.push(`${r.method} ${r.url} → ${res.status} ${await res.text()}`);
        else await res.body?.cancel();
      }
    }
    assert.deepEqual(answers, [], 'mutating routes that did not answer 401');
  });

  test('a token with the wrong role gets 403 on role routes, before validation', async () => {
    const listener = await mintToken({ sub: 'someone', roles: ['listener'] }, TEST_JWT_SECRET, 60);
    const customer = await mintToken({ sub: 'cust-carla', roles: ['customer'] }, TEST_JWT_SECRET, 60);
    const roleRoutes = server.http.authRoutes.filter((r) => MUTATING.has(r.method) && typeof r.rule === 'object');
    const answers: string[] = [];
    for (const r of roleRoutes) {
      const rule = r.rule as { roles: readonly string[] };
      const token = rule.roles.includes('listener') ? customer : listener;
      const url = server.url + r.url.replace(/:[A-Za-z]+/g, '00000000-0000-4000-8000-000000000000');
      const res = await fetch(url, { method: r.method, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: '{"garbage":' });
      if (res.status !== 403) answers.push(`${r.method} ${r.url} → ${res.status}`);
      else await res.body?.cancel();
    }
    assert.ok(roleRoutes.length >= 18, `role routes: ${roleRoutes.length}`);
    assert.deepEqual(answers, []);
    // A customer on an agent-only route is refused before its body is read.
    const res = await fetch(`${server.url}/api/v1/support/tickets/abc/status`, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${customer}` }, body: 'not json' });
    assert.equal(res.status, 403);
    assert.match(((await res.json()) as { error: { message: string } }).error.message, /needs role agent/);
  });

  test('every route opened to anyone is known: a new public mutating route fails here until reviewed', () => {
    const table = new Set(server.http.authRoutes.map((r) => `${r.method} ${r.url}`));
    const stale = Object.keys(OPEN_BY_DESIGN).filter((k) => !k.includes('demo-login') && !table.has(k));
    assert.deepEqual(stale, [], 'OPEN_BY_DESIGN names routes that no longer exist');
    const publicMutating = server.http.authRoutes.filter((r) => MUTATING.has(r.method) && r.rule === 'public').map((r) => `${r.method} ${r.url}`);
    assert.deepEqual(publicMutating.filter((k) => !(k in OPEN_BY_DESIGN)), [], 'public mutating routes without a reason');
  });

  test('role routes that read refuse an anonymous caller (401) and a wrong role (403) too', async () => {
    const listener = await mintToken({ sub: 'someone', roles: ['listener'] }, TEST_JWT_SECRET, 60);
    const customer = await mintToken({ sub: 'cust-carla', roles: ['customer'] }, TEST_JWT_SECRET, 60);
    const reads = server.http.authRoutes.filter((r) => r.method === 'GET' && (typeof r.rule === 'object' || r.rule === 'apiKey'));
    assert.ok(reads.length >= 15, `guarded reads: ${reads.length}`);
    const answers: string[] = [];
    const anyRole: string[] = [];
    for (const r of reads) {
      const url = server.url + r.url.replace(/:[A-Za-z]+/g, '00000000-0000-4000-8000-000000000000');
      const anonymous = await fetch(url);
      if (anonymous.status !== 401) answers.push(`anonymous GET ${r.url} → ${anonymous.status}`);
      await anonymous.body?.cancel();
      const roles: readonly string[] = typeof r.rule === 'object' ? r.rule.roles : [];
      const token = !roles.includes('listener') ? listener : !roles.includes('customer') ? customer : null;
      if (token === null) {
        anyRole.push(r.url);
        continue;
      }
      const wrong = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
      if (wrong.status !== (r.rule === 'apiKey' ? 401 : 403)) answers.push(`wrong role GET ${r.url} → ${wrong.status}`);
      await wrong.body?.cancel();
    }
    assert.deepEqual(answers, []);
    assert.deepEqual(anyRole, ['/api/v1/auth/me'], 'only "who am I" takes every role');
  });

  test('the nginx-rtmp callbacks trust loopback only when no proxy forwarded the request', async () => {
    const url = `${server.url}/api/v1/streams/nginx/on_publish_done`;
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const body = 'app=live&name=00000000-0000-4000-8000-000000000000';
    assert.equal((await fetch(url, { method: 'POST', headers: form, body })).status, 200, 'nginx-rtmp beside the app');
    for (const header of ['x-forwarded-for', 'forwarded', 'x-real-ip']) {
      const res = await fetch(url, { method: 'POST', headers: { ...form, [header]: header === 'forwarded' ? 'for=203.0.113.9' : '203.0.113.9' }, body });
      assert.equal(res.status, 403, `forwarded by a proxy (${header})`);
      assert.match(((await res.json()) as { error: { message: string } }).error.message, /secret/);
    }
    const withSecret = await fetch(`${url}?secret=${TEST_API_KEY}`, { method: 'POST', headers: { ...form, 'x-forwarded-for': '203.0.113.9' }, body });
    assert.equal(withSecret.status, 200, 'with the secret, from anywhere');
  });

  test('every mutating route in /openapi.json is in the route table with a rule', async () => {
    const spec = (await (await fetch(`${server.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const table = new Set(server.http.authRoutes.filter((r) => r.rule !== undefined).map((r) => `${r.method} ${r.url}`));
    const documented = Object.entries(spec.paths).flatMap(([path, ops]) => Object.keys(ops).filter((m) => MUTATING.has(m.toUpperCase())).map((m) => `${m.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`));
    assert.ok(documented.length >= 20);
    assert.deepEqual(documented.filter((d) => !table.has(d)), []);
  });

  test('studio reads need a curator: anonymous 401, a viewer 403, a curator 200', async () => {
    const url = `${server.url}/api/v1/studio/conversations?limit=1`;
    assert.equal((await fetch(url)).status, 401);
    const viewer = await mintToken({ sub: 'v', roles: ['viewer'] }, TEST_JWT_SECRET, 60);
    assert.equal((await fetch(url, { headers: { authorization: `Bearer ${viewer}` } })).status, 403);
    const curator = await mintToken({ sub: 'c', roles: ['curator'] }, TEST_JWT_SECRET, 60);
    assert.equal((await fetch(url, { headers: { authorization: `Bearer ${curator}` } })).status, 200);
    const forged = await mintToken({ sub: 'c', roles: ['curator'] }, 'some-other-secret-0123456789abcdef-xyz', 60);
    assert.equal((await fetch(url, { headers: { authorization: `Bearer ${forged}` } })).status, 401);
  });

  test('web pages carry the security headers', async () => {
    const res = await fetch(`${server.url}/`);
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.doesNotMatch(await res.text(), /<script>/, 'no inline script on the landing page');
  });
});

describe('closed by default', () => {
  test('a route that declares no rule is refused at runtime, before validation, whatever the method', async () => {
    const { createServer } = await import('../../src/server.js');
    const { createLogger } = await import('../../src/core/logger.js');
    const server = await createServer({ env: {}, apps: [], logger: createLogger('silent'), config: { port: 0, host: '127.0.0.1', apiKey: TEST_API_KEY, jwtSecret: TEST_JWT_SECRET } });
    try {
      let reached = 0;
      const body = { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] } as const;
      server.http.get('/test/forgotten', async () => ++reached);
      server.http.post('/test/forgotten', { schema: { body } }, async () => ++reached);
      const admin = await mintToken({ sub: 'root', roles: ['admin'] }, TEST_JWT_SECRET, 60);
      for (const headers of [{}, { authorization: `Bearer ${admin}` }, { authorization: `Bearer ${TEST_API_KEY}` }]) {
        const get = await server.http.inject({ method: 'GET', url: '/test/forgotten', headers });
        const post = await server.http.inject({ method: 'POST', url: '/test/forgotten', headers: { ...headers, 'content-type': 'application/json' }, payload: '{"garbage":' });
        for (const res of [get, post]) {
          assert.equal(res.statusCode, 403, res.body);
          assert.match(res.json<{ error: { message: string } }>().error.message, /declares no access rule/);
        }
      }
      assert.equal(reached, 0, 'no handler ran');
      assert.ok(server.http.authRoutes.some((r) => r.url === '/test/forgotten' && r.rule === undefined), 'and the route table shows it without a rule');
    } finally {
      await server.close();
    }
  });
});

describe('demo mode', () => {
  test('without AIRWAVES_DEMO there is no demo login at all', async () => {
    const server = await startServer({ databaseUrl: 'pglite://memory', demo: false }, { apps: [createSupportApp()] });
    try {
      for (const path of ['/api/v1/support/demo-login', '/api/v1/auth/demo-login']) {
        const res = await fetch(server.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"userId":"agent-ana","role":"curator"}' });
        assert.equal(res.status, 404, path);
      }
      assert.ok(!server.http.authRoutes.some((r) => r.url.endsWith('demo-login')));
    } finally {
      await server.close();
    }
  });

  test('demo logins are rate-limited per IP', async () => {
    const server = await startServer({ demo: true, loginRatePerMinute: 3 });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await fetch(`${server.url}/api/v1/auth/demo-login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"role":"curator"}' })).status);
      assert.deepEqual(statuses, [200, 200, 200, 429]);
      const wrongKey = await fetch(`${server.url}/api/v1/auth/token`, { method: 'POST', headers: { authorization: 'Bearer nope' } });
      assert.equal(wrongKey.status, 401, 'the key exchange has its own budget');
    } finally {
      await server.close();
    }
  });

  test('demo mode binds to loopback unless the host is set', async () => {
    const { createServer } = await import('../../src/server.js');
    const { createLogger } = await import('../../src/core/logger.js');
    const base = { port: 0, apiKey: 'k'.repeat(40), jwtSecret: 's'.repeat(40) };
    const demo = await createServer({ env: {}, apps: [], logger: createLogger('silent'), config: { ...base, demo: true } });
    const plain = await createServer({ env: {}, apps: [], logger: createLogger('silent'), config: { ...base, demo: false } });
    const explicit = await createServer({ env: { AIRWAVES_HOST: '0.0.0.0' }, apps: [], logger: createLogger('silent'), config: { ...base, demo: true } });
    try {
      assert.equal(demo.config.host, '127.0.0.1');
      assert.equal(plain.config.host, '0.0.0.0');
      assert.equal(explicit.config.host, '0.0.0.0');
    } finally {
      await Promise.all([demo.close(), plain.close(), explicit.close()]);
    }
  });
});
