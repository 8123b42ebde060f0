/**
 * @module test/client/live-edge
 * The SDK as a live media player uses it, against a real server: binary publications arrive as
 * Uint8Array payloads in offset order; `rewind` starts a subscription that many publications
 * behind the live edge; after a reconnect a subscription with `recoverable: false` starts afresh
 * near the live edge (with `rewind`) or at it (without), where a recoverable one would replay
 * everything missed; `serverClock` reads the hub's clock. Outages are made deterministic by a
 * WebSocket class that points reconnection attempts at a closed port until the test lets them in.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WS from 'ws';
import { AirwavesClient, type BinaryPublication, type RecoveredEvent, type SubscribeOptions } from '../../src/client/index.js';
import { startServer } from '../helpers/server.js';

let server: Awaited<ReturnType<typeof startServer>>;

before(async () => {
  server = await startServer();
  server.hub.registerNamespace({ name: 'media', binary: true, subscribe: 'anonymous', publish: 'server', historySize: 100, historyTtlSeconds: 60 });
});

after(async () => {
  await server?.close();
});

async function waitFor(probe: () => boolean, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Publishes `count` binary chunks; each payload is [offset-independent n, 0xAB]. Returns their offsets. */
async function publish(channel: string, count: number): Promise<number[]> {
  const offsets: number[] = [];
  for (let i = 0; i < count; i++) offsets.push((await server.hub.publishBinary(channel, new Uint8Array([i % 256, 0xab]))).offset);
  return offsets;
}

/**
 * A client whose connection the test can cut: `cut()` terminates the socket and keeps every
 * reconnection attempt failing (a closed port) until `heal()`.
 */
function player(channel: string, options: SubscribeOptions) {
  let blocked = false;
  const sockets: WS[] = [];
  class Gated extends WS {
    constructor(url: string) {
      super(blocked ? 'ws://127.0.0.1:1/ws' : url);
      sockets.push(this);
    }
  }
  const client = new AirwavesClient({ url: server.wsUrl, WebSocket: Gated, reconnect: { initialDelayMs: 20, maxDelayMs: 100, jitter: 0 } });
  const got: BinaryPublication[] = [];
  const recovered: RecoveredEvent[] = [];
  const sub = client.subscribe(channel, { binary: (b) => void got.push(b), recovered: (r) => void recovered.push(r) }, options);
  return {
    client,
    sub,
    got,
    recovered,
    offsets: () => got.map((b) => b.offset),
    async cut(): Promise<void> {
      blocked = true;
      const gone = new Promise((resolve) => client.once('disconnected', resolve));
      sockets.at(-1)!.terminate();
      await gone;
    },
    heal(): void {
      blocked = false;
    },
  };
}

test('binary publications arrive as Uint8Array payloads; rewind starts that many behind the live edge', async () => {
  const channel = 'media:first';
  const before = await publish(channel, 6);
  const p = player(channel, { rewind: 2 });
  try {
    await p.client.connect();
    await p.sub.ready;
    await waitFor(() => p.got.length >= 2, 'the rewound chunks');
    assert.deepEqual(p.offsets(), before.slice(-2), 'the last two chunks, nothing older');
    const live = await publish(channel, 2);
    await waitFor(() => p.got.length >= 4, 'live chunks');
    assert.deepEqual(p.offsets(), [...before.slice(-2), ...live]);
    for (const b of p.got) {
      assert.ok(b.payload instanceof Uint8Array, 'payload is a Uint8Array');
      assert.equal(b.payload[1], 0xab);
      assert.equal(b.channel, channel);
    }
    assert.deepEqual([...p.got[0].payload], [4, 0xab], 'the payload bytes as published (chunk 4 of 0..5)');
    assert.deepEqual(p.recovered, [], 'no recovered event on a first subscribe');
  } finally {
    p.client.close();
  }
});

test('recoverable:false with rewind: after a long outage it rejoins rewind behind the live edge, after a short one it misses nothing', async () => {
  const channel = 'media:rejoin';
  await publish(channel, 3);
  const p = player(channel, { recoverable: false, rewind: 3 });
  try {
    await p.client.connect();
    await waitFor(() => p.got.length >= 3, 'the rewound chunks');
    const [first] = await publish(channel, 1);
    await waitFor(() => p.offsets().includes(first), 'a live chunk');

    await p.cut();
    const missed = await publish(channel, 10);
    p.heal();
    await waitFor(() => p.recovered.length === 1 && p.offsets().includes(missed.at(-1)!), 'the rejoin');
    assert.deepEqual(p.recovered[0], { recovered: false, replayed: 3 }, 'seven chunks were skipped');
    assert.deepEqual(p.offsets().slice(-4), [first, ...missed.slice(-3)], 'rejoined three behind the live edge');

    await p.cut();
    const short = await publish(channel, 2);
    p.heal();
    await waitFor(() => p.recovered.length === 2 && p.offsets().includes(short.at(-1)!), 'the second rejoin');
    assert.deepEqual(p.recovered[1], { recovered: true, replayed: 2 }, 'within the rewind: it resumes from its last chunk, nothing missed');
    assert.deepEqual(p.offsets().slice(-3), [missed.at(-1), ...short], 'no chunk twice, none missing');

    const offsets = p.offsets();
    assert.ok(offsets.every((o, i) => i === 0 || o > offsets[i - 1]), `offsets increase: ${offsets.join(',')}`);
  } finally {
    p.client.close();
  }
});

test('recoverable:false without rewind rejoins at the live edge; a recoverable subscription replays what it missed', async () => {
  const channel = 'media:edge';
  const live = player(channel, { recoverable: false });
  const recovering = player(channel, {});
  try {
    await Promise.all([live.client.connect(), recovering.client.connect()]);
    await Promise.all([live.sub.ready, recovering.sub.ready]);
    await Promise.all([live.cut(), recovering.cut()]);
    const missed = await publish(channel, 5);
    live.heal();
    recovering.heal();
    await waitFor(() => live.recovered.length === 1 && recovering.recovered.length === 1, 'both resubscribed');
    const [next] = await publish(channel, 1);
    await waitFor(() => live.offsets().includes(next) && recovering.offsets().includes(next), 'the next live chunk');
    assert.deepEqual(live.offsets(), [next], 'the live player skipped what it missed');
    assert.deepEqual(live.recovered, [{ recovered: false, replayed: 0 }]);
    assert.deepEqual(recovering.offsets(), [...missed, next], 'the recoverable subscription replayed it');
    assert.deepEqual(recovering.recovered, [{ recovered: true, replayed: 5 }]);
  } finally {
    live.client.close();
    recovering.client.close();
  }
});

test('serverClock reads the hub clock within half a round trip (same machine: offset about 0)', async () => {
  const client = new AirwavesClient({ url: server.wsUrl, WebSocket: WS });
  try {
    await client.connect();
    const { offsetMs, rttMs } = await client.serverClock();
    assert.ok(rttMs >= 0, `rtt ${rttMs}`);
    assert.ok(Math.abs(offsetMs) <= rttMs / 2 + 1, `offset ${offsetMs} ms with rtt ${rttMs} ms`);
  } finally {
    client.close();
  }
});
