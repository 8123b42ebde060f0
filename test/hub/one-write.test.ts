/**
 * @module test/hub/one-write
 * Everything a client is sent in one event-loop turn leaves in ONE socket write, whatever mix of
 * channels it came from: short text publications joined into one frame, long ones and binary
 * ones each as their own shared frame in the same writev. The writes are counted with a spy on
 * the server side's net.Socket (`_write` for one buffer, `_writev` for a corked batch: each is one
 * libuv write request); the client checks it got every message intact and in order.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Socket } from 'node:net';
import { startServer, RawClient } from '../helpers/server.js';
import { decodeBinaryFrame } from '../../src/protocol/index.js';

type Server = Awaited<ReturnType<typeof startServer>>;
type Writer = (this: Socket, ...args: unknown[]) => unknown;

/** The first byte written by a `_write` (a buffer) or `_writev` (a list of { chunk }) call. */
function firstByte(name: '_write' | '_writev', args: unknown[]): number | undefined {
  const first = name === '_write' ? args[0] : (args[0] as { chunk: unknown }[])[0]?.chunk;
  return Buffer.isBuffer(first) ? first[0] : undefined;
}

/** Counts write requests per server-side socket, keyed by the client's port; the heartbeat's pings (0x89) are not counted. */
function spyOnWrites(serverPort: number): { counts: Map<number, number>; restore(): void } {
  const counts = new Map<number, number>();
  const proto = Socket.prototype as unknown as Record<'_write' | '_writev', Writer>;
  const originals = { _write: proto._write, _writev: proto._writev };
  for (const name of ['_write', '_writev'] as const) {
    const original = originals[name];
    proto[name] = function (this: Socket, ...args: unknown[]) {
      if (this.localPort === serverPort && this.remotePort !== undefined && firstByte(name, args) !== 0x89) counts.set(this.remotePort, (counts.get(this.remotePort) ?? 0) + 1);
      return original.apply(this, args);
    };
  }
  return { counts, restore: () => Object.assign(proto, originals) };
}

function clientPort(c: RawClient): number {
  return (c.ws as unknown as { _socket: Socket })._socket.localPort!;
}

describe('one socket write per client per turn', () => {
  let server: Server;
  before(async () => {
    server = await startServer({
      namespaces: [
        { name: 'chat', publish: 'anonymous', historySize: 0 },
        { name: 'media', publish: 'anonymous', binary: true, historySize: 0 },
      ] as never,
    });
  });
  after(() => server.close());

  test('short and long text and binary publications on four channels reach each subscriber in one write', async () => {
    const channels = ['chat:a', 'chat:b', 'chat:c', 'media:x'];
    const subs = await Promise.all([RawClient.open(server.wsUrl), RawClient.open(server.wsUrl), RawClient.open(server.wsUrl)]);
    for (const s of subs) for (const channel of channels) assert.equal((await s.request('subscribe', { channel })).ok, true);
    // The third subscriber also has its own channel, so its batch differs from the others'.
    assert.equal((await subs[2].request('subscribe', { channel: 'chat:own' })).ok, true);
    const port = Number(new URL(server.url).port);
    const long = 'x'.repeat(3000);
    const media = new Uint8Array(4000).fill(7);
    const spy = spyOnWrites(port);
    try {
      // All in one turn: the server door reaches the memory engine without waiting on anything.
      const acks = [
        server.hub.publish('chat:a', { n: 1 }),
        server.hub.publish('chat:b', { n: 2 }),
        server.hub.publish('chat:own', { n: 3 }),
        server.hub.publish('chat:c', { n: 4, long }),
        server.hub.publishBinary('media:x', media),
        server.hub.publish('chat:a', { n: 5 }),
      ];
      await Promise.all(acks);
      for (const s of subs) await s.waitFor(() => s.pushes.filter((f) => f.channel?.startsWith('chat:')).length >= (s === subs[2] ? 5 : 4) && s.binaries.length >= 1, 30_000);
    } finally {
      spy.restore();
    }
    for (const [n, s] of subs.entries()) {
      const texts = s.pushes.filter((f) => f.channel?.startsWith('chat:')).map((f) => (f.data as { n: number }).n);
      assert.deepEqual(texts, n === 2 ? [1, 2, 3, 4, 5] : [1, 2, 4, 5], `subscriber ${n}: every text publication, in order`);
      assert.equal((s.pushes.find((f) => (f.data as { n: number }).n === 4)!.data as { long: string }).long, long);
      assert.equal(s.binaries.length, 1);
      assert.ok(Buffer.from(decodeBinaryFrame(s.binaries[0]!).payload).equals(Buffer.from(media)), `subscriber ${n}: the binary payload intact`);
      assert.equal(spy.counts.get(clientPort(s)), 1, `subscriber ${n}: socket writes in the turn`);
    }
    for (const s of subs) s.close();
  });
});
