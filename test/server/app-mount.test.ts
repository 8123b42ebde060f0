/**
 * The server mounts each app in its own Fastify scope at /api/v1/<app> (or /api/v1/<apiSegment>):
 * an app registers relative paths, users see them under its prefix, and the app's hooks see only
 * its own requests.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { AirwavesApp } from '../../src/apps/app.js';
import { apiPrefix } from '../../src/apps/app.js';
import { apps } from '../../src/apps/index.js';
import { startServer } from '../helpers/server.js';

/** An app that answers on '' and '/ping' and records every request its own hook sees. */
function probe(name: string, apiSegment?: string): AirwavesApp & { seen: string[] } {
  const seen: string[] = [];
  return {
    name,
    apiSegment,
    title: name,
    description: 'test probe',
    seen,
    async register(ctx) {
      ctx.http.addHook('onRequest', async (req) => void seen.push(req.url));
      ctx.http.get('', { config: { auth: 'public' } }, async () => ({ app: name, at: 'root' }));
      ctx.http.get('/ping', { config: { auth: 'public' } }, async () => ({ app: name, at: 'ping' }));
    },
  };
}

describe('apps mounted at /api/v1/<app>', () => {
  const one = probe('probe');
  const two = probe('probe-two', 'things');
  let server: Awaited<ReturnType<typeof startServer>>;
  before(async () => {
    server = await startServer({}, { apps: [one, two] });
  });
  after(() => server.close());

  it("serves an app's relative paths under its prefix, and nowhere else", async () => {
    assert.deepEqual(await (await fetch(`${server.url}/api/v1/probe/ping`)).json(), { app: 'probe', at: 'ping' });
    assert.deepEqual(await (await fetch(`${server.url}/api/v1/probe`)).json(), { app: 'probe', at: 'root' });
    assert.deepEqual(await (await fetch(`${server.url}/api/v1/things/ping`)).json(), { app: 'probe-two', at: 'ping' });
    for (const path of ['/ping', '/api/v1/probe-two/ping', '/api/v1/ping']) {
      const res = await fetch(`${server.url}${path}`);
      assert.equal(res.status, 404, path);
      await res.body?.cancel();
    }
    const table = server.http.authRoutes.map((r) => `${r.method} ${r.url}`);
    assert.ok(table.includes('GET /api/v1/probe') && !table.includes('GET /api/v1/probe/'), 'the empty path is the prefix itself, once');
  });

  it("an app's hooks see only its own requests", async () => {
    one.seen.length = 0;
    two.seen.length = 0;
    await (await fetch(`${server.url}/api/v1/things/ping`)).body?.cancel();
    await (await fetch(`${server.url}/healthz`)).body?.cancel();
    await (await fetch(`${server.url}/api/v1/probe/ping`)).body?.cancel();
    assert.deepEqual(one.seen, ['/api/v1/probe/ping']);
    assert.deepEqual(two.seen, ['/api/v1/things/ping']);
  });

  it('every app of the house has its own prefix', () => {
    const prefixes = apps.map(apiPrefix);
    assert.equal(new Set(prefixes).size, apps.length, prefixes.join(', '));
    assert.deepEqual(prefixes, ['/api/v1/support', '/api/v1/radio', '/api/v1/studio', '/api/v1/market', '/api/v1/streams']);
  });
});
