/**
 * @module apps/market/simulator/main
 * Runs the venue simulator alone: `npm run market:sim -- --port 9100 --rate 50 --symbols 10
 * --faults '{"gap":0.01}'`. Prints the venue URLs as JSON (ready for AIRWAVES_MARKET_VENUES).
 */
import { parseArgs } from 'node:util';
import { VenueSimulator } from './server.js';
import { syntheticSymbols } from '../types.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '9100' },
    host: { type: 'string', default: '127.0.0.1' },
    rate: { type: 'string', default: '20' },
    symbols: { type: 'string', default: '3' },
    seed: { type: 'string', default: '42' },
    faults: { type: 'string' },
  },
});
const faults = values.faults ? (JSON.parse(values.faults) as Record<string, number>) : undefined;
const sim = new VenueSimulator({
  host: values.host,
  port: Number(values.port),
  symbols: syntheticSymbols(Number(values.symbols)),
  seed: Number(values.seed),
  updatesPerSecond: Number(values.rate),
  faults: faults ? { binance: faults, coinbase: faults, kraken: faults } : {},
});
const urls = await sim.listen();
console.log(JSON.stringify(urls));
const stop = () => void sim.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
