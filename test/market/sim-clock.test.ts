/**
 * The venue simulator's one-second clock (heartbeats, per-second faults) runs while its market
 * moves: a simulated market standing still sends nothing on a subscribed Coinbase or Kraken
 * connection (an idle server is not woken twice a second by itself), a moving one heartbeats each
 * second, and a planned per-second fault keeps the clock running even when the market stands still.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { VenueSimulator } from '../../src/apps/market/simulator/server.js';
import { DEFAULT_SYMBOLS, venueSymbol } from '../../src/apps/market/types.js';
import { waitUntil } from './harness.js';

const symbols = DEFAULT_SYMBOLS.slice(0, 1);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A raw connection that counts the heartbeats it receives. */
async function heartbeatCounter(url: string, subscribe: string | null): Promise<{ ws: WebSocket; count: () => number }> {
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  let beats = 0;
  ws.on('message', (data) => {
    const msg = JSON.parse(data.toString()) as { channel?: string };
    if (msg.channel === 'heartbeat' || msg.channel === 'heartbeats') beats++;
  });
  if (subscribe) ws.send(subscribe);
  return { ws, count: () => beats };
}

test('Coinbase and Kraken heartbeat each second while the market moves, and not at all while it stands still', { timeout: 60_000 }, async () => {
  const sim = new VenueSimulator({ symbols, updatesPerSecond: 0 });
  const urls = await sim.listen();
  const coinbase = await heartbeatCounter(urls.coinbase.ws, JSON.stringify({ type: 'subscribe', channel: 'heartbeats', product_ids: [venueSymbol.coinbase(symbols[0]!)] }));
  const kraken = await heartbeatCounter(urls.kraken.ws, null);
  try {
    assert.equal(sim.ticking, false, 'no clock while the market stands still');
    await sleep(2_500);
    assert.deepEqual([coinbase.count(), kraken.count()], [0, 0], 'no heartbeat from a still market');

    sim.market.setRate(1);
    assert.equal(sim.ticking, true, 'the clock starts with the walk');
    await waitUntil(() => coinbase.count() >= 2 && kraken.count() >= 2, 20_000, 'heartbeats once the market moves');

    sim.market.setRate(3);
    assert.equal(sim.ticking, true, 'a new rate keeps the clock');
    sim.market.setRate(0);
    assert.equal(sim.ticking, false, 'the clock stops with the walk');
    const after = [coinbase.count(), kraken.count()];
    await sleep(2_500);
    assert.deepEqual([coinbase.count(), kraken.count()], after, 'no heartbeat once the market stopped');
  } finally {
    coinbase.ws.terminate();
    kraken.ws.terminate();
    await sim.close();
  }
  assert.equal(sim.ticking, false, 'closed: no clock');
});

test('a planned per-second fault keeps the clock running on a still market', { timeout: 60_000 }, async () => {
  const sim = new VenueSimulator({ symbols, updatesPerSecond: 0, faults: { kraken: { disconnectPerSecond: 1 } } });
  const urls = await sim.listen();
  try {
    assert.equal(sim.ticking, true);
    const ws = new WebSocket(urls.kraken.ws);
    const closed = new Promise((resolve) => ws.once('close', resolve));
    await closed; // disconnected by the fault within a tick or two
  } finally {
    await sim.close();
  }
});
