/**
 * @module bench/market/sim-process
 * One venue simulator in its own process (the benchmark forks one per venue, so producing the
 * feed never competes with the gateway's event loop): `argv` = symbols count and the venue it
 * steps. IPC: `{rate}` sets updates/s per symbol; `{stats}` answers `{produced, sent, cpuUs, at}` (book
 * updates stepped, feed messages written to sockets, this process's CPU time, when they were read); `{stop}` exits. Event times carry
 * sub-millisecond fractions so the benchmark can measure venue send → subscriber receive.
 * `{tape: {messages, rate, startAt}}` renders that many messages ahead and plays them at `rate`
 * msg/s, stamped as if sent from `startAt` (feed-tape.ts), answering `{taped}` once rendered;
 * `{play: at}` plays it from `at`, answering `{played}` at the end.
 */
import { VenueSimulator } from '../../src/apps/market/simulator/server.js';
import { syntheticSymbols, type VenueName } from '../../src/apps/market/types.js';
import { FeedTape } from './feed-tape.js';

const symbols = Number(process.argv[2] ?? 50);
const venue = (process.argv[3] ?? 'binance') as VenueName;
const sim = new VenueSimulator({ symbols: syntheticSymbols(symbols), updatesPerSecond: 0, seed: 5, venues: [venue], keepStaleCopies: false, preciseTime: true });
const urls = await sim.listen();
process.send!({ urls });
const tape = new FeedTape(sim, venue);
process.on('message', (m: { rate?: number; stats?: boolean; stop?: boolean; tape?: { messages: number; rate: number; startAt: number }; play?: number }) => {
  if (m.tape) {
    void tape.render(m.tape.messages, m.tape.rate, m.tape.startAt).then(() => process.send!({ taped: { messages: tape.total, renderMs: Math.round(tape.renderMs) } }));
  }
  if (m.play !== undefined) void tape.play(m.play).then(() => process.send!({ played: { messages: tape.played, maxLagMs: Math.round(tape.maxLagMs), closedTracks: tape.closedTracks } }));
  if (m.rate !== undefined) sim.market.setRate(m.rate);
  // `at` is when the counters were read, on this process's clock (performance.timeOrigin + now():
  // comparable across processes): the benchmark divides by the interval between two readings,
  // not by its own window, which a saturated gateway reads late.
  if (m.stats) {
    const cpu = process.cpuUsage();
    process.send!({ produced: sim.market.produced, sent: sim.faults[venue].sent - tape.unplayed, cpuUs: cpu.user + cpu.system, at: performance.timeOrigin + performance.now() });
  }
  if (m.stop) void sim.close().then(() => process.exit(0));
});
// The coordinator died without sending {stop} (a failed run): do not outlive it.
process.on('disconnect', () => process.exit(0));
