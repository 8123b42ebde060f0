/**
 * @module test/client/client
 * The SDK's client (src/client: client, connection, subscription registry, subscription,
 * commands, frames, backoff, emitter) without a server: a fake WebSocket records what the client
 * sends and lets the test play the server — connect, commands and their ids and timeouts, batched
 * and binary pushes, subscription ordering, reconnection with resubscribe and recovery, gaps, the
 * live-edge options (recoverable, rewind), retrying what a starting app refused (app_starting);
 * and the backoff computation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import WS from 'ws';
import {
  AirwavesClient,
  AirwavesClientError,
  DEFAULT_RECONNECT,
  TypedEmitter,
  backoffDelay,
  type AirwavesClientOptions,
  type BinaryPublication,
  type Publication,
  type RecoveredEvent,
  type WebSocketConstructor,
} from '../../src/client/index.js';
import { encodeBinaryFrame } from '../../src/hub/frame-encoding.js';
import { DEFAULT_STARTING_RETRY, StartingRetry, retryDelay } from '../../src/client/retry.js';

// Type-level: both the `ws` class and the DOM WebSocket fit the client's WebSocket option.
const _wsFits: WebSocketConstructor = WS;
type DomFits = typeof WebSocket extends WebSocketConstructor ? true : false;
const _domFits: DomFits = true;

// ------------------------------------------------------------------------------------------------
// Fake socket

type Frame = Record<string, unknown> & { id: number; op: string };

class FakeSocket {
  readyState = 0;
  binaryType = 'blob';
  readonly sent: Frame[] = [];
  closedWith: { code?: number; reason?: string } | undefined;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;

  constructor(readonly url: string) {}

  send(data: string): void {
    if (this.readyState !== 1) throw new Error('socket not open');
    this.sent.push(JSON.parse(data) as Frame);
  }

  close(code?: number, reason?: string): void {
    this.closedWith = { code, reason };
    if (this.readyState === 3) return;
    this.readyState = 3;
    setImmediate(() => this.onclose?.({ code: code ?? 1005, reason: reason ?? '' }));
  }

  // ---- test controls (the "server")
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }

  deliver(data: unknown): void {
    this.onmessage?.({ data });
  }

  /** Sends several JSON values in one text frame, newline-separated, as the hub batches them. */
  push(...values: unknown[]): void {
    this.deliver(values.map((v) => JSON.stringify(v)).join('\n'));
  }

  reply(cmd: Frame, result: unknown): void {
    this.push({ id: cmd.id, ok: true, result });
  }

  fail(cmd: Frame, code: string, message: string): void {
    this.push({ id: cmd.id, ok: false, error: { code, message } });
  }

  serverClose(code: number, reason = ''): void {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }

  ops(op: string): Frame[] {
    return this.sent.filter((f) => f.op === op);
  }
}

function fakeWebSocket(): { Ctor: WebSocketConstructor; sockets: FakeSocket[] } {
  const sockets: FakeSocket[] = [];
  class Recorded extends FakeSocket {
    constructor(url: string) {
      super(url);
      sockets.push(this);
    }
  }
  return { Ctor: Recorded, sockets };
}

async function waitFor<T>(probe: () => T | undefined | null | false, what: string, ms = 2000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const CONNECT_RESULT = { client: 'c1', user: 'alice', version: 1, node: 'n1' };

interface Harness {
  client: AirwavesClient;
  sockets: FakeSocket[];
  sock: FakeSocket;
}

/** A client connected to a fake socket (the handshake already answered). */
async function connectedClient(options: Partial<AirwavesClientOptions> = {}): Promise<Harness> {
  const { Ctor, sockets } = fakeWebSocket();
  const client = new AirwavesClient({
    url: 'ws://hub.test/ws',
    WebSocket: Ctor,
    commandTimeoutMs: 1000,
    reconnect: { initialDelayMs: 1, maxDelayMs: 5, jitter: 0 },
    ...options,
  });
  const connected = client.connect();
  const sock = sockets[0];
  sock.open();
  const cmd = await waitFor(() => sock.ops('connect')[0], 'connect command');
  sock.reply(cmd, CONNECT_RESULT);
  assert.deepEqual(await connected, CONNECT_RESULT);
  return { client, sockets, sock };
}

/** The client's socket number `n` (a reconnect) once it exists: opened, its connect answered. */
async function reconnectedSocket(h: Harness, n: number): Promise<FakeSocket> {
  const sock = await waitFor(() => h.sockets[n], `socket ${n}`);
  sock.open();
  sock.reply(await waitFor(() => sock.ops('connect')[0], 'connect'), CONNECT_RESULT);
  return sock;
}

/** Subscribes and answers the subscribe with the given stream position. */
async function subscribed(h: Harness, channel: string, epoch: string, offset: number) {
  const sub = h.client.subscribe(channel);
  const cmd = await waitFor(() => h.sock.ops('subscribe').find((f) => f.channel === channel), 'subscribe command');
  h.sock.reply(cmd, { channel, epoch, offset });
  await sub.ready;
  const pubs: Publication[] = [];
  sub.on('publication', (p) => pubs.push(p));
  return { sub, pubs };
}

function pub(channel: string, offset: number, data: unknown = offset) {
  return { channel, offset, ts: 1_700_000_000_000 + offset, data };
}

// ------------------------------------------------------------------------------------------------
// backoffDelay

test('backoffDelay: exponential growth from initialDelayMs with no jitter', () => {
  const opts = { initialDelayMs: 100, factor: 2, maxDelayMs: 100_000, jitter: 0 };
  assert.deepEqual([1, 2, 3, 4, 5].map((a) => backoffDelay(a, opts, () => 0.9)), [100, 200, 400, 800, 1600]);
  assert.equal(backoffDelay(3, { ...opts, factor: 3 }, () => 0), 900);
});

test('backoffDelay: defaults are 250 ms initial, factor 2, capped at 10 s, jitter 0.5', () => {
  assert.deepEqual(DEFAULT_RECONNECT, { initialDelayMs: 250, maxDelayMs: 10_000, factor: 2, jitter: 0.5 });
  assert.equal(backoffDelay(1, {}, () => 0), 250);
  assert.equal(backoffDelay(1, {}, () => 0.5), 188); // 250 * (1 - 0.5 * 0.5) = 187.5
  assert.equal(backoffDelay(2, {}, () => 0), 500);
  assert.equal(backoffDelay(30, {}, () => 0), 10_000);
  assert.equal(backoffDelay(10_000, {}, () => 0), 10_000, 'huge attempts must not overflow past the cap');
});

test('backoffDelay: jitter keeps every delay within [base * (1 - jitter), base] and under the cap', () => {
  const opts = { initialDelayMs: 250, maxDelayMs: 3000, factor: 2, jitter: 0.5 };
  let seed = 42;
  const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
  const seen = new Set<number>();
  for (let attempt = 1; attempt <= 12; attempt++) {
    const base = Math.min(3000, 250 * 2 ** (attempt - 1));
    for (let i = 0; i < 50; i++) {
      const d = backoffDelay(attempt, opts, random);
      assert.ok(d >= Math.floor(base * 0.5) && d <= base, `attempt ${attempt}: ${d} outside [${base / 2}, ${base}]`);
      seen.add(d);
    }
  }
  assert.ok(seen.size > 20, 'jitter should spread the delays');
  assert.equal(backoffDelay(1, opts, () => 1), 125, 'full jitter halves the delay');
});

test('backoffDelay: attempt below 1 counts as the first, initial above max is capped', () => {
  assert.equal(backoffDelay(0, { jitter: 0 }, () => 0), 250);
  assert.equal(backoffDelay(-3, { jitter: 0 }, () => 0), 250);
  assert.equal(backoffDelay(1, { initialDelayMs: 5000, maxDelayMs: 1000, jitter: 0 }, () => 0), 1000);
});

// ------------------------------------------------------------------------------------------------
// Construction and connect

test('constructor: without a global WebSocket (Node 20) the WebSocket option is required', () => {
  if (typeof (globalThis as { WebSocket?: unknown }).WebSocket !== 'undefined') return;
  assert.throws(() => new AirwavesClient({ url: 'ws://x/ws' }), /WebSocket/);
  const client = new AirwavesClient({ url: 'ws://x/ws', WebSocket: WS });
  assert.equal(client.state, 'idle');
  client.close();
});

test('connect: opens the url, sets binaryType, sends connect with the token and resolves with the reply', async () => {
  const h = await connectedClient({ token: async () => 'tok-1' });
  assert.equal(h.sock.url, 'ws://hub.test/ws');
  assert.equal(h.sock.binaryType, 'arraybuffer');
  const [cmd] = h.sock.ops('connect');
  assert.equal(cmd.token, 'tok-1');
  assert.equal(typeof cmd.id, 'number');
  assert.equal(h.client.state, 'connected');
  h.client.close();
});

test('connect: without a token the connect command carries none', async () => {
  const h = await connectedClient();
  assert.equal('token' in h.sock.ops('connect')[0], false);
  h.client.close();
});

test('connect: an error reply rejects connect() with the server code and does not reconnect', async () => {
  const { Ctor, sockets } = fakeWebSocket();
  const client = new AirwavesClient({ url: 'ws://hub.test/ws', WebSocket: Ctor, token: 'bad', reconnect: { initialDelayMs: 1 } });
  const p = client.connect();
  sockets[0].open();
  const cmd = await waitFor(() => sockets[0].ops('connect')[0], 'connect');
  sockets[0].fail(cmd, 'unauthorized', 'bad token');
  sockets[0].serverClose(4001, 'bad token');
  await assert.rejects(p, (err: AirwavesClientError) => err instanceof AirwavesClientError && err.code === 'unauthorized' && err.message === 'bad token');
  await sleep(20);
  assert.equal(sockets.length, 1);
  assert.equal(client.state, 'idle');
});

test('connect: a socket that fails before opening rejects connect() with disconnected (no retry of a first attempt)', async () => {
  const { Ctor, sockets } = fakeWebSocket();
  const client = new AirwavesClient({ url: 'ws://hub.test/ws', WebSocket: Ctor, reconnect: { initialDelayMs: 1 } });
  const p = client.connect();
  sockets[0].serverClose(1006);
  await assert.rejects(p, { code: 'disconnected', closeCode: 1006 });
  await sleep(20);
  assert.equal(sockets.length, 1);
  assert.equal(client.state, 'idle');
});

// ------------------------------------------------------------------------------------------------
// Commands

test('commands: ids are unique and increasing; replies resolve the matching promise', async () => {
  const h = await connectedClient();
  const a = h.client.publish('chat:a', { n: 1 }, { key: 'k' });
  const b = h.client.presence('chat:a');
  const c = h.client.history('chat:a', { limit: 2 });
  const [pa, pb, ph] = [h.sock.ops('publish')[0], h.sock.ops('presence')[0], h.sock.ops('history')[0]];
  assert.ok(h.sock.ops('connect')[0].id < pa.id && pa.id < pb.id && pb.id < ph.id);
  assert.deepEqual({ ...pa, id: 0 }, { id: 0, op: 'publish', channel: 'chat:a', data: { n: 1 }, key: 'k' });
  assert.equal(ph.limit, 2);
  // Answer out of order, in one batched frame.
  h.sock.push(
    { id: ph.id, ok: true, result: { channel: 'chat:a', epoch: 'e', offset: 9, publications: [{ offset: 9, ts: 1, data: 'x' }] } },
    { id: pa.id, ok: true, result: { offset: 10, epoch: 'e' } },
    { id: pb.id, ok: true, result: { channel: 'chat:a', clients: [{ client: 'c1', user: null }] } },
  );
  assert.deepEqual(await a, { offset: 10, epoch: 'e' });
  assert.deepEqual((await b).clients, [{ client: 'c1', user: null }]);
  assert.deepEqual((await c).publications, [{ channel: 'chat:a', offset: 9, ts: 1, data: 'x' }]);
  h.client.close();
});

test('commands: a reply with ok:false rejects with the server code and message', async () => {
  const h = await connectedClient();
  const p = h.client.publish('chat:a', 1);
  h.sock.fail(h.sock.ops('publish')[0], 'forbidden', 'token does not allow publish on "chat:a"');
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof AirwavesClientError);
    assert.equal(err.code, 'forbidden');
    assert.equal(err.message, 'token does not allow publish on "chat:a"');
    return true;
  });
  h.client.close();
});

test('commands: no reply within commandTimeoutMs rejects with code timeout, and a late reply is ignored', async () => {
  const h = await connectedClient({ commandTimeoutMs: 30 });
  const started = Date.now();
  const p = h.client.ping();
  await assert.rejects(p, { code: 'timeout' });
  assert.ok(Date.now() - started >= 25);
  h.sock.reply(h.sock.ops('ping')[0], { ts: 1 }); // must not throw or resolve anything
  h.client.close();
});

test('commands: an error without an id is emitted as a client error event', async () => {
  const h = await connectedClient();
  const errors: AirwavesClientError[] = [];
  h.client.on('error', (e) => errors.push(e));
  h.sock.push({ id: null, ok: false, error: { code: 'rate_limited', message: 'slow down' } });
  h.sock.deliver('{not json\n' + JSON.stringify({ id: null, ok: false, error: { code: 'bad_frame', message: 'x' } }));
  assert.deepEqual(errors.map((e) => e.code), ['rate_limited', 'bad_json', 'bad_frame']);
  h.client.close();
});

test('commands: in flight when the socket drops reject with disconnected', async () => {
  const h = await connectedClient();
  const p = h.client.publish('chat:a', 1);
  h.sock.serverClose(1006);
  await assert.rejects(p, { code: 'disconnected' });
  h.client.close();
});

test('close(): closes with 1000, stops reconnecting and rejects outstanding and later commands with closed', async () => {
  const h = await connectedClient();
  const events: string[] = [];
  h.client.on('disconnected', (e) => events.push(`disconnected ${e.code}`));
  h.client.on('reconnecting', () => events.push('reconnecting'));
  const inflight = h.client.publish('chat:a', 1);
  const sub = h.client.subscribe('chat:b');
  h.client.close();
  assert.equal(h.sock.closedWith?.code, 1000);
  await assert.rejects(inflight, { code: 'closed' });
  await assert.rejects(sub.ready, { code: 'closed' });
  await assert.rejects(h.client.ping(), { code: 'closed' });
  await assert.rejects(h.client.connect(), { code: 'closed' });
  await sleep(20);
  assert.equal(h.sockets.length, 1);
  assert.deepEqual(events, ['disconnected 1000']);
  assert.equal(h.client.state, 'closed');
});

// ------------------------------------------------------------------------------------------------
// Subscriptions and pushes

test('pushes: a batched frame with two publications yields two events in order', async () => {
  const h = await connectedClient();
  const { sub, pubs } = await subscribed(h, 'chat:a', 'e1', 4);
  assert.equal(sub.lastOffset, 4);
  assert.equal(sub.epoch, 'e1');
  h.sock.push(pub('chat:a', 5, { text: 'first' }), { ...pub('chat:a', 6, { text: 'second' }), key: 'k6' });
  assert.deepEqual(pubs, [
    { channel: 'chat:a', offset: 5, ts: 1_700_000_000_005, data: { text: 'first' } },
    { channel: 'chat:a', offset: 6, ts: 1_700_000_000_006, data: { text: 'second' }, key: 'k6' },
  ]);
  assert.equal(sub.lastOffset, 6);
  h.client.close();
});

test('pushes: publications are routed by channel, presence events reach the subscription', async () => {
  const h = await connectedClient();
  const a = await subscribed(h, 'chat:a', 'e1', 0);
  const b = await subscribed(h, 'chat:b', 'e2', 0);
  const joins: string[] = [];
  a.sub.on('join', (e) => joins.push(`join ${e.info.client}`)).on('leave', (e) => joins.push(`leave ${e.info.client}`));
  h.sock.push(pub('chat:b', 1), pub('chat:a', 1), pub('chat:x', 1), { channel: 'chat:a', event: 'join', info: { client: 'c9', user: null } });
  h.sock.push({ channel: 'chat:a', event: 'leave', info: { client: 'c9', user: null } });
  assert.deepEqual(a.pubs.map((p) => p.channel), ['chat:a']);
  assert.deepEqual(b.pubs.map((p) => p.channel), ['chat:b']);
  assert.deepEqual(joins, ['join c9', 'leave c9']);
  h.client.close();
});

test('pushes: binary frames are decoded and emitted as binary events, duplicates dropped', async () => {
  const h = await connectedClient();
  const { sub } = await subscribed(h, 'media:cam', 'e1', 0);
  const got: BinaryPublication[] = [];
  sub.on('binary', (b) => got.push(b));
  const frame = encodeBinaryFrame('media:cam', 1, 123, new Uint8Array([1, 2, 3]));
  const ab = frame.buffer.slice(frame.byteOffset, frame.byteOffset + frame.byteLength);
  h.sock.deliver(ab); // browsers / binaryType 'arraybuffer'
  h.sock.deliver(encodeBinaryFrame('media:cam', 1, 123, new Uint8Array([9]))); // duplicate offset, as a Buffer
  h.sock.deliver(encodeBinaryFrame('media:cam', 2, 124, new Uint8Array([4]))); // Buffer (ws default binaryType)
  assert.equal(got.length, 2);
  assert.deepEqual([got[0].channel, got[0].offset, got[0].ts, [...got[0].payload]], ['media:cam', 1, 123, [1, 2, 3]]);
  assert.deepEqual([got[1].offset, [...got[1].payload]], [2, [4]]);
  h.client.close();
});

test('subscribe: handlers passed to subscribe() receive events; pushes before the reply are released after it', async () => {
  const h = await connectedClient();
  const seen: number[] = [];
  const sub = h.client.subscribe('chat:a', { publication: (p) => seen.push(p.offset) });
  const cmd = h.sock.ops('subscribe')[0];
  assert.equal('since' in cmd, false);
  h.sock.push(pub('chat:a', 3), pub('chat:a', 4)); // 3 is at/below the reply's offset, 4 is new
  assert.deepEqual(seen, [], 'nothing may be delivered before the subscribe reply');
  h.sock.reply(cmd, { channel: 'chat:a', epoch: 'e1', offset: 3 });
  const result = await sub.ready;
  assert.equal(result.offset, 3);
  assert.deepEqual(seen, [4]);
  h.client.close();
});

test('subscribe: an error reply rejects ready with the code, emits error and removes the subscription', async () => {
  const h = await connectedClient();
  const sub = h.client.subscribe('secret:a');
  const errors: string[] = [];
  sub.on('error', (e) => errors.push(e.code));
  h.sock.fail(h.sock.ops('subscribe')[0], 'forbidden', 'no');
  await assert.rejects(sub.ready, { code: 'forbidden' });
  assert.deepEqual(errors, ['forbidden']);
  assert.equal(h.client.subscription('secret:a'), undefined);
  assert.equal(sub.state, 'closed');
  h.client.close();
});

test('subscribe: before connect() the subscribe is sent once connected', async () => {
  const { Ctor, sockets } = fakeWebSocket();
  const client = new AirwavesClient({ url: 'ws://hub.test/ws', WebSocket: Ctor });
  const sub = client.subscribe('chat:a');
  const p = client.connect();
  sockets[0].open();
  const cmd = await waitFor(() => sockets[0].ops('connect')[0], 'connect');
  assert.equal(sockets[0].ops('subscribe').length, 0, 'subscribe must follow the connect reply');
  sockets[0].reply(cmd, CONNECT_RESULT);
  await p;
  const s = sockets[0].ops('subscribe')[0];
  assert.ok(s && s.id > cmd.id);
  sockets[0].reply(s, { channel: 'chat:a', epoch: 'e', offset: 0 });
  assert.equal((await sub.ready).epoch, 'e');
  client.close();
});

test('unsubscribe: sends unsubscribe and stops delivery', async () => {
  const h = await connectedClient();
  const { sub, pubs } = await subscribed(h, 'chat:a', 'e1', 0);
  const done = sub.unsubscribe();
  const cmd = h.sock.ops('unsubscribe')[0];
  assert.equal(cmd.channel, 'chat:a');
  h.sock.push(pub('chat:a', 1));
  h.sock.reply(cmd, { channel: 'chat:a' });
  await done;
  assert.deepEqual(pubs, []);
  assert.equal(h.client.subscription('chat:a'), undefined);
  h.client.close();
});

// ------------------------------------------------------------------------------------------------
// Reconnection and recovery

test('reconnect: after an unexpected close the client reconnects, re-sends connect and resubscribes from the last publication', async () => {
  let tokenCalls = 0;
  const h = await connectedClient({ token: () => `tok-${++tokenCalls}` });
  const { sub, pubs } = await subscribed(h, 'chat:a', 'e1', 4);
  h.sock.push(pub('chat:a', 5), pub('chat:a', 6));
  const events: string[] = [];
  const recovered: RecoveredEvent[] = [];
  h.client.on('disconnected', (e) => events.push(`disconnected ${e.code}`));
  h.client.on('reconnecting', (e) => events.push(`reconnecting ${e.attempt}`));
  h.client.on('connected', () => events.push('connected'));
  sub.on('recovered', (r) => recovered.push(r));

  h.sock.serverClose(1012, 'server restart');
  assert.equal(h.client.state, 'reconnecting');
  const sock2 = await waitFor(() => h.sockets[1], 'a second socket');
  sock2.open();
  const connect2 = await waitFor(() => sock2.ops('connect')[0], 'second connect');
  assert.equal(connect2.token, 'tok-2', 'the token function is evaluated again');
  assert.ok(connect2.id > h.sock.sent[h.sock.sent.length - 1].id, 'ids keep increasing across connections');
  sock2.reply(connect2, CONNECT_RESULT);
  const resub = await waitFor(() => sock2.ops('subscribe')[0], 'resubscribe');
  assert.deepEqual(resub.since, { offset: 6, epoch: 'e1' });
  assert.equal(resub.channel, 'chat:a');

  sock2.reply(resub, { channel: 'chat:a', epoch: 'e1', offset: 8, recovered: true, replayed: 2 });
  sock2.push(pub('chat:a', 7), pub('chat:a', 8), pub('chat:a', 9));
  assert.deepEqual(pubs.map((p) => p.offset), [5, 6, 7, 8, 9]);
  assert.deepEqual(recovered, [{ recovered: true, replayed: 2 }]);
  assert.deepEqual(events, ['disconnected 1012', 'reconnecting 1', 'connected']);
  h.client.close();
});

test('reconnect: duplicates with offset <= lastOffset are dropped after a resubscribe, order is kept', async () => {
  const h = await connectedClient();
  const { sub, pubs } = await subscribed(h, 'chat:a', 'e1', 0);
  h.sock.push(pub('chat:a', 1), pub('chat:a', 2), pub('chat:a', 3));
  h.sock.serverClose(1006);
  const sock2 = await reconnectedSocket(h, 1);
  const resub = await waitFor(() => sock2.ops('subscribe')[0], 'resubscribe');
  assert.deepEqual(resub.since, { offset: 3, epoch: 'e1' });
  // A live push racing ahead of the reply, then a replay that overlaps what was already seen.
  sock2.push(pub('chat:a', 6));
  assert.deepEqual(pubs.map((p) => p.offset), [1, 2, 3]);
  sock2.reply(resub, { channel: 'chat:a', epoch: 'e1', offset: 5, recovered: true, replayed: 4 });
  sock2.push(pub('chat:a', 2), pub('chat:a', 3), pub('chat:a', 4), pub('chat:a', 5));
  sock2.push(pub('chat:a', 5), pub('chat:a', 7));
  assert.deepEqual(pubs.map((p) => p.offset), [1, 2, 3, 4, 5, 6, 7]);
  assert.equal(sub.lastOffset, 7);
  h.client.close();
});

test('reconnect: recovered:false is emitted and a new epoch resets the position', async () => {
  const h = await connectedClient();
  const { sub, pubs } = await subscribed(h, 'chat:a', 'e1', 40);
  const recovered: RecoveredEvent[] = [];
  sub.on('recovered', (r) => recovered.push(r));
  h.sock.serverClose(1012);
  const sock2 = await reconnectedSocket(h, 1);
  const resub = await waitFor(() => sock2.ops('subscribe')[0], 'resubscribe');
  assert.deepEqual(resub.since, { offset: 40, epoch: 'e1' });
  sock2.reply(resub, { channel: 'chat:a', epoch: 'e2', offset: 2, recovered: false, replayed: 0 });
  assert.deepEqual(recovered, [{ recovered: false, replayed: 0 }]);
  assert.equal(sub.epoch, 'e2');
  assert.equal(sub.lastOffset, 2);
  sock2.push(pub('chat:a', 3)); // lower than the old epoch's 40, but new in epoch e2
  assert.deepEqual(pubs.map((p) => p.offset), [3]);
  h.client.close();
});

test('reconnect: not after close code 4001 or 4003', async () => {
  for (const code of [4001, 4003]) {
    const h = await connectedClient();
    const disconnects: number[] = [];
    h.client.on('disconnected', (e) => disconnects.push(e.code));
    const p = h.client.ping();
    h.sock.serverClose(code, 'no');
    await assert.rejects(p, { code: code === 4001 ? 'unauthorized' : 'forbidden' });
    await sleep(20);
    assert.equal(h.sockets.length, 1, `close ${code} must not reconnect`);
    assert.equal(h.client.state, 'idle');
    assert.deepEqual(disconnects, [code]);
    h.client.close();
  }
});

test('reconnect: commands issued while reconnecting wait for the new connection', async () => {
  const h = await connectedClient({ reconnect: { initialDelayMs: 30, jitter: 0 } });
  h.sock.serverClose(1006);
  const p = h.client.publish('chat:a', 'queued');
  const sock2 = await waitFor(() => h.sockets[1], 'second socket');
  sock2.open();
  const connect2 = await waitFor(() => sock2.ops('connect')[0], 'connect');
  assert.equal(sock2.ops('publish').length, 0, 'the command waits for the connect reply');
  sock2.reply(connect2, CONNECT_RESULT);
  const sent = sock2.ops('publish')[0];
  assert.equal(sent.data, 'queued');
  sock2.reply(sent, { offset: 1, epoch: 'e' });
  assert.deepEqual(await p, { offset: 1, epoch: 'e' });
  h.client.close();
});

test('reconnect: a command waiting for the reconnection still times out', async () => {
  const h = await connectedClient({ commandTimeoutMs: 40, reconnect: { initialDelayMs: 1, jitter: 0 } });
  h.sock.serverClose(1006);
  const p = h.client.ping();
  await waitFor(() => h.sockets[1], 'second socket'); // never opens
  await assert.rejects(p, { code: 'timeout' });
  h.client.close();
});

test('reconnect: delays follow the backoff while attempts keep failing, and reset after success', async () => {
  const h = await connectedClient({ reconnect: { initialDelayMs: 2, factor: 2, maxDelayMs: 1000, jitter: 0 } });
  const delays: number[] = [];
  h.client.on('reconnecting', (e) => delays.push(e.delayMs));
  h.sock.serverClose(1006);
  for (let i = 1; i <= 3; i++) (await waitFor(() => h.sockets[i], `socket ${i}`)).serverClose(1006);
  const last = await reconnectedSocket(h, 4);
  await waitFor(() => h.client.state === 'connected', 'connected');
  last.serverClose(1006);
  assert.deepEqual(delays, [2, 4, 8, 16, 2]);
  h.client.close();
});

// ------------------------------------------------------------------------------------------------
// Gap notices

test('gap: resubscribes from lastOffset and holds the channel until the replay fills the gap in order', async () => {
  const h = await connectedClient();
  const { sub, pubs } = await subscribed(h, 'chat:a', 'e1', 0);
  h.sock.push(pub('chat:a', 1), pub('chat:a', 2), pub('chat:a', 3));
  // The hub dropped 4..6 for us and says so ahead of what it kept (7).
  h.sock.push({ channel: 'chat:a', event: 'gap', from: 4, to: 6 }, pub('chat:a', 7));
  const [unsub] = h.sock.ops('unsubscribe');
  const [, resub] = h.sock.ops('subscribe');
  assert.equal(unsub.channel, 'chat:a');
  assert.ok(resub && resub.id > unsub.id, 'unsubscribe, then subscribe');
  assert.deepEqual(resub.since, { offset: 3, epoch: 'e1' });
  assert.deepEqual(pubs.map((p) => p.offset), [1, 2, 3], '7 must wait for the replay');
  // A second gap notice while the resubscribe is in flight does not start another one.
  h.sock.push({ channel: 'chat:a', event: 'gap', from: 8, to: 8 });
  assert.equal(h.sock.ops('subscribe').length, 2);
  h.sock.reply(unsub, { channel: 'chat:a' });
  h.sock.reply(resub, { channel: 'chat:a', epoch: 'e1', offset: 8, recovered: true, replayed: 5 });
  h.sock.push(pub('chat:a', 4), pub('chat:a', 5), pub('chat:a', 6), pub('chat:a', 7), pub('chat:a', 8), pub('chat:a', 9));
  assert.deepEqual(pubs.map((p) => p.offset), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.equal(sub.lastOffset, 9);
  h.client.close();
});

test('gap: a subscription with recoverable:false re-attaches at the live edge, still delivering what was on its way', async () => {
  const h = await connectedClient();
  const sub = h.client.subscribe('media:a', {}, { recoverable: false });
  h.sock.reply(h.sock.ops('subscribe')[0], { channel: 'media:a', epoch: 'e1', offset: 0 });
  await sub.ready;
  const offsets: number[] = [];
  const recovered: RecoveredEvent[] = [];
  sub.on('publication', (p) => offsets.push(p.offset));
  sub.on('recovered', (r) => recovered.push(r));
  h.sock.push(pub('media:a', 1), pub('media:a', 2));
  h.sock.push({ channel: 'media:a', event: 'gap', from: 3, to: 6 }, pub('media:a', 7));
  const [unsub] = h.sock.ops('unsubscribe');
  const [, resub] = h.sock.ops('subscribe');
  assert.ok(unsub && resub && resub.id > unsub.id, 'unsubscribe, then subscribe');
  assert.equal('since' in resub, false, 'no replay asked for');
  h.sock.reply(unsub, { channel: 'media:a' });
  h.sock.reply(resub, { channel: 'media:a', epoch: 'e1', offset: 9 });
  h.sock.push(pub('media:a', 7), pub('media:a', 10));
  assert.deepEqual(offsets, [1, 2, 7, 10], '3..6 skipped, 7 kept once, then live');
  assert.deepEqual(recovered, [{ recovered: false, replayed: 0 }]);
  h.client.close();
});

test('rewind: reads the live position with history, subscribes that many behind it, and after a reconnect never before what was delivered', async () => {
  const h = await connectedClient();
  const sub = h.client.subscribe('media:a', {}, { recoverable: false, rewind: 3 });
  const offsets: number[] = [];
  const recovered: RecoveredEvent[] = [];
  sub.on('publication', (p) => offsets.push(p.offset));
  sub.on('recovered', (r) => recovered.push(r));
  const [hist] = h.sock.ops('history');
  assert.deepEqual([hist.channel, hist.limit, h.sock.ops('subscribe').length], ['media:a', 1, 0], 'history first, no subscribe yet');
  h.sock.reply(hist, { channel: 'media:a', epoch: 'e1', offset: 10, publications: [] });
  const first = await waitFor(() => h.sock.ops('subscribe')[0], 'subscribe');
  assert.deepEqual(first.since, { offset: 7, epoch: 'e1' });
  h.sock.reply(first, { channel: 'media:a', epoch: 'e1', offset: 10, recovered: true, replayed: 3 });
  h.sock.push(pub('media:a', 8), pub('media:a', 9), pub('media:a', 10), pub('media:a', 11));
  await sub.ready;
  assert.deepEqual(offsets, [8, 9, 10, 11]);

  // A short outage: the live edge moved by one, so it resumes from what it delivered.
  h.sock.serverClose(1006);
  const sock2 = await reconnectedSocket(h, 1);
  sock2.reply(await waitFor(() => sock2.ops('history')[0], 'history'), { channel: 'media:a', epoch: 'e1', offset: 12, publications: [] });
  const second = await waitFor(() => sock2.ops('subscribe')[0], 'resubscribe');
  assert.deepEqual(second.since, { offset: 11, epoch: 'e1' });
  sock2.reply(second, { channel: 'media:a', epoch: 'e1', offset: 12, recovered: true, replayed: 1 });
  sock2.push(pub('media:a', 12));

  // A new epoch (the stream restarted): rewind from its live edge, whatever the old offsets were.
  sock2.serverClose(1006);
  const sock3 = await reconnectedSocket(h, 2);
  sock3.reply(await waitFor(() => sock3.ops('history')[0], 'history'), { channel: 'media:a', epoch: 'e2', offset: 5, publications: [] });
  const third = await waitFor(() => sock3.ops('subscribe')[0], 'resubscribe');
  assert.deepEqual(third.since, { offset: 2, epoch: 'e2' });
  sock3.reply(third, { channel: 'media:a', epoch: 'e2', offset: 5, recovered: true, replayed: 3 });
  sock3.push(pub('media:a', 3), pub('media:a', 4), pub('media:a', 5));
  assert.deepEqual(offsets, [8, 9, 10, 11, 12, 3, 4, 5]);
  assert.deepEqual(recovered, [{ recovered: true, replayed: 1 }, { recovered: false, replayed: 3 }]);
  assert.equal(sub.epoch, 'e2');
  h.client.close();
});

test('rewind: must be an integer >= 0', () => {
  const client = new AirwavesClient({ url: 'ws://hub.test/ws', WebSocket: fakeWebSocket().Ctor });
  assert.throws(() => client.subscribe('media:a', {}, { rewind: -1 }), /"rewind" must be an integer >= 0/);
  assert.throws(() => client.subscribe('media:b', {}, { rewind: 1.5 }), TypeError);
  client.close();
});

// ------------------------------------------------------------------------------------------------
// A starting app's refusals (app_starting) are retried

test('retryDelay: the server hint is a floor spread upward by jitter; without one, jittered exponential backoff', () => {
  assert.equal(retryDelay(1, 1000, { jitter: 0.5 }, () => 0), 1000);
  assert.equal(retryDelay(3, 1000, { jitter: 0.5 }, () => 1), 1500, 'never earlier than the hint, whatever the attempt');
  assert.equal(retryDelay(1, 9000, { maxDelayMs: 4000 }, () => 1), 9000, 'a hint above maxDelayMs is still honoured');
  assert.equal(retryDelay(1, undefined, { jitter: 0 }, () => 0), 500, 'default 500 ms without a hint');
  assert.deepEqual([1, 2, 3, 4, 5].map((a) => retryDelay(a, undefined, { jitter: 0 }, () => 0)), [500, 1000, 2000, 4000, 4000]);
  assert.equal(retryDelay(1, Number.NaN, { jitter: 0 }, () => 0), 500, 'a bad hint counts as none');
});

test('StartingRetry: only app_starting, until maxWaitMs after the first refusal; reset starts a new streak', () => {
  let now = 0;
  const retry = new StartingRetry({ ...DEFAULT_STARTING_RETRY, maxWaitMs: 2500, jitter: 0 }, () => now, () => 0);
  const starting = new AirwavesClientError('app_starting', 'desk is starting', undefined, 1000);
  assert.equal(retry.next(new AirwavesClientError('forbidden', 'no')), undefined, 'a final refusal is not retried');
  assert.equal(retry.next(starting), 1000);
  now = 1000;
  assert.equal(retry.next(starting), 1000);
  now = 2000;
  assert.equal(retry.next(starting), undefined, 'the next try would land after maxWaitMs');
  assert.equal(retry.attempts, 2);
  retry.reset();
  assert.equal(retry.next(starting), 1000);
  assert.equal(new StartingRetry(false).next(starting), undefined, 'startingRetry: false surfaces it at once');
});

const QUICK_RETRY = { startingRetry: { initialDelayMs: 5, maxDelayMs: 20, jitter: 0 } };

test('app_starting: a subscribe is sent again after the hint and becomes ready, with no error on the way', async () => {
  const h = await connectedClient(QUICK_RETRY);
  const errors: string[] = [];
  const sub = h.client.subscribe('desk:room-1', { error: (e) => errors.push(e.code) });
  const first = h.sock.ops('subscribe')[0];
  const refusedAt = Date.now();
  h.sock.push({ id: first.id, ok: false, error: { code: 'app_starting', message: 'desk is starting', retryAfterMs: 40 } });
  const second = await waitFor(() => h.sock.ops('subscribe')[1], 'the subscribe sent again');
  assert.ok(Date.now() - refusedAt >= 35, 'not before the server hint');
  assert.ok(second.id > first.id);
  assert.equal(sub.state, 'subscribing');
  h.sock.reply(second, { channel: 'desk:room-1', epoch: 'e', offset: 4 });
  assert.equal((await sub.ready).offset, 4);
  assert.deepEqual(errors, []);
  assert.equal(h.client.subscription('desk:room-1'), sub);
  h.client.close();
});

test('app_starting: past maxWaitMs the subscribe fails as before (ready rejects, error emitted, subscription removed)', async () => {
  // One retry 20 ms after the first refusal; the second refusal comes at least 20 ms in, and a
  // further try 20 ms later would land past maxWaitMs (30 ms): it fails then, whatever the load.
  const h = await connectedClient({ startingRetry: { maxWaitMs: 30, initialDelayMs: 20, maxDelayMs: 20, jitter: 0 } });
  const errors: string[] = [];
  const sub = h.client.subscribe('desk:room-1', { error: (e) => errors.push(e.code) });
  for (let n = 0; n < 2; n++) {
    const cmd = await waitFor(() => h.sock.ops('subscribe')[n], `subscribe try ${n + 1}`);
    h.sock.fail(cmd, 'app_starting', 'desk is starting');
  }
  await assert.rejects(sub.ready, { code: 'app_starting' });
  assert.deepEqual(errors, ['app_starting']);
  assert.equal(h.client.subscription('desk:room-1'), undefined);
  await sleep(40);
  assert.equal(h.sock.ops('subscribe').length, 2, 'nothing is sent after giving up');
  h.client.close();
});

test('app_starting: publish and history are sent again (refused means not accepted); other refusals reject at once', async () => {
  const h = await connectedClient(QUICK_RETRY);
  const published = h.client.publish('desk:room-1', { text: 'hi' });
  const history = h.client.history('desk:room-1', { limit: 1 });
  h.sock.fail(h.sock.ops('publish')[0], 'app_starting', 'desk is starting');
  h.sock.fail(h.sock.ops('history')[0], 'app_starting', 'desk is starting');
  const again = await waitFor(() => h.sock.ops('publish')[1], 'the publish sent again');
  assert.deepEqual({ ...again, id: 0 }, { ...h.sock.ops('publish')[0], id: 0 }, 'the same command under a new id');
  h.sock.reply(again, { offset: 1, epoch: 'e' });
  assert.deepEqual(await published, { offset: 1, epoch: 'e' });
  h.sock.reply(await waitFor(() => h.sock.ops('history')[1], 'history sent again'), { channel: 'desk:room-1', epoch: 'e', offset: 1, publications: [] });
  assert.equal((await history).offset, 1);
  const refused = h.client.publish('desk:room-1', 2);
  h.sock.fail(h.sock.ops('publish')[2], 'forbidden', 'no');
  await assert.rejects(refused, { code: 'forbidden' });
  await sleep(30);
  assert.equal(h.sock.ops('publish').length, 3);
  h.client.close();
});

test('app_starting: startingRetry false rejects at once; close() rejects a command waiting to be sent again', async () => {
  const off = await connectedClient({ startingRetry: false });
  const p = off.client.publish('desk:room-1', 1);
  off.sock.fail(off.sock.ops('publish')[0], 'app_starting', 'desk is starting');
  await assert.rejects(p, { code: 'app_starting' });
  off.client.close();

  const h = await connectedClient({ startingRetry: { initialDelayMs: 10_000, jitter: 0 } });
  const waiting = h.client.publish('desk:room-1', 1);
  h.sock.fail(h.sock.ops('publish')[0], 'app_starting', 'desk is starting');
  await sleep(5);
  h.client.close();
  await assert.rejects(waiting, { code: 'closed' });
});

// ------------------------------------------------------------------------------------------------
// Emitter

test('TypedEmitter: on/once/off', () => {
  const e = new TypedEmitter<{ n: number }>();
  const seen: string[] = [];
  const onN = (n: number) => seen.push(`on ${n}`);
  e.on('n', onN).once('n', (n) => seen.push(`once ${n}`));
  assert.equal(e.emit('n', 1), true);
  e.emit('n', 2);
  e.off('n', onN);
  assert.equal(e.emit('n', 3), false);
  assert.deepEqual(seen, ['on 1', 'once 1', 'on 2']);
  assert.equal(e.listenerCount('n'), 0);
});
