/**
 * Malformed venue text that is valid JSON but not an object (`null`, a number, a string) and text
 * that is not JSON at all: each message is counted as malformed on its venue, and the session
 * neither throws (reading a field of `null` would take the process down from a socket handler)
 * nor stops reading: a venue on loopback sends them, then a status message, over a real socket.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocketServer } from 'ws';
import type { AddressInfo } from 'node:net';
import { MarketGateway } from '../../src/apps/market/gateway.js';
import { createRegistry } from '../../src/core/metrics.js';
import { DEFAULT_SYMBOLS } from '../../src/apps/market/types.js';

const BAD = ['null', '42', '"text"', '{"channel":', 'not json'];

for (const venue of ['kraken', 'coinbase'] as const) {
  test(`${venue}: non-object and unparsable messages are counted as malformed, never thrown`, async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((r) => wss.once('listening', r));
    let received = 0;
    wss.on('connection', (ws) => {
      ws.on('message', () => received++); // the session's subscribe requests
      for (const text of BAD) ws.send(text);
    });
    const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
    const registry = createRegistry(false);
    const gateway = new MarketGateway({ symbols: DEFAULT_SYMBOLS.slice(0, 1), venues: { [venue]: { ws: url } }, registry, publish: () => {}, silenceMs: 120_000 });
    try {
      gateway.start();
      const malformed = async () => {
        const m = (await registry.getSingleMetric('market_malformed_total')!.get()).values.find((v) => v.labels.venue === venue);
        return m?.value ?? 0;
      };
      let seen = 0;
      const start = Date.now();
      // The subscribe request and the bad messages cross on the wire: wait for both, not just the counts.
      while (((seen = await malformed()) < BAD.length || received === 0) && Date.now() - start < 60_000) await new Promise((r) => setTimeout(r, 50));
      assert.equal(seen, BAD.length, 'one count per bad message');
      assert.ok(received > 0, 'the session subscribed after its socket opened');
    } finally {
      await gateway.close();
      await new Promise((r) => wss.close(r));
    }
  });
}
