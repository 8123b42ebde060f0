/**
 * @module test/hub/one-write
 * How many socket writes a turn costs a client (hub/flush, "0." and "2."):
 * - a turn's first publication, when the previous turn that carried publications held only one,
 *   is written at once, during the publish call (light load: no queue, no wait for the pass);
 * - everything else a client is sent in a turn leaves in ONE socket write, whatever mix of
 *   channels it came from: short text publications joined into one frame, long ones and binary
 *   ones each as their own shared frame in the same writev;
 * - after a turn that held several publications, the next turn is batched whole: one write. The writes are counted with a spy on
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

describe('socket writes per client per turn', () => {
  let server: Server;
  let subs: RawClient[];
  const channels = ['chat:a', 'chat:b', 'chat:c', 'media:x'];
  const long = 'x'.repeat(3000);
  const media = new Uint8Array(4000).fill(7);
  before(async () => {
    server = await startServer({
      namespaces: [
        { name: 'chat', publish: 'anonymous', historySize: 0 },
        { name: 'media', publish: 'anonymous', binary: true, historySize: 0 },
      ] as never,
    });
    subs = await Promise.all([RawClient.open(server.wsUrl), RawClient.open(server.wsUrl), RawClient.open(server.wsUrl)]);
    for (const s of subs) for (const channel of channels) assert.equal((await s.request('subscribe', { channel })).ok, true);
    // The third subscriber also has its own channel, so its batch differs from the others'.
    assert.equal((await subs[2].request('subscribe', { channel: 'chat:own' })).ok, true);
  });
  after(async () => {
    for (const s of subs) s.close();
    await server.close();
  });

  /** Six publications in one turn (the server door reaches the memory engine without waiting on anything); waits until all arrived. */
  async function sixInOneTurn(round: number): Promise<Map<number, number>> {
    const before = subs.map((s) => ({ texts: s.pushes.length, binaries: s.binaries.length }));
    const spy = spyOnWrites(Number(new URL(server.url).port));
    try {
      const acks = [
        server.hub.publish('chat:a', { n: 1, round }),
        server.hub.publish('chat:b', { n: 2, round }),
        server.hub.publish('chat:own', { n: 3, round }),
        server.hub.publish('chat:c', { n: 4, round, long }),
        server.hub.publishBinary('media:x', media),
        server.hub.publish('chat:a', { n: 5, round }),
      ];
      await Promise.all(acks);
      for (const [n, s] of subs.entries()) {
        await s.waitFor(() => s.pushes.length - before[n]!.texts >= (n === 2 ? 5 : 4) && s.binaries.length - before[n]!.binaries >= 1, 30_000);
      }
    } finally {
      spy.restore();
    }
    for (const [n, s] of subs.entries()) {
      const mine = s.pushes.slice(before[n]!.texts).filter((f) => f.channel?.startsWith('chat:'));
      assert.deepEqual(mine.map((f) => (f.data as { n: number }).n), n === 2 ? [1, 2, 3, 4, 5] : [1, 2, 4, 5], `subscriber ${n}: every text publication, in order`);
      assert.ok(mine.every((f) => (f.data as { round: number }).round === round), `subscriber ${n}: only round ${round}`);
      assert.equal((mine.find((f) => (f.data as { n: number }).n === 4)!.data as { long: string }).long, long);
      const binary = s.binaries[s.binaries.length - 1]!;
      assert.ok(Buffer.from(decodeBinaryFrame(binary).payload).equals(Buffer.from(media)), `subscriber ${n}: the binary payload intact`);
    }
    return spy.counts;
  }

  test('after quiet turns: the first publication is written at once, the other five in ONE more write', async () => {
    const counts = await sixInOneTurn(1);
    for (const [n, s] of subs.entries()) assert.equal(counts.get(clientPort(s)), 2, `subscriber ${n}: socket writes in the turn`);
  });

  test('after a turn that held several publications: the whole turn in ONE write per client', async () => {
    const counts = await sixInOneTurn(2);
    for (const [n, s] of subs.entries()) assert.equal(counts.get(clientPort(s)), 1, `subscriber ${n}: socket writes in the turn`);
  });

  test('a lone publication after a light turn is on the socket before publishSync returns', async () => {
    // One turn with one publication (batched: the previous turn held six) makes the next one light.
    const seen = subs.map((s) => s.pushes.length);
    server.hub.publishSync('chat:b', { n: 'settle' });
    for (const [n, s] of subs.entries()) await s.waitFor(() => s.pushes.length > seen[n]!, 30_000);
    const spy = spyOnWrites(Number(new URL(server.url).port));
    try {
      server.hub.publishSync('chat:b', { n: 'now' });
      // Read synchronously: nothing has had a turn since the call.
      for (const [n, s] of subs.entries()) assert.equal(spy.counts.get(clientPort(s)), 1, `subscriber ${n}: written during the call`);
    } finally {
      spy.restore();
    }
    for (const s of subs) await s.waitFor(() => s.pushes.some((f) => (f.data as { n: unknown }).n === 'now'), 30_000);
  });
});
