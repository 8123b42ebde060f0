import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, RawClient } from '../helpers/server.js';
import { mintToken } from '../../src/hub/auth.js';
import { SignJWT } from 'jose';

const SECRET = 'test-secret-that-is-long-enough-0123456789';
type Server = Awaited<ReturnType<typeof startServer>>;

describe('authentication and authorisation', () => {
  let server: Server;
  before(async () => {
    server = await startServer({
      jwtSecret: SECRET,
      namespaces: [
        { name: 'secure', subscribe: 'authenticated', publish: 'authenticated' },
        { name: 'public', subscribe: 'anonymous', publish: 'authenticated' },
        { name: 'system', subscribe: 'anonymous', publish: 'server' },
      ] as never,
    });
  });
  after(() => server.close());

  test('an anonymous client may read public channels but not publish to them', async () => {
    const c = await RawClient.open(server.wsUrl);
    assert.equal((await c.request('subscribe', { channel: 'public:news' })).ok, true);
    const r = await c.request('publish', { channel: 'public:news', data: 1 });
    assert.equal((r.error as { code: string }).code, 'unauthorized');
    const s = await c.request('subscribe', { channel: 'secure:a' });
    assert.equal((s.error as { code: string }).code, 'unauthorized');
    c.close();
  });

  test('a valid token grants what its channel patterns allow, and only that', async () => {
    const token = await mintToken({ sub: 'alice', subscribe: ['secure:a*'], publish: ['secure:a*'] }, SECRET, 60);
    const c = await RawClient.open(server.wsUrl);
    const hello = await c.request('connect', { token });
    assert.equal((hello.result as { user: string }).user, 'alice');
    assert.equal((await c.request('subscribe', { channel: 'secure:abc' })).ok, true);
    const denied = await c.request('subscribe', { channel: 'secure:b' });
    assert.equal((denied.error as { code: string }).code, 'forbidden');
    assert.equal((await c.request('publish', { channel: 'secure:abc', data: 'hi' })).ok, true);
    c.close();
  });

  test('nobody may publish to a server-only namespace from a socket', async () => {
    const token = await mintToken({ sub: 'root' }, SECRET, 60);
    const c = await RawClient.open(server.wsUrl);
    await c.request('connect', { token });
    const r = await c.request('publish', { channel: 'system:x', data: 1 });
    assert.equal((r.error as { code: string }).code, 'forbidden');
    c.close();
  });

  test('a bad token gets error unauthorized and close 4001', async () => {
    const c = await RawClient.open(server.wsUrl);
    const r = await c.request('connect', { token: 'not.a.jwt' });
    assert.equal((r.error as { code: string }).code, 'unauthorized');
    assert.equal(await c.closed, 4001);
  });

  test('a token signed with another secret is refused', async () => {
    const token = await mintToken({ sub: 'mallory' }, 'another-secret-that-is-long-enough-012345', 60);
    const c = await RawClient.open(server.wsUrl);
    await c.request('connect', { token });
    assert.equal(await c.closed, 4001);
  });

  test('an expired token is refused with close 4001 and says so', async () => {
    const expired = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('bob')
      .setExpirationTime(Math.floor(Date.now() / 1000) - 10)
      .sign(new TextEncoder().encode(SECRET));
    const c = await RawClient.open(server.wsUrl);
    const r = await c.request('connect', { token: expired });
    assert.match((r.error as { message: string }).message, /expired/);
    assert.equal(await c.closed, 4001);
  });

  test('a connection is closed with 4001 when its token expires', async () => {
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('carol')
      // Whole seconds: +2 leaves at least one second to connect before it expires (+1 could leave none).
      .setExpirationTime(Math.floor(Date.now() / 1000) + 2)
      .sign(new TextEncoder().encode(SECRET));
    const c = await RawClient.open(server.wsUrl);
    assert.equal((await c.request('connect', { token })).ok, true);
    assert.equal(await c.closed, 4001);
  });

  test('a bad token in the URL is refused before the upgrade with HTTP 401', async () => {
    await assert.rejects(RawClient.open(`${server.wsUrl}?token=garbage`), /HTTP 401/);
    const token = await mintToken({ sub: 'dave', subscribe: ['secure:*'] }, SECRET, 60);
    const c = await RawClient.open(`${server.wsUrl}?token=${token}`);
    assert.equal((await c.request('subscribe', { channel: 'secure:z' })).ok, true);
    c.close();
  });

  test('a token without channel claims gets no rights beyond anonymous namespaces', async () => {
    const token = await mintToken({ sub: 'erin' }, SECRET, 60);
    const c = await RawClient.open(server.wsUrl);
    assert.equal((await c.request('connect', { token })).ok, true);
    const sub = await c.request('subscribe', { channel: 'secure:a' });
    assert.equal((sub.error as { code: string }).code, 'forbidden');
    const pub = await c.request('publish', { channel: 'secure:a', data: 1 });
    assert.equal((pub.error as { code: string }).code, 'forbidden');
    // An authenticated-publish namespace refuses the claims-less token's publish as well…
    const pubPublic = await c.request('publish', { channel: 'public:news', data: 1 });
    assert.equal((pubPublic.error as { code: string }).code, 'forbidden');
    // …while anonymous namespaces stay open to it, as to everyone.
    assert.equal((await c.request('subscribe', { channel: 'public:news' })).ok, true);
    c.close();
  });
});

describe('closed servers', () => {
  test('with anonymous access off, commands before connect are unauthorized and connect without a token closes 4001', async () => {
    const server = await startServer({ allowAnonymous: false, jwtSecret: SECRET, namespaces: [{ name: 'public', subscribe: 'anonymous' }] as never });
    try {
      const c = await RawClient.open(server.wsUrl);
      const r = await c.request('subscribe', { channel: 'public:a' });
      assert.equal((r.error as { code: string }).code, 'unauthorized');
      await c.request('connect', {});
      assert.equal(await c.closed, 4001);
    } finally {
      await server.close();
    }
  });
});
