/**
 * The market gateway end to end, over real sockets: the simulator's three venues (with injected
 * gaps, duplicates, reordering, stale snapshots and Kraken checksum corruption) → adapters → hub →
 * a WebSocket subscriber. Every book channel arrives in order with a gap-free seq, the book a
 * subscriber rebuilds equals the gateway's book and the simulator's truth once faults stop, Kraken
 * checksum mismatches resync, and the server shuts down within 5 s with the pools drained.
 * Whatever fails, nothing is left open (`closeMarkets` after the file, `finally` in the Kraken test).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient } from '../helpers/server.js';
import { ClientBook, closeMarkets, startMarket, waitUntil } from './harness.js';
import { VenueSimulator } from '../../src/apps/market/simulator/server.js';
import { MarketGateway } from '../../src/apps/market/gateway.js';
import { createRegistry } from '../../src/core/metrics.js';
import { DEFAULT_SYMBOLS, type VenueName } from '../../src/apps/market/types.js';

const VENUES: VenueName[] = ['binance', 'coinbase', 'kraken'];
// A test that fails half-way (or a start that fails) leaves no server, simulator or venue socket open.
after(closeMarkets);

// Its server opens PGlite: under heavy load that start alone has taken minutes (harness.ts).
test('subscribers rebuild every venue book in order and identical to simulator truth despite injected faults', { timeout: 600_000 }, async () => {
  const { server, app } = await startMarket({
    marketSimRate: 200,
    marketSimFaults: { gap: 0.01, duplicate: 0.01, reorder: 0.01, staleSnapshot: 0.2, checksumCorruption: 0.02 },
  });
  const client = await RawClient.open(server.wsUrl);
  const books = new Map<string, ClientBook>();
  const channels = VENUES.map((v) => `market:BTC-USDT@${v}.book`);
  for (const channel of channels) {
    books.set(channel, new ClientBook());
    const reply = await client.request('subscribe', { channel });
    assert.equal(reply.ok, true, JSON.stringify(reply));
  }
  let seen = 0;
  client.ws.on('message', () => {
    for (const f of client.pushes.splice(0)) {
      const book = f.channel ? books.get(f.channel) : undefined;
      if (book && f.data) {
        book.apply(f.data as { t: string; seq: number; b: number[]; a: number[] });
        seen++;
      }
    }
  });
  await waitUntil(() => seen > 1500, 120_000, 'book publications');

  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  const value = (name: string) => metrics.split('\n').filter((l) => l.startsWith(name)).reduce((s, l) => s + Number(l.split(' ').pop()), 0);
  assert.ok(value('market_gaps_total') > 0, 'gaps were detected');
  assert.ok(value('market_checksum_failures_total{venue="kraken"}') > 0, 'Kraken checksum mismatches were detected');
  assert.ok(value('market_resyncs_total') > 0, 'books were resynced');

  // Stop faults and the clock, flush anything held back, and let the books settle.
  const sim = app.simulator;
  sim.market.stop();
  for (const f of Object.values(sim.faults)) Object.assign(f.plan, { gap: 0, duplicate: 0, reorder: 0, staleSnapshot: 0, checksumCorruption: 0 });
  sim.market.step(3);
  await waitUntil(() => VENUES.every((v) => {
    const b = app.gateway.book(v, 'BTC-USDT');
    const t = sim.market.truth(v, 'BTC-USDT')!;
    return b !== undefined && b.bids.size > 0 && (v === 'kraken' ? true : b.venueSeq > 0) && JSON.stringify(b.depth(10)) === JSON.stringify(t.depth(10));
  }), 60_000, 'gateway books equal truth');
  await new Promise((r) => setTimeout(r, 300));

  for (const [i, v] of VENUES.entries()) {
    const truth = sim.market.truth(v, 'BTC-USDT')!;
    const gatewayBook = app.gateway.book(v, 'BTC-USDT')!;
    const depth = v === 'kraken' ? 10 : 10_000;
    assert.deepEqual(gatewayBook.depth(depth), truth.depth(depth), `${v}: gateway book equals truth`);
    const cb = books.get(channels[i])!;
    assert.deepEqual(cb.problems, [], `${v}: channel order`);
    assert.deepEqual(cb.book.depth(depth), truth.depth(depth), `${v}: subscriber's book equals truth`);
    const rest = (await (await fetch(`${server.url}/api/v1/market/book/BTC-USDT/${v}`)).json()) as { seq: number; b: number[] };
    assert.equal(rest.seq, cb.seq, `${v}: HTTP snapshot names the last seq the subscriber saw`);
  }
  client.close();

  const started = performance.now();
  await server.close();
  assert.ok(performance.now() - started < 5000, 'shutdown within 5 s');
  assert.equal(app.gateway.pools.list()[0].acquired, 0, 'pools drained');
});

test('a Kraken checksum mismatch resyncs that book with a fresh snapshot', async () => {
  // The gateway and the simulator alone (no server, no database to start): on a loaded machine
  // this test waits only for the updates it causes.
  const symbols = DEFAULT_SYMBOLS.slice(0, 1);
  const sim = new VenueSimulator({ symbols, updatesPerSecond: 0 });
  const urls = await sim.listen();
  const registry = createRegistry(false);
  const gateway = new MarketGateway({ symbols, venues: { kraken: urls.kraken }, registry, publish: () => {} });
  try {
    gateway.start();
    const book = () => gateway.book('kraken', 'BTC-USDT')!;
    const health = () => gateway.dispatcher.health.get('kraken:BTC-USDT')?.reason ?? '';
    await waitUntil(() => (book()?.bids.size ?? 0) > 0, 60_000, 'kraken snapshot');
    // Random-walk steps mostly move levels below the subscribed top 10, which Kraken never sends;
    // stepTop resizes the best bid, so each call is exactly one update on the Kraken feed.
    sim.market.stepTop('kraken', 'BTC-USDT');
    await waitUntil(() => book().venueSeq === 1, 60_000, 'the first kraken update');
    sim.faults.kraken.plan.checksumCorruption = 1;
    sim.market.stepTop('kraken', 'BTC-USDT', 'ask');
    sim.faults.kraken.plan.checksumCorruption = 0; // the update above is the only corrupted one
    // venueSeq was 1: only a fresh snapshot (after the mismatch cleared the book) brings it back to 0.
    await waitUntil(() => health().startsWith('snapshot applied') && book().venueSeq === 0 && book().bids.size > 0, 60_000, 'resync');
    const metrics = await registry.metrics();
    assert.match(metrics, /market_checksum_failures_total\{venue="kraken"\} 1\b/);
    assert.match(metrics, /market_resyncs_total\{venue="kraken",reason="checksum"\} 1\b/);
    assert.doesNotMatch(metrics, /market_reconnects_total\{venue="kraken"\} [1-9]/, 'resynced on the same connection');
    // After the resync the book follows the venue again: random steps, then one certain update to wait for.
    sim.market.step(5, ['kraken']);
    sim.market.stepTop('kraken', 'BTC-USDT');
    await waitUntil(() => JSON.stringify(book().depth(10)) === JSON.stringify(sim.market.truth('kraken', 'BTC-USDT')!.depth(10)), 60_000, 'kraken book equals truth');
    assert.ok(book().venueSeq >= 1, 'updates applied after the resync');
  } finally {
    await gateway.close();
    await sim.close();
  }
});

test('Kraken deltas carry the levels pushed out of depth 10 as deletions: a subscriber keeps exactly the gateway book', async () => {
  // Kraken never deletes a level that falls below the subscribed depth; the gateway cuts it. A
  // subscriber that did not see the cut kept it, and it resurfaced in its top 10 later.
  const symbols = DEFAULT_SYMBOLS.slice(0, 1);
  const sim = new VenueSimulator({ symbols, updatesPerSecond: 0 });
  const urls = await sim.listen();
  const client = new ClientBook();
  let mostLevels = 0;
  let cuts = 0;
  const gateway = new MarketGateway({
    symbols,
    venues: { kraken: urls.kraken },
    registry: null,
    publish: (channel, data) => {
      if (channel !== 'market:BTC-USDT@kraken.book') return;
      const msg = data as { t: string; seq: number; b: number[]; a: number[] };
      // A new level on a full side pushes one out: the update must cut it.
      const full = (side: 'bids' | 'asks', levels: number[]) => client.book[side].size === 10 && levels.some((p, i) => i % 2 === 0 && levels[i + 1] > 0 && client.book[side].qtyAt(p) === 0);
      if (msg.t === 'delta' && (full('bids', msg.b) || full('asks', msg.a))) cuts++;
      client.apply(msg);
      mostLevels = Math.max(mostLevels, client.book.bids.size, client.book.asks.size);
    },
  });
  try {
    gateway.start();
    const book = () => gateway.book('kraken', 'BTC-USDT')!;
    const truth = () => sim.market.truth('kraken', 'BTC-USDT')!;
    await waitUntil(() => (book()?.bids.size ?? 0) > 0, 60_000, 'kraken snapshot');
    sim.market.step(3000, ['kraken']);
    sim.market.stepTop('kraken', 'BTC-USDT'); // the last update certainly reaches the feed
    await waitUntil(() => JSON.stringify(book().depth(10)) === JSON.stringify(truth().depth(10)), 60_000, 'kraken book equals truth');
    assert.deepEqual(client.problems, [], 'channel order');
    assert.ok(cuts > 0, 'some updates pushed a level out of a full side');
    assert.ok(mostLevels <= 10, `the subscriber never held more than 10 levels a side (held ${mostLevels})`);
    assert.deepEqual(client.book.depth(100), book().depth(100), "subscriber's book equals the gateway's");
    assert.deepEqual(client.book.depth(100), truth().depth(10), "subscriber's book equals the venue's top 10");
  } finally {
    await gateway.close();
    await sim.close();
  }
});
