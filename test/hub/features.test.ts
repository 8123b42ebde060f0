import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, RawClient, sleep, TEST_API_KEY } from '../helpers/server.js';
import { mintToken } from '../../src/hub/auth.js';

const SECRET = 'test-secret-that-is-long-enough-0123456789';
type Server = Awaited<ReturnType<typeof startServer>>;

describe('presence, coalescing and server-side publish', () => {
  let server: Server;
  before(async () => {
    server = await startServer({
      jwtSecret: SECRET,
      namespaces: [
        { name: 'room', publish: 'anonymous', presence: true },
        { name: 'cursor', publish: 'anonymous', coalesceMs: 500 }, // wide enough that the ten publishes below land in one window even on a loaded machine
        { name: 'chat', publish: 'anonymous' },
      ] as never,
    });
  });
  after(() => server.close());

  test('presence lists who is subscribed and pushes joins and leaves', async () => {
    const a = await RawClient.open(server.wsUrl);
    await a.request('connect', { token: await mintToken({ sub: 'alice' }, SECRET, 60) });
    await a.request('subscribe', { channel: 'room:1' });
    const b = await RawClient.open(server.wsUrl);
    await b.request('connect', { token: await mintToken({ sub: 'bob' }, SECRET, 60) });
    await b.request('subscribe', { channel: 'room:1' });
    const join = await a.waitPush((f) => f.event === 'join');
    assert.equal((join.info as { user: string }).user, 'bob');
    const p = await a.request('presence', { channel: 'room:1' });
    assert.deepEqual((p.result as { clients: { user: string }[] }).clients.map((c) => c.user).sort(), ['alice', 'bob']);
    b.close();
    const leave = await a.waitPush((f) => f.event === 'leave');
    assert.equal((leave.info as { user: string }).user, 'bob');
    const disabled = await a.request('presence', { channel: 'chat:1' });
    assert.equal((disabled.error as { code: string }).code, 'presence_disabled');
    a.close();
  });

  test('a coalescing namespace sends the last state of each key once per window', async () => {
    const sub = await RawClient.open(server.wsUrl);
    await sub.request('subscribe', { channel: 'cursor:doc' });
    const pub = await RawClient.open(server.wsUrl);
    for (let i = 0; i < 10; i++) {
      const r = await pub.request('publish', { channel: 'cursor:doc', key: 'alice', data: { x: i } });
      assert.deepEqual(r.result, { coalesced: true });
    }
    await pub.request('publish', { channel: 'cursor:doc', key: 'bob', data: { x: 100 } });
    await sleep(800);
    const got = sub.publications('cursor:doc').map((f) => [f.key, (f.data as { x: number }).x]);
    assert.deepEqual(got.sort(), [['alice', 9], ['bob', 100]]);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(metrics, /hub_coalesced_total\{namespace="cursor"\} 9/);
    sub.close();
    pub.close();
  });

  test('an input-only namespace hands client publications to its hook and stores nothing in the engine', async () => {
    const taken: unknown[] = [];
    server.hub.registerNamespace(
      { name: 'signal', subscribe: 'server', publish: 'anonymous', historySize: 0, historyTtlSeconds: 0 },
      { onClientPublish: (_ctx, data) => void taken.push(data) },
    );
    const pub = await RawClient.open(server.wsUrl);
    const r = await pub.request('publish', { channel: 'signal:7', data: { typing: true } });
    assert.deepEqual(r.result, { consumed: true });
    assert.deepEqual(taken, [{ typing: true }]);
    // Nothing went through the engine: the channel has no offset, and nobody can subscribe to it.
    assert.equal((await server.hub.history('signal:7')).top, 0);
    const sub = await pub.request('subscribe', { channel: 'signal:7' });
    assert.equal((sub.error as { code: string }).code, 'forbidden');

    // `send`: the same hook, no reply when accepted, an error reply with its id when refused.
    pub.sendRaw(JSON.stringify({ id: 900, op: 'send', channel: 'signal:7', data: { typing: false } }));
    await pub.waitFor(() => taken.length === 2);
    assert.deepEqual(taken[1], { typing: false });
    const wrongPlace = await pub.request('send', { channel: 'chat:signal', data: { typing: true } });
    assert.equal((wrongPlace.error as { code: string }).code, 'bad_request');
    assert.match((wrongPlace.error as { message: string }).message, /input-only/);
    const tooBig = await pub.request('send', { channel: 'signal:7', data: 'x'.repeat(70_000) });
    assert.equal((tooBig.error as { code: string }).code, 'message_too_big');
    assert.equal(taken.length, 2, 'a refused signal never reaches the hook');
    await sleep(50);
    assert.ok(!pub.textFrames.some((t) => t.includes('"id":900')), 'an accepted send gets no reply');
    pub.close();
  });

  test('server-side publish in process reaches subscribers', async () => {
    const sub = await RawClient.open(server.wsUrl);
    await sub.request('subscribe', { channel: 'chat:inproc' });
    const ack = await server.hub.publish('chat:inproc', { hello: 'world' });
    assert.equal((ack as { offset: number }).offset, 1);
    const f = await sub.waitPush((x) => x.channel === 'chat:inproc');
    assert.deepEqual(f.data, { hello: 'world' });
    sub.close();
  });

  test('an idempotent publish is delivered once', async () => {
    const sub = await RawClient.open(server.wsUrl);
    await sub.request('subscribe', { channel: 'chat:idem' });
    const a = await server.hub.publish('chat:idem', 'once', { idempotencyKey: 'evt-1' });
    const b = await server.hub.publish('chat:idem', 'once', { idempotencyKey: 'evt-1' });
    assert.deepEqual(a, b);
    await sleep(50);
    assert.equal(sub.publications('chat:idem').length, 1);
    sub.close();
  });
});

describe('HTTP API', () => {
  let server: Server;
  before(async () => {
    server = await startServer({ namespaces: [{ name: 'chat', publish: 'anonymous' }] as never });
  });
  after(() => server.close());
  const post = (path: string, body: unknown, key: string | null = TEST_API_KEY) =>
    fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: JSON.stringify(body),
    });

  test('publish needs the API key', async () => {
    const r = await post('/api/v1/publish', { channel: 'chat:a', data: 1 }, null);
    assert.equal(r.status, 401);
    assert.equal(((await r.json()) as { error: { code: string } }).error.code, 'unauthorized');
    assert.equal((await post('/api/v1/publish', { channel: 'chat:a', data: 1 }, 'wrong-key-wrong-key-123')).status, 401);
  });

  test('batch publish keeps order and reports each result', async () => {
    const sub = await RawClient.open(server.wsUrl);
    await sub.request('subscribe', { channel: 'chat:batch' });
    const r = await post('/api/v1/publish/batch', {
      messages: [
        { channel: 'chat:batch', data: 1 },
        { channel: 'nope:x', data: 2 },
        { channel: 'chat:batch', data: 3 },
      ],
    });
    assert.equal(r.status, 200);
    const body = (await r.json()) as { results: { offset?: number; error?: { code: string } }[] };
    assert.equal(body.results[0].offset, 1);
    assert.equal(body.results[1].error?.code, 'unknown_namespace');
    assert.equal(body.results[2].offset, 2);
    await sub.waitFor(() => sub.publications('chat:batch').length === 2);
    assert.deepEqual(sub.publications('chat:batch').map((f) => f.data), [1, 3]);
    sub.close();
  });

  test('an HTTP publish retried with the same idempotencyKey is delivered once', async () => {
    const sub = await RawClient.open(server.wsUrl);
    await sub.request('subscribe', { channel: 'chat:retry' });
    const first = (await (await post('/api/v1/publish', { channel: 'chat:retry', data: 'x', idempotencyKey: 'order-7' })).json()) as { offset: number };
    const again = (await (await post('/api/v1/publish', { channel: 'chat:retry', data: 'x', idempotencyKey: 'order-7' })).json()) as { offset: number };
    assert.equal(again.offset, first.offset);
    await post('/api/v1/publish', { channel: 'chat:retry', data: 'after' });
    await sub.waitFor(() => sub.publications('chat:retry').some((f) => f.data === 'after'));
    assert.deepEqual(sub.publications('chat:retry').map((f) => f.data), ['x', 'after']);
    sub.close();
  });

  test('a body that does not match the schema → 400 bad_request naming the field', async () => {
    const r = await post('/api/v1/publish', { channel: 'chat:a' });
    assert.equal(r.status, 400);
    const body = (await r.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'bad_request');
    assert.match(body.error.message, /data/);
  });

  test('operator endpoints answer', async () => {
    assert.deepEqual(await (await fetch(`${server.url}/healthz`)).json(), { status: 'ok' });
    const ready = await fetch(`${server.url}/readyz`);
    assert.equal(ready.status, 200);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    for (const name of ['hub_connections', 'hub_subscriptions', 'hub_delivery_latency_seconds', 'nodejs_eventloop_lag_seconds', 'nodejs_gc_duration_seconds']) {
      assert.match(metrics, new RegExp(name));
    }
    const spec = (await (await fetch(`${server.url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    assert.ok(spec.paths['/api/v1/publish'] && spec.paths['/api/v1/publish/batch'] && spec.paths['/healthz']);
    const docs = await fetch(`${server.url}/docs`);
    assert.equal(docs.status, 200);
    const landing = await (await fetch(`${server.url}/`)).text();
    assert.match(landing, /Airwaves/);
    const status = (await (await fetch(`${server.url}/api/v1/status`)).json()) as { engine: string; connections: number };
    assert.equal(status.engine, 'memory');
  });

  test('unknown routes get the JSON error shape', async () => {
    const r = await fetch(`${server.url}/api/v1/nothing`);
    assert.equal(r.status, 404);
    assert.equal(((await r.json()) as { error: { code: string } }).error.code, 'not_found');
  });
});

describe('graceful shutdown', () => {
  test('queued messages are delivered, then clients get 1012 and the server closes within the drain time', async () => {
    const server = await startServer({ shutdownDrainMs: 2000, namespaces: [{ name: 'chat', publish: 'anonymous' }] as never });
    const clients = await Promise.all([1, 2, 3].map(() => RawClient.open(server.wsUrl)));
    for (const c of clients) await c.request('subscribe', { channel: 'chat:last' });
    void server.hub.publish('chat:last', 'final words');
    const started = Date.now();
    await server.close();
    assert.ok(Date.now() - started < 2500);
    for (const c of clients) {
      assert.equal(await c.closed, 1012);
      assert.ok(c.publications('chat:last').some((f) => f.data === 'final words'), 'the last message arrived before the close');
      assert.ok(c.pushes.some((f) => f.event === 'disconnect'));
    }
    await assert.rejects(RawClient.open(server.wsUrl));
  });
});
