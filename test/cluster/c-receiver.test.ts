/**
 * The cluster bench's receiver in C (bench/cluster/delivery-receiver.c, through c-receiver.ts),
 * held to the Node receiver's check (test/cluster/delivery-check.test.ts): a loopback server that
 * speaks just enough WebSocket accepts its clients, acknowledges their subscribe as the hub does,
 * and writes hand-made server frames; every lost, duplicated, reordered and stale message is caught,
 * a loss and a duplicate that cancel in the count are caught by the order check, several messages
 * per frame, several frames per write and a frame split across writes are each checked, a ping is
 * answered with a masked pong, and the Node receiver given the same bytes reports the same counts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildCReceiver, CReceiver } from '../../bench/cluster/c-receiver.js';
import { Child, type ReceiverReport } from '../../bench/hub/ipc.js';
import { monotonicUs } from '../../bench/hub/lean-socket.js';
import { dataJson, padFor } from '../../bench/hub/wire.js';

const PAD = padFor(200);
const NODE_RECEIVER = join(fileURLToPath(import.meta.url), '..', '..', '..', 'bench', 'hub', 'receiver.ts');

/** One unmasked server frame, as the hub writes it. */
function serverFrame(text: string | Buffer, opcode = 0x1): Buffer {
  const payload = Buffer.from(text);
  const header = payload.length < 126 ? Buffer.from([0x80 | opcode, payload.length]) : Buffer.from([0x80 | opcode, 126, payload.length >> 8, payload.length & 0xff]);
  return Buffer.concat([header, payload]);
}

/** The hub's envelope around one or more publications of `channel` (joined by "\n", as the hub batches them). */
function delivery(channel: string, messages: { step: number; seq: number; tUs: number }[]): Buffer {
  return serverFrame(messages.map((m) => `{"channel":"${channel}","offset":${m.seq},"ts":1765000000000,"data":${dataJson(m.step, m.seq, m.tUs, PAD)}}`).join('\n'));
}

/** Messages `list` of `step`, published 5 s before now: every latency lands above 5 s. */
const seqs = (step: number, list: number[]) => list.map((seq) => ({ step, seq, tUs: monotonicUs() - 5_000_000 }));

/** Unmasks the client frames in `bytes` (whole frames only: the receivers' frames are tiny). */
function clientFrames(bytes: Buffer): { opcode: number; text: string }[] {
  const out: { opcode: number; text: string }[] = [];
  let pos = 0;
  while (pos + 6 <= bytes.length) {
    const len = bytes[pos + 1] & 0x7f;
    const key = bytes.subarray(pos + 2, pos + 6);
    const body = Buffer.from(bytes.subarray(pos + 6, pos + 6 + len));
    for (let i = 0; i < body.length; i++) body[i] ^= key[i & 3];
    out.push({ opcode: bytes[pos] & 0x0f, text: body.toString() });
    pos += 6 + len;
  }
  return out;
}

/** A loopback server accepting WebSocket clients; `clients[i]` is the i-th to subscribe (or open, if idle). */
class FrameServer {
  readonly clients: Socket[] = [];
  readonly received: { opcode: number; text: string }[][] = [];
  private readonly server: Server;

  constructor() {
    this.server = createServer((socket) => {
      let head = Buffer.alloc(0);
      let index = -1;
      socket.on('data', (chunk: Buffer) => {
        if (index >= 0) {
          this.received[index].push(...clientFrames(chunk));
          return;
        }
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
        index = this.clients.push(socket) - 1;
        this.received.push(clientFrames(head.subarray(end + 4)));
      });
    });
  }

  async listen(): Promise<number> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return (this.server.address() as { port: number }).port;
  }

  private readonly acked = new Set<number>();

  /** Acknowledges (once) every subscribe received so far, as the hub answers `{"id":1,"op":"subscribe",…}`. */
  ackAll(): void {
    this.received.forEach((frames, i) => {
      if (this.acked.has(i) || !frames.some((f) => f.text.includes('"op":"subscribe"'))) return;
      this.acked.add(i);
      this.clients[i].write(serverFrame('{"id":1,"ok":true,"result":{}}'));
    });
  }

  close(): void {
    for (const c of this.clients) c.destroy();
    this.server.close();
  }
}

type Receiver = Pick<CReceiver, 'call' | 'stop'>;

let binary = '';
before(() => {
  binary = buildCReceiver();
});

/** A receiver (C unless told) with one client per entry of `subscriptions`, all subscribed and ready, at `step`. */
async function setup(subscriptions: (string | null)[], step: number, receiver: Receiver = new CReceiver(binary, 'c-receiver')): Promise<{ server: FrameServer; receiver: Receiver }> {
  const server = new FrameServer();
  const port = await server.listen();
  const connected = receiver.call<{ connected: number }>({ type: 'connect', kind: 'airwaves', host: '127.0.0.1', port, subscriptions, concurrency: 1 });
  // concurrency 1: clients open in index order, so the server's i-th client is the receiver's client i.
  for (let i = 0; i < subscriptions.length; i++) {
    while (server.received.length <= i || (subscriptions[i] !== null && server.received[i].length === 0)) await new Promise((r) => setTimeout(r, 5));
    server.ackAll();
  }
  assert.deepEqual(await connected, { connected: subscriptions.length });
  await receiver.call({ type: 'step', step });
  return { server, receiver };
}

/** Waits until the receiver has taken `frames` frames (handshake answers included), then asks its report. */
async function reportAfter(receiver: Receiver, frames: number, expected: Record<string, number>): Promise<ReceiverReport> {
  for (let tries = 0; tries < 400; tries++) {
    const p = await receiver.call<{ frames: number }>({ type: 'progress' });
    if (p.frames >= frames) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  return receiver.call<ReceiverReport>({ type: 'report', expected });
}

const cleanup: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanup) await c();
});

async function rig(subscriptions: (string | null)[], step: number, receiver?: Receiver) {
  const r = await setup(subscriptions, step, receiver);
  cleanup.push(() => r.receiver.stop(), () => r.server.close());
  return r;
}

const counts = (r: ReceiverReport) => [r.received, r.lost, r.duplicated, r.outOfOrder, r.stale];

test('messages 1..3 in order on both clients: nothing lost, duplicated or out of order; latency read from the bytes', async () => {
  const { server, receiver } = await rig(['bench:0', 'bench:1'], 4);
  for (let c = 0; c < 2; c++) for (const m of seqs(4, [1, 2, 3])) server.clients[c].write(delivery(`bench:${c}`, [m]));
  const r = await reportAfter(receiver, 6, { 'bench:0': 3, 'bench:1': 3 });
  assert.deepEqual(counts(r), [6, 0, 0, 0, 0]);
  assert.equal(r.frames, 6, 'the step counts its own frames only');
  assert.equal(r.histogram.count, 6);
  assert.ok(r.histogram.maxUs >= 5_000_000 && r.histogram.maxUs < 6_000_000, `latency is arrival minus the publish time (${r.histogram.maxUs} µs)`);
  assert.equal(r.connected, 2);
});

test('a lost message is counted lost, and the gap it leaves is out of order', async () => {
  const { server, receiver } = await rig(['bench:0'], 1);
  for (const m of seqs(1, [1, 3])) server.clients[0].write(delivery('bench:0', [m]));
  const r = await reportAfter(receiver, 2, { 'bench:0': 3 });
  assert.deepEqual(counts(r), [2, 1, 0, 1, 0]);
});

test('a duplicated message is counted duplicated and out of order', async () => {
  const { server, receiver } = await rig(['bench:0'], 1);
  for (const m of seqs(1, [1, 2, 2, 3])) server.clients[0].write(delivery('bench:0', [m]));
  const r = await reportAfter(receiver, 4, { 'bench:0': 3 });
  assert.deepEqual(counts(r), [4, 0, 1, 1, 0]);
});

test('two messages swapped are out of order though none is lost or duplicated', async () => {
  const { server, receiver } = await rig(['bench:0'], 1);
  for (const m of seqs(1, [1, 3, 2, 4])) server.clients[0].write(delivery('bench:0', [m]));
  const r = await reportAfter(receiver, 4, { 'bench:0': 4 });
  assert.deepEqual([r.lost, r.duplicated], [0, 0]);
  assert.ok(r.outOfOrder >= 2, `reordering seen (${r.outOfOrder})`);
});

test('a loss and a duplicate on one client that cancel out in the count are still caught by the order check', async () => {
  const { server, receiver } = await rig(['bench:0'], 1);
  for (const m of seqs(1, [1, 2, 2, 4])) server.clients[0].write(delivery('bench:0', [m]));
  const r = await reportAfter(receiver, 4, { 'bench:0': 4 });
  assert.deepEqual(counts(r), [4, 0, 0, 2, 0]);
});

test('several messages in one frame, several frames in one write and a frame split across writes are each checked', async () => {
  const { server, receiver } = await rig(['bench:1'], 2);
  server.clients[0].write(Buffer.concat([delivery('bench:1', seqs(2, [1, 2, 3])), delivery('bench:1', seqs(2, [5]))]));
  const split = delivery('bench:1', seqs(2, [6, 7]));
  server.clients[0].write(split.subarray(0, 1)); // not even the frame's length yet
  await new Promise((r) => setTimeout(r, 50));
  server.clients[0].write(split.subarray(1, 300));
  await new Promise((r) => setTimeout(r, 50));
  server.clients[0].write(split.subarray(300));
  const r = await reportAfter(receiver, 3, { 'bench:1': 7 });
  assert.deepEqual([r.received, r.frames, r.lost, r.outOfOrder], [6, 3, 1, 1]);
});

test('a message of an earlier step is stale, not counted for this one; a new step starts every count from zero', async () => {
  const { server, receiver } = await rig(['bench:0'], 7);
  server.clients[0].write(delivery('bench:0', seqs(6, [9])));
  server.clients[0].write(delivery('bench:0', seqs(7, [1])));
  let r = await reportAfter(receiver, 2, { 'bench:0': 1 });
  assert.deepEqual(counts(r), [1, 0, 0, 0, 1]);
  await receiver.call({ type: 'step', step: 8 });
  r = await receiver.call<ReceiverReport>({ type: 'report', expected: { 'bench:0': 1 } });
  assert.deepEqual([r.stale, r.received, r.lost, r.histogram.count], [0, 0, 1, 0]);
});

test('an idle client expects nothing, and a ping is answered with a masked pong carrying its payload', async () => {
  const { server, receiver } = await rig(['bench:0', null], 1);
  server.clients[1].write(serverFrame('hello', 0x9));
  server.clients[0].write(delivery('bench:0', seqs(1, [1])));
  const r = await reportAfter(receiver, 1, { 'bench:0': 1 });
  assert.deepEqual(counts(r), [1, 0, 0, 0, 0]);
  for (let tries = 0; tries < 100 && !server.received[1].length; tries++) await new Promise((res) => setTimeout(res, 5));
  assert.deepEqual(server.received[1], [{ opcode: 0xa, text: 'hello' }]);
});

test('a subscribe the server refuses fails the connect with the reason', async () => {
  const server = new FrameServer();
  const port = await server.listen();
  const receiver = new CReceiver(binary, 'c-receiver');
  cleanup.push(() => receiver.stop(), () => server.close());
  const connected = receiver.call({ type: 'connect', kind: 'airwaves', host: '127.0.0.1', port, subscriptions: ['bench:0'], concurrency: 1 });
  while (!server.received[0]?.length) await new Promise((r) => setTimeout(r, 5));
  server.clients[0].write(serverFrame('{"id":1,"ok":false,"error":{"code":"FORBIDDEN"}}'));
  await assert.rejects(connected, /client 0: subscribe refused/);
});

test('the Node receiver given the same bytes reports the same counts and histogram', async () => {
  const bytes = [
    delivery('bench:0', seqs(3, [1, 2])),
    delivery('bench:0', seqs(3, [2, 4, 5])),
    delivery('bench:0', seqs(2, [8])),
    Buffer.concat([delivery('bench:1', seqs(3, [1])), delivery('bench:1', seqs(3, [3, 2]))]),
  ];
  const reports: ReceiverReport[] = [];
  for (const receiver of [new CReceiver(binary, 'c-receiver'), new Child(NODE_RECEIVER, 'node-receiver')]) {
    const { server } = await rig(['bench:0', 'bench:1', null], 3, receiver);
    for (const b of bytes.slice(0, 3)) server.clients[0].write(b);
    server.clients[1].write(bytes[3]);
    reports.push(await reportAfter(receiver, 5, { 'bench:0': 6, 'bench:1': 2 }));
  }
  const [c, node] = reports;
  assert.deepEqual(counts(c), [8, 1, 1, 4, 1], 'the C receiver saw what was sent');
  assert.deepEqual({ ...c, histogram: null }, { ...node, histogram: null });
  assert.equal(c.histogram.count, node.histogram.count);
});
