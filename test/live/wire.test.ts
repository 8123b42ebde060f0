/**
 * @module test/live/wire
 * A shared answer written as bytes made once (apps/live/media/wire) is byte for byte what Node's
 * `writeHead` + `end` sends for the same answer (but for the Date's value): small and large
 * bodies, a 304 without one, keep-alive across requests on one connection, a client asking to
 * close, a connection's last allowed request, a HEAD request (headers, no body); and the same
 * headers array is reused while the block it made is, per second.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { once } from 'node:events';
import { WireAnswers } from '../../src/apps/live/media/wire.js';

const small = Buffer.from('#EXTM3U\n#EXT-X-VERSION:9\n'.repeat(20));
const large = Buffer.alloc(40_000, 7);
const answers: Record<string, { status: number; flat: string[]; body: Buffer | null }> = {
  small: { status: 200, flat: ['x-content-type-options', 'nosniff', 'content-type', 'application/vnd.apple.mpegurl', 'etag', '"e.1"', 'content-length', String(small.length)], body: small },
  large: { status: 200, flat: ['x-content-type-options', 'nosniff', 'content-type', 'video/iso.segment', 'content-length', String(large.length)], body: large },
  gone: { status: 304, flat: ['x-content-type-options', 'nosniff', 'etag', '"e.1"'], body: null },
};

async function serve(configure: (server: Server) => void): Promise<{ server: Server; port: number }> {
  const wire = new WireAnswers();
  const server = createServer((req, res) => {
    const [, way, name] = (req.url ?? '').split('/');
    const a = answers[name!]!;
    if (way === 'wire') return wire.write(res, a.status, a.flat, a.body);
    res.writeHead(a.status, a.flat);
    res.end(a.body ?? undefined);
  });
  configure(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as { port: number }).port };
}

/** A raw HTTP/1.1 client on one connection: each exchange's answer (head and body), read to its length. */
async function client(port: number): Promise<{ exchange(path: string, extra?: string, method?: string): Promise<string>; close(): void }> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  let text = '';
  let wake = () => {};
  socket.on('data', (chunk: Buffer) => {
    text += chunk.toString('latin1');
    wake();
  });
  return {
    /** A HEAD answer is read to its header block's end (its content-length names the body it does not send). */
    async exchange(path, extra = '', method = 'GET') {
      socket.write(`${method} ${path} HTTP/1.1\r\nHost: t\r\n${extra}\r\n`);
      for (;;) {
        const end = text.indexOf('\r\n\r\n');
        if (end >= 0) {
          const length = /\r\ncontent-length: (\d+)/i.exec(text.slice(0, end));
          const total = end + 4 + (length && method !== 'HEAD' ? Number(length[1]) : 0);
          if (text.length >= total) {
            const answer = text.slice(0, total);
            text = text.slice(total);
            return answer;
          }
        }
        // An answer that never comes (a HEAD block dropped with its body) fails here, not at the suite's timeout.
        const timer = setTimeout(() => socket.destroy(new Error(`${method} ${path}: no complete answer in 5 s (got ${JSON.stringify(text)})`)), 5000);
        await new Promise<void>((resolve, reject) => {
          wake = resolve;
          socket.once('error', reject);
        }).finally(() => clearTimeout(timer));
      }
    },
    close: () => socket.destroy(),
  };
}

const dateless = (s: string) => s.replace(/\r\nDate: [^\r]+\r\n/, '\r\nDate: D\r\n');

test('a wire answer is what writeHead + end sends, keep-alive and close alike', async () => {
  const { server, port } = await serve((s) => {
    s.keepAliveTimeout = 7000;
    s.maxRequestsPerSocket = 6;
  });
  try {
    for (const closing of [false, true]) {
      const [a, b] = await Promise.all([client(port), client(port)]);
      // Two rounds on each connection: the second reuses the block made by the first.
      for (const name of ['small', 'large', 'gone', 'small', 'large']) {
        const extra = closing ? 'Connection: close\r\n' : '';
        const viaNode = await a.exchange(`/node/${name}`, extra);
        const viaWire = await b.exchange(`/wire/${name}`, extra);
        const head = viaWire.slice(0, viaWire.indexOf('\r\n\r\n') + 4);
        assert.ok(dateless(viaWire) === dateless(viaNode), `${name}${closing ? ' (close)' : ''}: the same bytes (wire head ${JSON.stringify(head)}, Node's ${JSON.stringify(viaNode.slice(0, head.length + 20))})`);
        assert.match(head, /\r\nDate: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT\r\n/);
        if (closing) {
          assert.match(head, /\r\nConnection: close\r\n/);
          break;
        }
        assert.match(head, /\r\nConnection: keep-alive\r\nKeep-Alive: timeout=7, max=6\r\n\r\n$/);
      }
      if (!closing) {
        // The sixth request is the connection's last allowed one: Node's path, "Connection: close", from both.
        const [lastNode, lastWire] = [await a.exchange('/node/small'), await b.exchange('/wire/small')];
        assert.ok(dateless(lastWire) === dateless(lastNode), 'the last allowed request: the same bytes');
        assert.match(lastWire.slice(0, 400), /\r\nConnection: close\r\n/);
      }
      a.close();
      b.close();
    }
  } finally {
    server.closeAllConnections();
    server.close();
  }
});

test('a HEAD answer through the wire gets the GET answer\'s headers and no body, as Node sends it', async () => {
  const { server, port } = await serve((s) => (s.keepAliveTimeout = 7000));
  try {
    const [a, b] = await Promise.all([client(port), client(port)]);
    for (const name of ['small', 'large', 'gone']) {
      const viaNode = await a.exchange(`/node/${name}`, '', 'HEAD');
      const viaWire = await b.exchange(`/wire/${name}`, '', 'HEAD');
      assert.ok(viaWire.endsWith('\r\n\r\n') && viaWire.indexOf('\r\n\r\n') === viaWire.length - 4, `${name}: a header block only`);
      assert.equal(dateless(viaWire), dateless(viaNode), `${name}: the same bytes as Node's HEAD answer`);
      if (answers[name]!.body) assert.match(viaWire, new RegExp(`\\r\\ncontent-length: ${answers[name]!.body!.length}\\r\\n`));
      assert.match(viaWire, /\r\nConnection: keep-alive\r\nKeep-Alive: timeout=7\r\n\r\n$/);
    }
    // The connection stays usable: no body bytes were left on it to be read as the next answer.
    const after = await b.exchange('/wire/small');
    assert.equal(after.slice(after.indexOf('\r\n\r\n') + 4), small.toString('latin1'));
    a.close();
    b.close();
  } finally {
    server.closeAllConnections();
    server.close();
  }
});

test('the block is remade when the second changes (the Date it names)', async () => {
  const { server, port } = await serve(() => {});
  try {
    const s = await client(port);
    const first = await s.exchange('/wire/small');
    await new Promise((r) => setTimeout(r, 1100));
    const second = await s.exchange('/wire/small');
    const date = (t: string) => /\r\nDate: ([^\r]+)\r\n/.exec(t)![1];
    assert.notEqual(date(first), date(second));
    assert.ok(Math.abs(Date.parse(date(second)) - Date.now()) < 2000, 'the Date is the current second');
    s.close();
  } finally {
    server.closeAllConnections();
    server.close();
  }
});
