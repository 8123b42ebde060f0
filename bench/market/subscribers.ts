/**
 * @module bench/market/subscribers
 * Hub subscribers in their own process (the benchmark forks several): `count` WebSocket
 * connections, each subscribed to one symbol's Binance book, its consolidated BBO and its Coinbase
 * trades. Reports publications received and, for book messages, the latency from our receive
 * time at the gateway (`tr`) to arrival here (same machine, same clock).
 */
import { WebSocket } from 'ws';

const [url, countArg, symbolsArg] = process.argv.slice(2);
const count = Number(countArg);
const symbols = Number(symbolsArg);
const names = Array.from({ length: symbols }, (_, i) => (i < 3 ? ['BTC-USDT', 'ETH-USDT', 'SOL-USDT'][i] : `S${i}-USDT`));
let received = 0;
let latencies: number[] = [];
const sockets: WebSocket[] = [];
let open = 0;
for (let c = 0; c < count; c++) {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  sockets.push(ws);
  ws.on('open', () => {
    const sym = names[(c + Number(process.env.SUB_OFFSET ?? 0)) % names.length];
    let id = 1;
    for (const ch of [`market:${sym}@binance.book`, `market:${sym}@all.bbo`, `market:${sym}@coinbase.trades`]) ws.send(JSON.stringify({ id: id++, op: 'subscribe', channel: ch }));
    if (++open === count) process.send!({ ready: true });
  });
  ws.on('message', (data) => {
    const now = performance.timeOrigin + performance.now();
    for (const line of data.toString().split('\n')) {
      if (!line.includes('"offset"')) continue;
      received++;
      // Sample 1 in 8 book messages for latency (parsing every one would measure us, not the server).
      if ((received & 7) === 0) {
        const m = /"tr":([\d.]+)/.exec(line);
        if (m) latencies.push(now - Number(m[1]));
      }
    }
  });
  ws.on('error', () => {});
}
process.on('message', (m: { report?: boolean; stop?: boolean }) => {
  if (m.report) {
    process.send!({ received, latencies });
    received = 0;
    latencies = [];
  }
  if (m.stop) {
    for (const ws of sockets) ws.terminate();
    process.exit(0);
  }
});
