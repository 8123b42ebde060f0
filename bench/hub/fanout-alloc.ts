/**
 * @module bench/hub/fanout-alloc
 * Bytes the hub allocates per publication to fan it out, beside the one-frame `ws` loop writing
 * the same frame to the same server-side sockets: a figure the load on a shared machine does not
 * move (unlike latency), and the one that sets how often a scavenge lands inside a fan-out — at
 * 25k–50k deliveries/s one such scavenge in a 5 s step is the step's p99 (docs/benchmarks.md,
 * "The 25k–50k tail").
 *
 * How: the hub in-process (test/helpers/server.ts, memory engine), N subscribers on one channel
 * (ws clients in this process), then P publications through `hub.publishSync`, each flushed
 * (one `setImmediate`) before the next; then the same P times, the loop: the publication's wire
 * frame written with `socket.write` to every server-side socket. V8's sampling heap profiler runs
 * throughout, every sample kept (minor and major GC's dead too); a sample is charged to the hub
 * when its stack passes through src/hub/, to the loop when it passes through `oneFrameLoop`.
 *
 * Keep the subscribers at a few hundred: they read in this same process, and at 1,000 they fall
 * behind, their sockets back up, the hub stops writing to them (its blocked-socket path) and its
 * figure drops below the loop's for that reason alone (94 B per subscriber measured so, against
 * 380 B at 200 for the same build).
 *
 * Usage: `npx tsx bench/hub/fanout-alloc.ts [--clients 200] [--publications 100] [--sites]`
 * (`--sites`: the hub's largest allocation sites, by allocating function and nearest hub frame).
 */
import { Session } from 'node:inspector';
import type { Socket } from 'node:net';
import { parseArgs } from 'node:util';
import { RawClient, startServer } from '../../test/helpers/server.js';
import { numberOption } from './options.js';

interface ProfileNode {
  callFrame: { functionName: string; url: string };
  selfSize: number;
  children: ProfileNode[];
}

const { values } = parseArgs({ options: { clients: { type: 'string' }, publications: { type: 'string' }, sites: { type: 'boolean' } } });
const clients = Math.round(numberOption('clients', values.clients, 200, 1, 500));
const publications = Math.round(numberOption('publications', values.publications, 100, 10, 100_000));

const post = <T>(session: Session, method: string, params: object = {}) =>
  new Promise<T>((resolve, reject) => session.post(method, params, (err, result) => (err ? reject(err) : resolve(result as T))));
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The loop of bench/hub/peer-ws-server.ts `--one-frame`: the envelope framed once, written to every socket. */
function oneFrameLoop(sockets: Socket[], offset: number, data: unknown): void {
  const payload = Buffer.from(JSON.stringify({ channel: 'bench:a', offset, data }));
  const frame = Buffer.concat([Buffer.from([0x81, 126, payload.length >> 8, payload.length & 255]), payload]);
  for (const s of sockets) s.write(frame);
}

/** Sampled bytes whose stack passes through a frame `match` accepts. */
function bytesUnder(node: ProfileNode, match: (n: ProfileNode) => boolean, inside = false): number {
  const here = inside || match(node);
  let bytes = here ? node.selfSize : 0;
  for (const child of node.children) bytes += bytesUnder(child, match, here);
  return bytes;
}

const server = await startServer({
  publishRatePerSecond: 1_000_000,
  commandRatePerSecond: 1_000_000,
  maxConnectionsPerIp: 1_000_000,
  namespaces: [{ name: 'bench', publish: 'anonymous', subscribe: 'anonymous', historySize: 1000 }] as never,
});
const serverSockets: Socket[] = [];
server.http.server.on('upgrade', (_req, socket: Socket) => serverSockets.push(socket));
const subs: RawClient[] = [];
for (let i = 0; i < clients; i += 100) {
  subs.push(...(await Promise.all(Array.from({ length: Math.min(100, clients - i) }, () => RawClient.open(server.wsUrl)))));
}
for (const s of subs) await s.request('subscribe', { channel: 'bench:a' });
// Subscribers keep nothing they are sent: only their reading costs (outside src/hub, not counted).
for (const s of subs) s.ws.removeAllListeners('message');
const data = { text: 'x'.repeat(160) };
for (let i = 0; i < 50; i++) {
  server.hub.publishSync('bench:a', data); // warm-up: optimised code, grown arrays
  await turn();
}

const session = new Session();
session.connect();
await post(session, 'HeapProfiler.startSampling', { samplingInterval: 512, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
for (let i = 0; i < publications; i++) {
  server.hub.publishSync('bench:a', data);
  await turn();
}
for (let i = 0; i < publications; i++) {
  oneFrameLoop(serverSockets, i, data);
  await turn();
}
const { profile } = await post<{ profile: { head: ProfileNode } }>(session, 'HeapProfiler.stopSampling');
session.disconnect();

const hub = bytesUnder(profile.head, (n) => n.callFrame.url.includes('/src/hub/'));
const loop = bytesUnder(profile.head, (n) => n.callFrame.functionName === 'oneFrameLoop');
const perPublication = (bytes: number) => Math.round(bytes / publications);
console.log(`${clients} subscribers, ${publications} publications each (sampling heap profiler, 512-byte interval)`);
console.log(`hub  (publishSync + delivery + flush pass): ${perPublication(hub)} bytes allocated per publication, ${(perPublication(hub) / clients).toFixed(1)} per subscriber`);
console.log(`loop (frame once, socket.write to each):     ${perPublication(loop)} bytes allocated per publication, ${(perPublication(loop) / clients).toFixed(1)} per subscriber`);
for (const s of subs) s.close();
await server.close();

/** With --sites: where the hub's bytes go (the allocating function and the nearest hub frame above it). */
if (process.argv.includes('--sites')) {
  const sites = new Map<string, number>();
  const walk = (node: ProfileNode, hubFrame: string | null) => {
    const f = node.callFrame;
    const here = f.url.includes('/src/hub/') ? `${f.functionName} (${f.url.split('/').pop()})` : hubFrame;
    if (here && node.selfSize > 0) {
      const key = `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-1)[0] || '(native)'}  <  ${here}`;
      sites.set(key, (sites.get(key) ?? 0) + node.selfSize);
    }
    for (const c of node.children) walk(c, here);
  };
  walk(profile.head, null);
  for (const [site, bytes] of [...sites].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`${String(Math.round(bytes / publications)).padStart(8)} B/publication  ${site}`);
}
