/**
 * A venue that floods: faster than snapshots arrive, and faster than we read. The diff buffer
 * kept while a book waits for its snapshot is bounded, every diff it drops is counted, a snapshot
 * older than what is kept is refetched (never applied over a hole), and a gateway hit by a burst
 * of 30,000 updates in one go stays up and ends with the true book.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TruthBook } from '../../src/apps/market/simulator/truth.js';
import { BinanceBookSync, MAX_BUFFERED } from '../../src/apps/market/venues/binance/sync.js';
import { noCounters, type MarketSink } from '../../src/apps/market/venues/sink.js';
import { VenueSimulator } from '../../src/apps/market/simulator/server.js';
import { MarketGateway } from '../../src/apps/market/gateway.js';
import { createRegistry } from '../../src/core/metrics.js';
import { DEFAULT_SYMBOLS } from '../../src/apps/market/types.js';
import { waitUntil } from './harness.js';

const flat = (levels: [string, string][]) => levels.flatMap(([p, q]) => [Number(p), Number(q)]);

test('a flood while the snapshot is in flight: bounded buffer, each dropped diff counted, stale snapshot refetched, then the true book', () => {
  const truth = new TruthBook(DEFAULT_SYMBOLS[0], 3);
  let overflow = 0;
  let requests = 0;
  const stale: string[] = [];
  const sink: MarketSink = { book() {}, trade() {}, bbo() {}, status() {} };
  const counters = { ...noCounters, bufferOverflow: () => overflow++, resync: (_v: string, reason: string) => stale.push(reason) };
  const sync = new BinanceBookSync('BTC-USDT', sink, counters, () => requests++);
  sync.start();
  const total = MAX_BUFFERED + 15_000;
  type Snap = { id: number; bids: number[]; asks: number[] };
  const snaps = new Map<number, Snap>();
  for (let i = 1; i <= total; i++) {
    const c = truth.step(i);
    const conv = (l: number[]) => l.flatMap((v, k) => (k % 2 === 0 ? [Number(truth.price(v))] : [Number(truth.qty(v))]));
    sync.onDiff(c.firstId, c.lastId, conv(c.bids), conv(c.asks), c.ts, c.ts);
    if (i === 5_000 || i === 20_000) snaps.set(i, { id: truth.updateId, bids: flat(truth.levels('bid')), asks: flat(truth.levels('ask')) });
  }
  assert.equal(sync.buffered, MAX_BUFFERED, 'the buffer is bounded');
  assert.equal(overflow, total - MAX_BUFFERED, 'every dropped diff is counted');
  assert.equal(sync.live, false);

  const before = requests;
  const early = snaps.get(5_000)!;
  const late = snaps.get(20_000)!;
  sync.onSnapshot(early.id, early.bids, early.asks);
  assert.equal(sync.live, false, 'a snapshot older than every kept diff is never applied');
  assert.deepEqual(stale, ['stale_snapshot']);
  assert.equal(requests, before + 1, 'and a fresh one is asked for');

  sync.onSnapshot(late.id, late.bids, late.asks);
  assert.equal(sync.live, true);
  assert.deepEqual(sync.book.depth(10_000), truth.depth(), 'the kept diffs bridge the snapshot to the true book');
});

test('a burst of 30,000 updates at once: the gateway stays up, counts every message and ends with the true book', async () => {
  const symbols = DEFAULT_SYMBOLS.slice(0, 1);
  const sim = new VenueSimulator({ symbols, updatesPerSecond: 0 });
  const urls = await sim.listen();
  const registry = createRegistry(false);
  // The simulator shares this process: writing the flood blocks the loop for seconds on a loaded
  // machine, which the silence watchdog would (rightly) take for a dead connection.
  const gateway = new MarketGateway({ symbols, venues: { binance: urls.binance }, registry, publish: () => {}, silenceMs: 600_000 });
  try {
    gateway.start();
    sim.market.step(5, ['binance']);
    await waitUntil(() => gateway.dispatcher.health.get('binance:BTC-USDT')?.status === 'live', 20_000, 'book live');
    const received = async () => (await gateway.metrics.messagesTotal.get()).values.reduce((s, v) => s + v.value, 0);
    const before = await received();
    const sentBefore = sim.faults.binance.sent;
    for (let i = 0; i < 30; i++) sim.market.step(1_000, ['binance']); // written to the socket far faster than it is read
    const flood = sim.faults.binance.sent - sentBefore;
    assert.ok(flood >= 30_000, `the venue sent ${flood} messages`);
    await waitUntil(() => gateway.book('binance', 'BTC-USDT')?.venueSeq === sim.market.truth('binance', 'BTC-USDT')!.updateId, 120_000, 'the gateway worked through the flood');
    assert.equal((await received()) - before, flood, 'every message read and counted');
    assert.deepEqual(gateway.book('binance', 'BTC-USDT')!.depth(10_000), sim.market.truth('binance', 'BTC-USDT')!.depth());
    assert.equal(gateway.dispatcher.health.get('binance:BTC-USDT')?.status, 'live', 'no resync was needed: nothing was lost');
  } finally {
    await gateway.close();
    await sim.close();
  }
});
