/**
 * @module test/hub/text-frame
 * The hub frames each batch once and writes the bytes straight to the TCP socket; a real `ws`
 * client must read those frames exactly, at every length encoding RFC 6455 has (7-bit, 16-bit
 * and 64-bit lengths), interleaved with frames `ws` itself sends on the same socket.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { textFrame } from '../../src/hub/frame-encoding.js';

describe('text frames written straight to the socket', () => {
  let server: WebSocketServer;
  let port: number;

  before(async () => {
    server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    port = (server.address() as { port: number }).port;
  });

  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  test('a ws client receives every payload intact, in order, at each length encoding', async () => {
    const lengths = [0, 1, 125, 126, 127, 65_535, 65_536, 300_000];
    const payloads = lengths.map((n, i) => Buffer.from(('x' + i).repeat(n).slice(0, n)));
    server.once('connection', (ws) => {
      const socket = (ws as unknown as { _socket: Socket })._socket;
      for (const [i, p] of payloads.entries()) {
        socket.write(textFrame(p));
        // A frame from ws's own sender between ours: both must arrive, in order.
        if (i === 3) ws.send('from-ws');
      }
    });
    const client = new WebSocket(`ws://127.0.0.1:${port}`);
    const received: { text: string; binary: boolean }[] = [];
    await new Promise<void>((resolve, reject) => {
      client.on('message', (data, isBinary) => {
        received.push({ text: (data as Buffer).toString('utf8'), binary: isBinary });
        if (received.length === payloads.length + 1) resolve();
      });
      client.on('error', reject);
    });
    client.close();
    const expected = payloads.map((p) => p.toString('utf8'));
    expected.splice(4, 0, 'from-ws');
    assert.deepEqual(
      received.map((r) => r.text.length),
      expected.map((e) => e.length),
    );
    assert.deepEqual(
      received.map((r) => r.text),
      expected,
    );
    assert.ok(received.every((r) => !r.binary), 'every frame is a text frame');
  });
});
