/**
 * @module test/http/security-headers
 * Every answer of the HTTP instance carries the same security headers — a route's, a 404's, an
 * error's — exactly these (helmet's handler, built once in http/instance). Pinned header by
 * header, so a change of how they are set cannot change what is sent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../../src/core/logger.js';
import { createHttpInstance } from '../../src/http/instance.js';
import { TEST_API_KEY, TEST_JWT_SECRET } from '../helpers/server.js';

const EXPECTED: Record<string, string> = {
  'content-security-policy':
    "default-src 'self';script-src 'self';style-src 'self' 'unsafe-inline';img-src 'self' data: blob:;media-src 'self' blob:;worker-src 'self' blob:;connect-src 'self';font-src 'self' data:;object-src 'none';base-uri 'self';form-action 'self';frame-ancestors 'none'",
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'origin-agent-cluster': '?1',
  'referrer-policy': 'no-referrer',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-dns-prefetch-control': 'off',
  'x-download-options': 'noopen',
  'x-frame-options': 'SAMEORIGIN',
  'x-permitted-cross-domain-policies': 'none',
  'x-xss-protection': '0',
};

test('a route, a 404 and a refused request all carry exactly the security headers', async () => {
  const http = await createHttpInstance({ logger: createLogger('warn'), logLevel: 'warn', jwtSecret: TEST_JWT_SECRET, apiKey: TEST_API_KEY });
  http.get('/open', { config: { auth: 'public' } }, async () => ({ ok: true }));
  http.get('/closed', { config: { auth: { roles: ['admin'] } } }, async () => ({ ok: true }));
  await http.ready();
  try {
    for (const [url, status] of [['/open', 200], ['/nowhere', 404], ['/closed', 401]] as const) {
      const res = await http.inject({ method: 'GET', url });
      assert.equal(res.statusCode, status, url);
      for (const [name, value] of Object.entries(EXPECTED)) assert.equal(res.headers[name], value, `${url}: ${name}`);
      assert.equal(res.headers['x-powered-by'], undefined);
      assert.equal(res.headers['cross-origin-embedder-policy'], undefined, 'COEP stays off');
    }
  } finally {
    await http.close();
  }
});
