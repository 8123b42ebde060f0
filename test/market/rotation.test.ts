/**
 * Connection rotation before the venue's connection age limit (Binance closes after 24 h),
 * shortened to 1.5 s here: every venue connection is replaced several times while the feed runs,
 * and a client of the book channels never sees it — its sequence has no hole, no book goes down
 * or resyncs, and its book equals the simulator's truth afterwards.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VenueSimulator } from '../../src/apps/market/simulator/server.js';
import { MarketGateway } from '../../src/apps/market/gateway.js';
import { DEFAULT_SYMBOLS, type VenueName } from '../../src/apps/market/types.js';
import { ClientBook, waitUntil } from './harness.js';

const VENUES: VenueName[] = ['binance', 'coinbase', 'kraken'];

test('connections rotate before their age limit with no gap visible to clients', async () => {
  const symbols = DEFAULT_SYMBOLS.slice(0, 1);
  const sim = new VenueSimulator({ symbols, updatesPerSecond: 50 });
  const urls = await sim.listen();
  const books = new Map(VENUES.map((v) => [`market:BTC-USDT@${v}.book`, new ClientBook()]));
  const health: { venue: string; status: string; reason: string }[] = [];
  const gateway = new MarketGateway({
    symbols,
    venues: urls,
    registry: null,
    rotateAfterMs: 1_500,
    silenceMs: 120_000, // under heavy load a stalled loop must not look like a dead venue: this test is about rotation
    publish: (channel, data) => {
      books.get(channel)?.apply(data as { t: string; seq: number; b: number[]; a: number[] }); // applied at once: the message is pooled
      if (channel === 'market:health') health.push(data as (typeof health)[number]);
    },
  });
  try {
    gateway.start();
    await waitUntil(() => VENUES.every((v) => gateway.dispatcher.health.get(`${v}:BTC-USDT`)?.status === 'live'), 30_000, 'books live');
    const liveAt = health.length;
    await waitUntil(() => VENUES.every((v) => gateway.adapters.get(v)!.rotations >= 3), 60_000, 'three rotations per venue');

    sim.market.stop();
    sim.market.step(2);
    await waitUntil(() => VENUES.every((v) => JSON.stringify(gateway.book(v, 'BTC-USDT')?.depth(10)) === JSON.stringify(sim.market.truth(v, 'BTC-USDT')!.depth(10))), 10_000, 'books caught up');
    await new Promise((r) => setTimeout(r, 200));
    for (const [channel, cb] of books) {
      const venue = channel.slice(channel.indexOf('@') + 1, channel.lastIndexOf('.')) as VenueName;
      const depth = venue === 'kraken' ? 10 : 10_000;
      assert.deepEqual(cb.problems, [], `${venue}: no hole in the channel's sequence across rotations`);
      assert.ok(cb.seq > 50, `${venue}: the channel kept publishing (${cb.seq})`);
      assert.deepEqual(cb.book.depth(depth), sim.market.truth(venue, 'BTC-USDT')!.depth(depth), `${venue}: the client's book equals truth after rotations`);
    }
    const trouble = health.slice(liveAt).filter((h) => h.status !== 'live');
    assert.deepEqual(trouble, [], 'no book went down or resynced while connections rotated');
  } finally {
    await gateway.close();
    await sim.close();
  }
});
