/**
 * AIRWAVES_APPS picks the apps a server hosts: unset runs all of them, an empty value runs the
 * hub alone (no database is opened, nothing is written to the data directory), a list runs those.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type AirwavesServer } from '../../src/server.js';
import { createLogger } from '../../src/core/logger.js';
import { TEST_API_KEY, TEST_JWT_SECRET } from '../helpers/server.js';

const dirs: string[] = [];
async function start(apps: string): Promise<AirwavesServer & { dataDir: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'airwaves-apps-'));
  dirs.push(dataDir);
  const server = await createServer({
    env: { AIRWAVES_APPS: apps, AIRWAVES_RADIO_ENABLED: 'false', AIRWAVES_MARKET_ENABLED: 'false', AIRWAVES_LIVE_RTMP_ENABLED: 'false' },
    logger: createLogger('silent'),
    config: { port: 0, host: '127.0.0.1', apiKey: TEST_API_KEY, jwtSecret: TEST_JWT_SECRET, dataDir },
  });
  await server.listen();
  return Object.assign(server, { dataDir });
}

after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('AIRWAVES_APPS', () => {
  it('empty: the hub alone serves /readyz and WebSocket namespaces, registers no app routes and never opens the database', async () => {
    const server = await start('');
    try {
      assert.equal((await fetch(`${server.url}/readyz`)).status, 200);
      const routes = server.http.printRoutes({ commonPrefix: false });
      assert.doesNotMatch(routes, /studio|support|radio|market/, 'no app route is registered');
      assert.deepEqual(readdirSync(server.dataDir).filter((f) => !f.startsWith('secrets')), [], 'nothing but the secrets file in the data directory');
    } finally {
      await server.close();
    }
  });

  it('a list runs exactly those apps', async () => {
    const server = await start('radio');
    try {
      const routes = server.http.printRoutes({ commonPrefix: false });
      assert.match(routes, /radio/);
      assert.doesNotMatch(routes, /studio|support/);
    } finally {
      await server.close();
    }
  });
});
