/**
 * @module test/hub/flush-old-space-child
 * Run by flush-old-space.test.ts in a process of its own (the test runner's own bookkeeping in the
 * test's process allocates in old space too, ~1.5 KB per turn, and would hide what is measured):
 * a hub with 20 clients on two channels, passes of two short publications (joined into one
 * frame the clients share), bytes allocated straight into old space per pass. Prints one JSON line.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Socket } from 'node:net';
import { recordHeapFlow } from '../../bench/market/heap-flow.js';
import { RawClient, startServer, until } from '../helpers/server.js';

const CLIENTS = 20;
const PASSES = 3000;
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
setFlagsFromString('--expose-gc');
const minorGc = runInNewContext('gc') as (o: { type: 'minor' }) => void;

const server = await startServer({ namespaces: [{ name: 'bench', publish: 'anonymous', subscribe: 'anonymous', historySize: 0 }] as never });
const subs = await Promise.all(Array.from({ length: CLIENTS }, () => RawClient.open(server.wsUrl)));
for (const s of subs) {
  for (const channel of ['bench:a', 'bench:b']) if (!(await s.request('subscribe', { channel })).ok) throw new Error(`subscribe ${channel} refused`);
  s.ws.removeAllListeners('message');
}
const data = { text: 'x'.repeat(40) }; // short: two in a row are joined into one shared frame
const pass = async () => {
  server.hub.publishSync('bench:a', data);
  server.hub.publishSync('bench:b', data);
  await turn();
};
// Warm-up: compiling and optimising the path puts its code's metadata in old space, once.
for (let i = 0; i < PASSES; i++) await pass();
// What a quiet spell does to a long-running hub: the scheduler's structures survive two
// scavenges with no pass between, and are promoted.
for (let i = 0; i < 3; i++) minorGc({ type: 'minor' });
const bytesRead = () => subs.map((s) => (s.ws as unknown as { _socket: Socket })._socket.bytesRead);
const readBefore = bytesRead();
const stop = recordHeapFlow();
for (let i = 0; i < PASSES; i++) await pass();
const flow = stop();
await until('every client read every pass', () => bytesRead().every((n, i) => n - readBefore[i] >= PASSES * 2 * 40), 20_000, 20);
console.log(JSON.stringify({ passes: PASSES, directOldBytes: flow.directOldBySpace.old_space ?? 0, promotedBytes: flow.promotedBytes }));
for (const s of subs) s.close();
await server.close();
process.exit(0);
