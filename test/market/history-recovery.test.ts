/**
 * Recovery through the hub's history at the market namespace's depths, kept as bytes off the V8
 * heap (historyInBuffers): a book subscriber that reconnects within the 200 kept messages
 * recovers from its offset and its book equals the gateway's; one that was away longer is told
 * `recovered: false`, drops its book and starts again from the next snapshot, never a corrupt book;
 * a BBO channel keeps only its newest message, which a resubscribe gets as the current state.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, startServer, type Frame } from '../helpers/server.js';
import { ClientBook, waitUntil } from './harness.js';
import { MARKET_NAMESPACE } from '../../src/apps/market/index.js';
import { VenueSimulator } from '../../src/apps/market/simulator/server.js';
import { MarketGateway } from '../../src/apps/market/gateway.js';
import { DEFAULT_SYMBOLS } from '../../src/apps/market/types.js';

type BookData = { t: string; seq: number; b: number[]; a: number[] };
type Reply = Frame & { result?: { epoch: string; offset: number; recovered?: boolean; replayed?: number } };

const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const close of closers.reverse()) await close();
});

test('a book subscriber recovers from its offset within the kept history, and from a fresh snapshot past it; a BBO resubscribe gets the newest state', { timeout: 120_000 }, async () => {
  const server = await startServer({}, { apps: [] });
  closers.push(() => server.close());
  server.hub.registerNamespace(MARKET_NAMESPACE);
  const symbols = DEFAULT_SYMBOLS.slice(0, 1);
  const sim = new VenueSimulator({ symbols, updatesPerSecond: 0, venues: ['binance'] });
  const urls = await sim.listen();
  closers.push(() => sim.close());
  const gateway = new MarketGateway({ symbols, venues: { binance: urls.binance }, registry: null, publish: (channel, data, key) => server.hub.publishSync(channel, data, key === undefined ? {} : { key }) });
  closers.push(async () => void (await gateway.close()));
  gateway.start();
  const bookChannel = 'market:BTC-USDT@binance.book';
  const bboChannel = 'market:BTC-USDT@binance.bbo';
  await waitUntil(() => (gateway.book('binance', 'BTC-USDT')?.bids.size ?? 0) > 0, 60_000, 'binance snapshot');
  const gatewayDepth = () => gateway.book('binance', 'BTC-USDT')!.depth(10_000);
  /** Steps the walk until `n` more book publications went out (not every step changes the book). */
  const bookUpdates = async (n: number) => {
    const target = gateway.dispatcher.seqOf(bookChannel) + n;
    while (gateway.dispatcher.seqOf(bookChannel) < target) {
      sim.market.step(1, ['binance']);
      await new Promise((r) => setTimeout(r, 2));
    }
  };
  const settled = () => waitUntil(() => JSON.stringify(gatewayDepth()) === JSON.stringify(sim.market.truth('binance', 'BTC-USDT')!.depth(10_000)), 30_000, 'gateway book equals truth');

  // A first connection follows both channels for a while, then goes away.
  const first = await RawClient.open(server.wsUrl);
  const book = new ClientBook();
  const bookReply = (await first.request('subscribe', { channel: bookChannel })) as Reply;
  const bboReply = (await first.request('subscribe', { channel: bboChannel })) as Reply;
  assert.equal(bookReply.ok, true, JSON.stringify(bookReply));
  gateway.dispatcher.snapshotNext(); // as when watchers come back: the stream's next publication is a snapshot
  await bookUpdates(30);
  await settled();
  await first.waitFor(() => first.publications(bookChannel).at(-1)?.offset === bookReply.result!.offset + 30 && first.publications(bboChannel).length > 2, 30_000);
  for (const p of first.publications(bookChannel)) book.apply(p.data as BookData);
  assert.equal(book.started, true, 'a snapshot started the book');
  const bookAt = first.publications(bookChannel).at(-1)!.offset!;
  const bboAt = first.publications(bboChannel).at(-1)!.offset!;
  first.close();
  await first.closed;

  // Away for 50 book updates (fewer than the 200 kept): it recovers from its offset.
  await bookUpdates(50);
  await settled();
  const second = await RawClient.open(server.wsUrl);
  const recovered = (await second.request('subscribe', { channel: bookChannel, since: { offset: bookAt, epoch: bookReply.result!.epoch } })) as Reply;
  assert.equal(recovered.result?.recovered, true, JSON.stringify(recovered));
  assert.equal(recovered.result?.replayed, 50);
  const bbo = (await second.request('subscribe', { channel: bboChannel, since: { offset: bboAt, epoch: bboReply.result!.epoch } })) as Reply;
  await second.waitFor(() => second.publications(bookChannel).length === 50 && second.publications(bboChannel).length >= 1, 30_000);
  for (const p of second.publications(bookChannel)) book.apply(p.data as BookData);
  assert.deepEqual(book.problems, [], 'replayed in order, no hole, never crossed');
  assert.deepEqual(book.book.depth(10_000), gatewayDepth(), 'the recovered book equals the gateway book');
  // The BBO channel keeps one message: more than one was missed, so not recovered, but the one
  // replayed is the current state (which is all a BBO subscriber needs).
  assert.ok(bbo.result!.offset > bboAt + 1, 'several BBO publications were missed');
  assert.equal(bbo.result?.recovered, false);
  assert.equal(bbo.result?.replayed, 1);
  const latest = second.publications(bboChannel)[0].data as { bp: number; ap: number };
  const top = gatewayDepth();
  assert.deepEqual([latest.bp, latest.ap], [top.bids[0][0], top.asks[0][0]], 'the replayed BBO is the book top now');
  const secondAt = second.publications(bookChannel).at(-1)!.offset!;
  second.close();
  await second.closed;

  // Away for 250 book updates (more than the 200 kept): `recovered: false`. The client drops its
  // book and applies nothing until a snapshot (the stream publishes one at least every 5 s).
  await bookUpdates(250);
  const third = await RawClient.open(server.wsUrl);
  const lost = (await third.request('subscribe', { channel: bookChannel, since: { offset: secondAt, epoch: bookReply.result!.epoch } })) as Reply;
  assert.equal(lost.result?.recovered, false, JSON.stringify(lost));
  assert.ok(lost.result!.replayed! <= 200, 'at most the kept history is replayed');
  await new Promise((r) => setTimeout(r, 5_100));
  await bookUpdates(5);
  await settled();
  const fresh = new ClientBook();
  await third.waitFor(() => third.publications(bookChannel).at(-1)?.offset === lost.result!.offset + 5, 30_000);
  const after = third.publications(bookChannel).filter((p) => p.offset! > lost.result!.offset);
  assert.equal((after[0].data as BookData).t, 'snapshot', 'the first publication after 5 s is a fresh snapshot');
  for (const p of after) fresh.apply(p.data as BookData);
  assert.deepEqual(fresh.problems, []);
  assert.deepEqual(fresh.book.depth(10_000), gatewayDepth(), 'rebuilt from the fresh snapshot: equals the gateway book');
  third.close();
});
