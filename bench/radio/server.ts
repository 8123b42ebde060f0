/**
 * @module bench/radio/server
 * The radio benchmark's server process: one Airwaves server with the radio app and one station,
 * on a random loopback port. Answers CPU and memory questions from the parent over IPC.
 */
import { createServer } from '../../src/server.js';
import { radioApp } from '../../src/apps/radio/index.js';
import { createLogger } from '../../src/core/logger.js';

const server = await createServer({
  env: {},
  apps: [radioApp],
  logger: createLogger('warn'),
  config: { port: 0, host: '127.0.0.1', radioStations: [{ id: 'bench', seed: 7, mood: 'calm' }], shutdownDrainMs: 500 },
});
const url = await server.listen();
process.send!({ type: 'ready', url });
process.on('message', (m: { type: string }) => {
  if (m.type === 'usage') process.send!({ type: 'usage', cpu: process.cpuUsage(), memory: process.memoryUsage(), at: performance.now() });
  if (m.type === 'gc') {
    (globalThis as { gc?: () => void }).gc?.();
    process.send!({ type: 'gc-done' });
  }
  if (m.type === 'stop') void server.close().then(() => process.exit(0));
});
