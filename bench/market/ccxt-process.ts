/**
 * @module bench/market/ccxt-process
 * CCXT Pro as the peer, in its own process: binance.watchOrderBook for `symbols` markets on the
 * simulator for `seconds`, reporting book updates/s and the latency from the venue event time
 * (`E`, which CCXT keeps in whole ms) to the update reaching the caller. It always reports (a
 * deadline ends the run even if no update ever arrives) and says which errors it met.
 */
import ccxt from 'ccxt';

const [rest, ws, symbolsArg, secondsArg] = process.argv.slice(2);
const seconds = Number(secondsArg);
const names = Array.from({ length: Number(symbolsArg) }, (_, i) => (i < 3 ? ['BTC/USDT', 'ETH/USDT', 'SOL/USDT'][i] : `S${i}/USDT`));
const exchange = new ccxt.pro.binance({ options: { fetchMarkets: { types: ['spot'] }, fetchCurrencies: false } });
const api = exchange.urls.api as Record<string, unknown>;
for (const key of ['public', 'private']) api[key] = `${rest}/api/v3`;
(api.ws as Record<string, string>).spot = ws.replace('/stream', '/ws');
await exchange.loadHttpProxyAgent();
await exchange.loadMarkets();
// Warm-up: every book has its snapshot before the window opens (as for our gateway).
await Promise.all(names.map((s) => exchange.watchOrderBook(s)));
process.send!({ started: true });
let updates = 0;
const latencies: number[] = [];
const errors: string[] = [];
let stop = false;
const started = performance.now();
const deadline = setTimeout(() => (stop = true), seconds * 1000);
await Promise.race([
  Promise.all(
    names.map(async (symbol) => {
      while (!stop) {
        try {
          const ob = await exchange.watchOrderBook(symbol);
          if (stop) break;
          updates++;
          if (typeof ob.timestamp === 'number') latencies.push(performance.timeOrigin + performance.now() - ob.timestamp);
        } catch (err) {
          if (errors.length < 10) errors.push(String((err as Error).message).slice(0, 200));
          // Wait before retrying: a watch that fails at once, retried at once, would spin on
          // microtasks and starve the deadline timer (how an earlier version never reported).
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    }),
  ),
  new Promise((r) => setTimeout(r, seconds * 1000 + 2000)), // a watcher that never resolves does not hold the report
]);
clearTimeout(deadline);
process.send!({ updates, seconds: Math.min(seconds, (performance.now() - started) / 1000), latencies, errors });
await Promise.race([exchange.close().catch(() => {}), new Promise((r) => setTimeout(r, 2000))]);
process.exit(0);
