/**
 * @module bench/market/ccxt-process
 * CCXT Pro as the peer, in its own process: binance.watchOrderBook for `symbols` markets on the
 * simulator for `seconds`, reporting book updates/s and the latency from the venue event time
 * (`E`, ms) to the update reaching the caller.
 */
import ccxt from 'ccxt';

const [rest, ws, symbolsArg, secondsArg] = process.argv.slice(2);
const names = Array.from({ length: Number(symbolsArg) }, (_, i) => (i < 3 ? ['BTC/USDT', 'ETH/USDT', 'SOL/USDT'][i] : `S${i}/USDT`));
const exchange = new ccxt.pro.binance({ options: { fetchMarkets: { types: ['spot'] }, fetchCurrencies: false } });
const api = exchange.urls.api as Record<string, unknown>;
for (const key of ['public', 'private']) api[key] = `${rest}/api/v3`;
(api.ws as Record<string, string>).spot = ws.replace('/stream', '/ws');
await exchange.loadHttpProxyAgent();
await exchange.loadMarkets();
process.send!({ started: true });
let updates = 0;
const latencies: number[] = [];
let stop = false;
const started = Date.now();
await Promise.all(
  names.map(async (symbol) => {
    while (!stop) {
      const ob = await exchange.watchOrderBook(symbol).catch(() => null);
      if (!ob) continue;
      updates++;
      if (typeof ob.timestamp === 'number') latencies.push(Date.now() - ob.timestamp);
      if (Date.now() - started > Number(secondsArg) * 1000) stop = true;
    }
  }),
);
process.send!({ updates, seconds: (Date.now() - started) / 1000, latencies });
await exchange.close().catch(() => {});
process.exit(0);
