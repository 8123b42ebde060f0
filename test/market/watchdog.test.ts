/**
 * The venue silence watchdog tells a dead connection from a quiet one and from our own stalled
 * event loop: a Binance stream with nothing to say stays connected (an idle probe ping, answered
 * by a pong, proves it alive), a loop blocked for several silence limits does not reconnect
 * anything (the messages that arrived meanwhile are still unread), and a venue that stops
 * answering altogether is declared silent and reconnected.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocketServer } from 'ws';
import { VenueSimulator } from '../../src/apps/market/simulator/server.js';
import { MarketGateway } from '../../src/apps/market/gateway.js';
import { createRegistry, type Registry } from '../../src/core/metrics.js';
import { DEFAULT_SYMBOLS } from '../../src/apps/market/types.js';
import { waitUntil } from './harness.js';

const symbols = DEFAULT_SYMBOLS.slice(0, 1);
const reconnects = async (registry: Registry) => (await registry.getSingleMetric('market_reconnects_total')!.get()).values.reduce((s, v) => s + v.value, 0);

test('a quiet venue is probed, not dropped, and a stalled event loop is not taken for a silent venue', async () => {
  const sim = new VenueSimulator({ symbols, updatesPerSecond: 0 }); // no updates: Binance sends nothing at all
  const urls = await sim.listen();
  const registry = createRegistry(false);
  const gateway = new MarketGateway({ symbols, venues: { binance: urls.binance, kraken: urls.kraken }, registry, publish: () => {}, silenceMs: 2_000 });
  try {
    gateway.start();
    await waitUntil(() => ['binance', 'kraken'].every((v) => gateway.dispatcher.health.get(`${v}:BTC-USDT`)?.status === 'live'), 60_000, 'books live');
    const silent: string[] = [];
    const status = gateway.dispatcher.status.bind(gateway.dispatcher);
    gateway.dispatcher.status = (e) => {
      if (e.reason.startsWith('silent')) silent.push(`${e.venue}: ${e.reason}`);
      status(e);
    };
    await new Promise((r) => setTimeout(r, 8_000)); // four silence limits without a Binance message
    const blockedUntil = performance.now() + 6_000; // three silence limits without reading anything
    while (performance.now() < blockedUntil);
    await new Promise((r) => setTimeout(r, 4_000));
    assert.deepEqual(silent, [], 'no connection was declared silent');
    assert.equal(await reconnects(registry), 0, 'no reconnect');
    assert.equal(gateway.dispatcher.health.get('binance:BTC-USDT')?.status, 'live');
  } finally {
    await gateway.close();
    await sim.close();
  }
});

test('a venue that stops answering (no messages, no pongs) is declared silent and reconnected', async () => {
  const mute = new WebSocketServer({ host: '127.0.0.1', port: 0, autoPong: false });
  await new Promise((r) => mute.once('listening', r));
  let connections = 0;
  mute.on('connection', () => connections++);
  const port = (mute.address() as { port: number }).port;
  const registry = createRegistry(false);
  const gateway = new MarketGateway({ symbols, venues: { coinbase: { ws: `ws://127.0.0.1:${port}` } }, registry, publish: () => {}, silenceMs: 1_000 });
  const reasons: string[] = [];
  const status = gateway.dispatcher.status.bind(gateway.dispatcher);
  gateway.dispatcher.status = (e) => {
    reasons.push(e.reason);
    status(e);
  };
  try {
    gateway.start();
    await waitUntil(() => connections >= 2, 60_000, 'a reconnect after silence');
    assert.ok(reasons.some((r) => /^silent for \d+ ms$/.test(r)), `declared silent: ${reasons.join('; ')}`);
    assert.ok((await reconnects(registry)) >= 1, 'the reconnect is counted');
  } finally {
    await gateway.close();
    for (const c of mute.clients) c.terminate();
    await new Promise((r) => mute.close(r));
  }
});
