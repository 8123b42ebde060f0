/**
 * @module bench/market/book-watcher
 * Our side of the CCXT comparison, in its own process like CCXT: one WebSocket client subscribed
 * to the same Binance book channels CCXT watches, for `seconds`, counting book updates and the
 * latency from the venue event time (`te`) to arrival here. The event time is truncated to whole
 * ms exactly as CCXT keeps it, so both columns carry the same bias.
 */
import { WebSocket } from 'ws';

const [url, symbolsArg, secondsArg] = process.argv.slice(2);
const names = Array.from({ length: Number(symbolsArg) }, (_, i) => (i < 3 ? ['BTC-USDT', 'ETH-USDT', 'SOL-USDT'][i] : `S${i}-USDT`));
const ws = new WebSocket(url, { perMessageDeflate: false });
let counting = false;
let updates = 0;
const latencies: number[] = [];
const TE = /"te":([\d.]+)/;
ws.on('open', () => {
  names.forEach((s, i) => ws.send(JSON.stringify({ id: i + 1, op: 'subscribe', channel: `market:${s}@binance.book` })));
  process.send!({ started: true });
  counting = true;
  setTimeout(() => {
    counting = false;
    process.send!({ updates, seconds: Number(secondsArg), latencies, errors: [] });
    ws.terminate();
    process.exit(0);
  }, Number(secondsArg) * 1000);
});
ws.on('message', (data) => {
  const now = performance.timeOrigin + performance.now();
  if (!counting) return;
  for (const line of data.toString().split('\n')) {
    if (!line.includes('"offset"') || !line.includes('"t":"delta"')) continue;
    updates++;
    const m = TE.exec(line);
    if (m) latencies.push(now - Math.floor(Number(m[1])));
  }
});
ws.on('error', (err) => {
  process.send!({ updates, seconds: Number(secondsArg), latencies, errors: [err.message] });
  process.exit(1);
});
