/**
 * @module bench/market/sim-process
 * The venue simulator in its own process (forked by the benchmark): `{rate}` messages on IPC set
 * the update rate per (venue, symbol); it answers with its URLs once listening and reports how
 * many updates it produced when asked.
 */
import { VenueSimulator } from '../../src/apps/market/simulator/server.js';
import { syntheticSymbols } from '../../src/apps/market/types.js';

const symbols = Number(process.argv[2] ?? 50);
const sim = new VenueSimulator({ symbols: syntheticSymbols(symbols), updatesPerSecond: 0, seed: 5 });
const urls = await sim.listen();
process.send!({ urls });
process.on('message', (m: { rate?: number; stats?: boolean; stop?: boolean }) => {
  if (m.rate !== undefined) {
    sim.market.stop();
    sim.market.updatesPerSecond = m.rate;
    if (m.rate > 0) sim.market.start();
  }
  if (m.stats) process.send!({ produced: sim.market.produced });
  if (m.stop) void sim.close().then(() => process.exit(0));
});
