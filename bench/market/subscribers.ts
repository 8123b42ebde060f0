/**
 * @module bench/market/subscribers
 * Hub subscribers in their own process (the benchmark forks several): `count` WebSocket
 * connections, each subscribed to one symbol's Binance book, its consolidated BBO and its Coinbase
 * trades. Reports publications received and two latency histograms for Binance book deltas:
 * end to end from the venue's send time (`te`, the simulator's event time, sub-ms) to arrival
 * here, and from our receive time at the gateway (`tr`). Same machine, same wall clock. Each report
 * also gives the CPU time this process used since the last one (what fan-out costs its readers).
 */
import { WebSocket } from 'ws';
import { LatencyHistogram } from '../hub/histogram.js';

const [url, countArg, symbolsArg] = process.argv.slice(2);
const count = Number(countArg);
const symbols = Number(symbolsArg);
const names = Array.from({ length: symbols }, (_, i) => (i < 3 ? ['BTC-USDT', 'ETH-USDT', 'SOL-USDT'][i] : `S${i}-USDT`));
let received = 0;
let cpuMark = process.cpuUsage();
let cpuMarkAt = performance.now();
const endToEnd = new LatencyHistogram();
const fromGateway = new LatencyHistogram();
const sockets: WebSocket[] = [];
let open = 0;
let closed = 0;
let stopping = false;
const DELTA = /"t":"delta".*?"te":([\d.]+),"tr":([\d.]+)/;
/**
 * One subscriber; a connection the server closes (its heartbeat ends a connection whose pongs a
 * starved process did not send in time) is opened again after a second, as a real client would,
 * and counted: without that, the 13:33 and 16:30 soaks measured no fan-out after the first drop.
 */
function connect(c: number): void {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  sockets[c] = ws;
  ws.on('open', () => {
    const sym = names[(c + Number(process.env.SUB_OFFSET ?? 0)) % names.length];
    let id = 1;
    for (const ch of [`market:${sym}@binance.book`, `market:${sym}@all.bbo`, `market:${sym}@coinbase.trades`]) ws.send(JSON.stringify({ id: id++, op: 'subscribe', channel: ch }));
    if (++open === count) process.send!({ ready: true });
  });
  ws.on('close', () => {
    if (stopping) return;
    closed++;
    setTimeout(() => connect(c), 1000);
  });
  ws.on('message', (data) => {
    const now = performance.timeOrigin + performance.now();
    for (const line of data.toString().split('\n')) {
      if (!line.includes('"offset"')) continue;
      received++;
      // Sample 1 in 4 publications (parsing every one would measure this process, not the server).
      if ((received & 3) !== 0) continue;
      const m = DELTA.exec(line);
      if (m) {
        endToEnd.record((now - Number(m[1])) * 1000);
        fromGateway.record((now - Number(m[2])) * 1000);
      }
    }
  });
  ws.on('error', () => {});
}
for (let c = 0; c < count; c++) connect(c);
process.on('message', (m: { report?: boolean; stop?: boolean }) => {
  if (m.report) {
    const cpu = process.cpuUsage(cpuMark);
    cpuMark = process.cpuUsage();
    const now = performance.now();
    const cpuPct = (100 * (cpu.user + cpu.system)) / Math.max(1, (now - cpuMarkAt) * 1000);
    cpuMarkAt = now;
    process.send!({ received, closed, cpuPct, endToEnd: endToEnd.snapshot(), fromGateway: fromGateway.snapshot() });
    received = 0;
    endToEnd.reset();
    fromGateway.reset();
  }
  if (m.stop) {
    stopping = true;
    for (const ws of sockets) ws.terminate();
    process.exit(0);
  }
});
// The coordinator died without sending {stop} (a failed run): do not outlive it.
process.on('disconnect', () => process.exit(0));
