/**
 * @module test/hub/fanout-alloc
 * A fan-out allocates, per subscriber, no more than the socket write itself does: measured with
 * V8's sampling heap profiler (every sample kept, minor-GC dead included) beside the one-frame
 * loop writing the same size of frame to the same server-side sockets in the same process. The
 * bytes allocated per publication set how often a scavenge lands inside a fan-out, and at
 * 25k–50k deliveries/s one such scavenge in a step is the step's p99 (docs/benchmarks.md).
 * Before the hub's per-flush write list kept its capacity it allocated ~1.4× the loop's bytes
 * per subscriber (a new backing store per write); now it allocates less than the loop.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Session } from 'node:inspector';
import type { Socket } from 'node:net';
import { RawClient, startServer, until } from '../helpers/server.js';

interface ProfileNode {
  callFrame: { functionName: string; url: string };
  selfSize: number;
  children: ProfileNode[];
}

const SUBSCRIBERS = 100;
const PUBLICATIONS = 60;

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

function bytesUnder(node: ProfileNode, match: (n: ProfileNode) => boolean, inside = false): number {
  const here = inside || match(node);
  let bytes = here ? node.selfSize : 0;
  for (const child of node.children) bytes += bytesUnder(child, match, here);
  return bytes;
}

/** The reference: bench/hub/peer-ws-server.ts `--one-frame`, one frame written to every socket. */
function oneFrameLoop(sockets: Socket[], frame: Buffer): void {
  for (const s of sockets) s.write(frame);
}

test('a fan-out allocates no more per subscriber than the one-frame loop', { timeout: 120_000 }, async () => {
  const server = await startServer({ namespaces: [{ name: 'bench', publish: 'anonymous', subscribe: 'anonymous', historySize: 100 }] as never });
  const sockets: Socket[] = [];
  server.http.server.on('upgrade', (_req, socket: Socket) => sockets.push(socket));
  const subs = await Promise.all(Array.from({ length: SUBSCRIBERS }, () => RawClient.open(server.wsUrl)));
  const session = new Session();
  try {
    for (const s of subs) assert.equal((await s.request('subscribe', { channel: 'bench:a' })).ok, true);
    for (const s of subs) s.ws.removeAllListeners('message');
    const data = { text: 'x'.repeat(160) };
    for (let i = 0; i < 20; i++) {
      server.hub.publishSync('bench:a', data);
      await turn();
    }
    const payload = Buffer.from(JSON.stringify({ channel: 'bench:a', offset: 1, data }));
    const frame = Buffer.concat([Buffer.from([0x81, 126, payload.length >> 8, payload.length & 255]), payload]);
    session.connect();
    const post = <T>(method: string, params: object = {}) =>
      new Promise<T>((resolve, reject) => session.post(method, params, (err, result) => (err ? reject(err) : resolve(result as T))));
    const readBefore = subs.map((s) => (s.ws as unknown as { _socket: Socket })._socket.bytesRead);
    await post('HeapProfiler.startSampling', { samplingInterval: 256, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
    for (let i = 0; i < PUBLICATIONS; i++) {
      server.hub.publishSync('bench:a', data);
      await turn();
      oneFrameLoop(sockets, frame);
      await turn();
    }
    const { profile } = await post<{ profile: { head: ProfileNode } }>('HeapProfiler.stopSampling');
    // Both really wrote every frame to every subscriber (a hub that skipped blocked sockets would allocate less).
    const minimum = 2 * PUBLICATIONS * frame.length;
    await until('every subscriber read every frame', () => subs.every((s, i) => (s.ws as unknown as { _socket: Socket })._socket.bytesRead - readBefore[i] >= minimum), 20_000, 20);
    const hubFlush = bytesUnder(profile.head, (n) => n.callFrame.url.includes('/src/hub/flush.ts'));
    const loop = bytesUnder(profile.head, (n) => n.callFrame.functionName === 'oneFrameLoop');
    assert.ok(loop > 0, 'the loop was sampled');
    const perSubscriber = (bytes: number) => bytes / PUBLICATIONS / SUBSCRIBERS;
    assert.ok(
      perSubscriber(hubFlush) <= perSubscriber(loop) * 1.1,
      `the flush pass allocated ${perSubscriber(hubFlush).toFixed(0)} B per subscriber per publication; the one-frame loop ${perSubscriber(loop).toFixed(0)} B`,
    );
  } finally {
    session.disconnect();
    for (const s of subs) s.close();
    await server.close();
  }
});
