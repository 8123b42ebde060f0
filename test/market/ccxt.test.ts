/**
 * A real client agrees with us: CCXT Pro's binance.watchOrderBook (npm ccxt), pointed at the
 * simulator's loopback Binance endpoints, builds the same book as our gateway, and both equal the
 * simulator's truth.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import ccxt from 'ccxt';
import { VenueSimulator } from '../../src/apps/market/simulator/server.js';
import { MarketGateway } from '../../src/apps/market/gateway.js';
import { DEFAULT_SYMBOLS } from '../../src/apps/market/types.js';
import { waitUntil } from './harness.js';

test('CCXT Pro watchOrderBook on the simulator produces the same Binance book as ours', async () => {
  const sim = new VenueSimulator({ symbols: DEFAULT_SYMBOLS, updatesPerSecond: 50 });
  const urls = await sim.listen();
  const gateway = new MarketGateway({ symbols: DEFAULT_SYMBOLS, venues: { binance: urls.binance }, publish: () => {}, registry: null });
  gateway.start();
  const exchange = new ccxt.pro.binance({ options: { fetchMarkets: { types: ['spot'] }, fetchCurrencies: false } });
  const api = exchange.urls.api as Record<string, unknown>;
  for (const key of ['public', 'private']) api[key] = `${urls.binance.rest}/api/v3`;
  (api.ws as Record<string, string>).spot = urls.binance.ws.replace('/stream', '/ws');
  await exchange.loadHttpProxyAgent();
  let stopped = false;
  try {
    let updates = 0;
    const watching = (async () => {
      while (!stopped) {
        await exchange.watchOrderBook('BTC/USDT');
        updates++;
      }
    })().catch((err: Error) => {
      if (!stopped) throw err;
    });
    // Generous waits: the machine may be loaded many times over (CI runs files in parallel).
    await waitUntil(() => updates > 50, 120_000, 'CCXT book updates');
    sim.market.stop();
    sim.market.step(1, ['binance']); // one last update both must apply
    const truth = sim.market.truth('binance', 'BTC-USDT')!;
    await waitUntil(() => gateway.book('binance', 'BTC-USDT')?.venueSeq === truth.updateId, 60_000, 'our book caught up');
    await waitUntil(() => exchange.orderbooks['BTC/USDT'].nonce === truth.updateId, 60_000, 'CCXT book caught up');
    stopped = true;
    const ccxtBook = exchange.orderbooks['BTC/USDT'];
    const pairs = (levels: number[][]) => Array.from(levels, ([p, q]) => [p, q] as [number, number]);
    const ours = gateway.book('binance', 'BTC-USDT')!.depth(10_000);
    assert.deepEqual({ bids: pairs(ccxtBook.bids), asks: pairs(ccxtBook.asks) }, ours, 'CCXT and our gateway agree');
    assert.deepEqual(ours, truth.depth(), 'and both equal the truth');
    sim.market.step(1, ['binance']); // releases the watch loop
    await Promise.race([watching, new Promise((r) => setTimeout(r, 1000))]);
  } finally {
    stopped = true; // a failed wait must not leave the watch loop's reconnect errors unhandled after the test
    await exchange.close().catch(() => {});
    await gateway.close();
    await sim.close();
  }
});
