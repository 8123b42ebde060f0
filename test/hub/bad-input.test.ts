import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, RawClient, TEST_API_KEY } from '../helpers/server.js';
import { encodeBinaryFrame } from '../../src/hub/frame-encoding.js';

type Server = Awaited<ReturnType<typeof startServer>>;
const code = (f: Record<string, unknown>) => (f.error as { code: string } | undefined)?.code;

describe('bad input gets its documented error, and the server keeps serving others', () => {
  let server: Server;
  let bystander: RawClient;
  before(async () => {
    server = await startServer({
      maxFrameBytes: 64 * 1024,
      maxSubscriptionsPerClient: 100,
      commandRatePerSecond: 2000,
      publishRatePerSecond: 5,
      namespaces: [
        { name: 'chat', publish: 'anonymous', maxMessageBytes: 1024 },
        { name: 'media', publish: 'anonymous', binary: true },
      ] as never,
    });
    bystander = await RawClient.open(server.wsUrl);
    await bystander.request('subscribe', { channel: 'chat:lobby' });
  });
  after(async () => {
    // After all the abuse the bystander still receives publications.
    const res = await fetch(`${server.url}/api/v1/publish`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_API_KEY}` },
      body: JSON.stringify({ channel: 'chat:lobby', data: 'still here' }),
    });
    assert.equal(res.status, 200);
    await bystander.waitPush((f) => f.data === 'still here');
    bystander.close();
    await server.close();
  });

  test('invalid JSON → bad_json', async () => {
    const c = await RawClient.open(server.wsUrl);
    c.sendRaw('{"id":1,');
    const e = await c.waitPush((f) => f.ok === false);
    assert.equal(code(e), 'bad_json');
    assert.equal((await c.request('ping')).ok, true, 'the connection stays usable');
    c.close();
  });

  test('unknown op → unknown_op, with the id echoed', async () => {
    const c = await RawClient.open(server.wsUrl);
    const r = await c.request('teleport');
    assert.equal(code(r), 'unknown_op');
    c.close();
  });

  test('malformed fields → bad_frame naming the field', async () => {
    const c = await RawClient.open(server.wsUrl);
    const r = await c.request('subscribe', { channel: 42 });
    assert.equal(code(r), 'bad_frame');
    assert.match((r.error as { message: string }).message, /channel/);
    c.close();
  });

  test('unknown namespace → unknown_namespace', async () => {
    const c = await RawClient.open(server.wsUrl);
    assert.equal(code(await c.request('subscribe', { channel: 'nowhere:1' })), 'unknown_namespace');
    c.close();
  });

  test('a frame above the maximum frame size closes with 1009', async () => {
    const c = await RawClient.open(server.wsUrl);
    c.sendRaw(JSON.stringify({ id: 1, op: 'publish', channel: 'chat:lobby', data: 'x'.repeat(100 * 1024) }));
    assert.equal(await c.closed, 1009);
  });

  test('a message above the namespace limit → message_too_big', async () => {
    const c = await RawClient.open(server.wsUrl);
    const r = await c.request('publish', { channel: 'chat:lobby', data: 'x'.repeat(2000) });
    assert.equal(code(r), 'message_too_big');
    assert.match((r.error as { message: string }).message, /1024/);
    c.close();
  });

  test('a binary frame on a text namespace → binary_not_allowed', async () => {
    const c = await RawClient.open(server.wsUrl);
    c.sendRaw(encodeBinaryFrame('chat:lobby', 0, 0, new Uint8Array([1, 2, 3])), true);
    const e = await c.waitPush((f) => f.ok === false);
    assert.equal(code(e), 'binary_not_allowed');
    c.close();
  });

  test('a binary frame that is not an Airwaves frame → bad_frame', async () => {
    const c = await RawClient.open(server.wsUrl);
    c.sendRaw(Buffer.from([0, 1, 2, 3]), true);
    assert.equal(code(await c.waitPush((f) => f.ok === false)), 'bad_frame');
    c.close();
  });

  test('10,000 subscribe attempts get errors, not a crash, and cap at the subscription limit', async () => {
    const c = await RawClient.open(server.wsUrl);
    const replies = await Promise.all(Array.from({ length: 10_000 }, (_, i) => c.request('subscribe', { channel: `chat:room${i}` }, 30_000).catch(() => ({ ok: false, error: { code: 'no_reply' } }))));
    const ok = replies.filter((r) => r.ok).length;
    const codes = new Set(replies.filter((r) => !r.ok).map((r) => code(r as { error?: unknown })));
    assert.ok(ok <= 100, `${ok} subscriptions accepted`);
    assert.ok(codes.has('too_many_subscriptions') || codes.has('rate_limited'), [...codes].join(','));
    assert.ok(!codes.has('no_reply'), 'every command got a reply');
    c.close();
  });

  test('publishing above the rate limit → rate_limited, and the client stays connected', async () => {
    const c = await RawClient.open(server.wsUrl);
    const replies = await Promise.all(Array.from({ length: 40 }, (_, i) => c.request('publish', { channel: 'chat:rl', data: i })));
    const limited = replies.filter((r) => code(r) === 'rate_limited').length;
    assert.ok(limited > 0 && limited < 40, `${limited} limited`);
    assert.equal((await c.request('ping')).ok, true);
    c.close();
  });

  test('garbage on the WebSocket path or another path is refused cleanly', async () => {
    const res = await fetch(`${server.url}/ws`);
    assert.ok(res.status >= 400);
    await assert.rejects(RawClient.open(server.wsUrl.replace('/ws', '/nope')), /HTTP 404/);
  });
});

describe('connection limits', () => {
  test('past the per-IP connection limit the upgrade is refused with 429', async () => {
    const server = await startServer({ maxConnectionsPerIp: 3 });
    try {
      const clients = await Promise.all([1, 2, 3].map(() => RawClient.open(server.wsUrl)));
      await assert.rejects(RawClient.open(server.wsUrl), /HTTP 429/);
      clients[0].close();
      await clients[0].closed;
      await new Promise((r) => setTimeout(r, 50));
      const again = await RawClient.open(server.wsUrl);
      again.close();
      for (const c of clients.slice(1)) c.close();
    } finally {
      await server.close();
    }
  });
});
