/**
 * @module test/hub/heartbeat
 * The heartbeat pings every client once per 25 s, spread over 25 slices of that interval, not in
 * one burst to every client (a burst of a thousand pings, then a thousand pongs to read, held up
 * the publication behind it: a benchmark step's p99 on its own). Checked with real WebSocket
 * clients: the first pings come within seconds of the start, to a few clients at a time, never
 * twice to one client within the interval, and a client that answers stays connected. With no
 * client connected the heartbeat timer is not armed at all (an idle hub does no work).
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, RawClient } from '../helpers/server.js';

type Server = Awaited<ReturnType<typeof startServer>>;

const CLIENTS = 50;

describe('heartbeat', () => {
  let server: Server;
  const clients: RawClient[] = [];
  const pings: number[] = new Array(CLIENTS).fill(0);
  before(async () => {
    server = await startServer({ maxConnectionsPerIp: 1000 });
    for (let i = 0; i < CLIENTS; i++) {
      const c = await RawClient.open(server.wsUrl);
      c.ws.on('ping', () => pings[i]++);
      clients.push(c);
    }
  });
  after(async () => {
    for (const c of clients) c.close();
    await server.close();
  });

  test('pings are spread over the interval, a few clients at a time, once each', async () => {
    // The first slice is due 1 s after the hub started; generous for a loaded machine.
    await clients[0].waitFor(() => pings.some((n) => n > 0), 15_000);
    const pinged = () => pings.filter((n) => n > 0).length;
    const first = pinged();
    assert.ok(first < CLIENTS / 2, `the first pings went to ${first} of ${CLIENTS} clients at once: a burst`);
    // More slices follow while the interval runs: more clients pinged, none twice.
    await clients[0].waitFor(() => pinged() > first, 15_000);
    assert.ok(pings.every((n) => n <= 1), `a client was pinged twice within 25 s: ${pings.join(',')}`);
    assert.ok(clients.every((c) => c.closeCode === undefined), 'clients that answer stay connected');
  });
});

describe('heartbeat with nobody connected', () => {
  let server: Server;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server.close();
  });
  /** The hub's heartbeat timer (private: nothing else shows whether an idle hub ticks). */
  const timer = () => (server.hub as unknown as { connections: { heartbeatTimer?: NodeJS.Timeout } }).connections.heartbeatTimer;

  test('the timer runs only while a client is connected', async () => {
    assert.equal(timer(), undefined, 'a hub nobody is connected to arms no heartbeat');
    const client = await RawClient.open(server.wsUrl);
    assert.notEqual(timer(), undefined, 'the first connection arms the heartbeat');
    const second = await RawClient.open(server.wsUrl);
    client.close();
    await second.waitFor(() => server.hub.stats().connections === 1, 15_000);
    assert.notEqual(timer(), undefined, 'it keeps running while one client is left');
    second.close();
    await new Promise<void>((resolve, reject) => {
      const deadline = Date.now() + 15_000;
      const poll = () => (server.hub.stats().connections === 0 ? resolve() : Date.now() > deadline ? reject(new Error('clients did not leave')) : setTimeout(poll, 20));
      poll();
    });
    assert.equal(timer(), undefined, 'the last one to leave disarms it');
  });
});
