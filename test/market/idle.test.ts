/**
 * The market when nobody watches: with no hub client subscribed to a market channel the embedded
 * simulator stands still (AIRWAVES_MARKET_SIM_IDLE_RATE=0) while the gateway keeps its books
 * synced; the first subscriber puts the walk back at AIRWAVES_MARKET_SIM_RATE and its first book
 * publication is a full snapshot (even when the stream published a delta just before: the wake-up
 * asks for it), after which its book equals the gateway's and the venue's; when
 * the last subscriber leaves, the walk stops again. The simulated venues heartbeat only while the
 * walk moves (test/market/sim-clock.test.ts).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient } from '../helpers/server.js';
import { ClientBook, closeMarkets, startMarket, waitUntil } from './harness.js';

after(closeMarkets);

test('idle while nobody subscribes; the first subscriber gets a snapshot and a correct book; idle again after the last leaves', { timeout: 600_000 }, async () => {
  const { server, app } = await startMarket({ marketSimRate: 50, marketSimIdleRate: 0 });
  const sim = app.simulator;
  await waitUntil(() => app.gateway.dispatcher.health.get('binance:BTC-USDT')?.status === 'live', 120_000, 'binance book live');
  assert.equal(sim.market.updatesPerSecond, 0, 'the walk stands still with nobody subscribed');
  assert.equal(sim.ticking, false, 'no venue heartbeats while the walk stands still');
  const produced = sim.market.produced;
  await new Promise((r) => setTimeout(r, 600));
  assert.equal(sim.market.produced, produced, 'no book update while idle');

  // One venue update while idle, published (to nobody) just before the first subscriber comes:
  // the stream's last snapshot is then recent, so only the wake-up's snapshot (not the periodic
  // one, every 5 s) can make the subscriber's first publication a full book.
  const channel = 'market:BTC-USDT@binance.book';
  const client = await RawClient.open(server.wsUrl);
  const seq = app.gateway.dispatcher.seqOf(channel);
  sim.market.stepTop('binance', 'BTC-USDT');
  await waitUntil(() => app.gateway.dispatcher.seqOf(channel) > seq, 60_000, 'the idle update published');
  const book = new ClientBook();
  const kinds: string[] = [];
  client.ws.on('message', () => {
    for (const f of client.pushes.splice(0)) {
      if (f.channel !== channel || !f.data) continue;
      const msg = f.data as { t: string; seq: number; b: number[]; a: number[] };
      kinds.push(msg.t);
      book.apply(msg);
    }
  });
  assert.equal((await client.request('subscribe', { channel })).ok, true);
  assert.equal(sim.market.updatesPerSecond, 50, 'the first subscriber puts the walk back');
  assert.equal(sim.ticking, true, 'and the venue heartbeats');
  await waitUntil(() => kinds.length >= 20, 120_000, 'book publications after subscribing');
  assert.equal(kinds[0], 'snapshot', 'the first publication a new watcher gets is a full book');

  // Freeze the venue, then compare: subscriber = gateway = venue truth.
  sim.market.stop();
  sim.market.stepTop('binance', 'BTC-USDT');
  const truth = sim.market.truth('binance', 'BTC-USDT')!;
  await waitUntil(() => JSON.stringify(book.book.depth(10_000)) === JSON.stringify(truth.depth(10_000)), 60_000, "the subscriber's book equals truth");
  assert.deepEqual(book.problems, []);
  assert.deepEqual(app.gateway.book('binance', 'BTC-USDT')!.depth(10_000), truth.depth(10_000));

  sim.market.setRate(50);
  client.close();
  await waitUntil(() => sim.market.updatesPerSecond === 0, 60_000, 'idle again after the last subscriber left');
  assert.equal(sim.ticking, false, 'heartbeats stop with the walk');
});
