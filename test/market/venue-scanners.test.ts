/**
 * The Coinbase level-2, ticker and trade and the Kraken book field scanners (venues/coinbase/parse.ts,
 * venues/kraken/parse.ts) read every message exactly as JSON.parse does: generated messages
 * (fast-check), messages captured from the simulator over a real socket, and malformed input,
 * which both refuse (the scanner never throws). The Kraken checksum computed without building
 * strings equals the documented string algorithm.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { WebSocket } from 'ws';
import { CoinbaseScan, scanCoinbase } from '../../src/apps/market/venues/coinbase/parse.js';
import { KrakenScan, scanKrakenBook } from '../../src/apps/market/venues/kraken/parse.js';
import { VenueSimulator } from '../../src/apps/market/simulator/server.js';
import { krakenChecksum, krakenChecksumText } from '../../src/apps/market/venues/kraken/checksum.js';
import { DEFAULT_SYMBOLS, venueSymbol } from '../../src/apps/market/types.js';
import { waitUntil } from './harness.js';

type Json = Record<string, unknown>;
const levelsOf = (events: { bids: number[]; asks: number[] }) => ({ bids: events.bids, asks: events.asks });

/** What JSON.parse makes of a Coinbase l2_data envelope, in the scanner's shape (null: refused). */
function coinbaseReference(text: string) {
  let msg: Json;
  try {
    msg = JSON.parse(text) as Json;
  } catch {
    return null;
  }
  if (typeof msg.sequence_num !== 'number' || !Number.isInteger(msg.sequence_num) || msg.sequence_num < 0 || !Array.isArray(msg.events)) return null;
  const events = (msg.events as Json[]).map((ev) => {
    const out = { snapshot: ev.type === 'snapshot', product: (ev.product_id as string) ?? '', bids: [] as number[], asks: [] as number[], bad: 0 };
    for (const u of (ev.updates as Json[]) ?? []) {
      const p = Number(u.price_level);
      const q = Number(u.new_quantity);
      if (!(p > 0) || !(q >= 0)) out.bad++;
      else (u.side === 'bid' ? out.bids : out.asks).push(p, q);
    }
    return out;
  });
  return { channel: msg.channel, seq: msg.sequence_num, ts: typeof msg.timestamp === 'string' ? Date.parse(msg.timestamp) : NaN, events };
}

function coinbaseScanned(text: string) {
  const s = new CoinbaseScan();
  if (!scanCoinbase(text, s)) return null;
  const events = s.events.slice(0, s.eventCount).map((e) => ({ snapshot: e.snapshot, product: e.product, bids: e.bids.slice(0, e.nb), asks: e.asks.slice(0, e.na), bad: e.bad }));
  return { channel: s.channel, seq: s.sequenceNum, ts: s.tsEvent, events };
}

/** What JSON.parse (and the session's Number / Date.parse) makes of a ticker or trades envelope. */
function coinbaseListReference(text: string) {
  const msg = JSON.parse(text) as Json;
  const tickers = [];
  const trades = [];
  for (const ev of msg.events as Json[]) {
    for (const t of (ev.tickers as Json[]) ?? []) tickers.push({ product: (t.product_id as string) ?? '', bid: Number(t.best_bid ?? NaN), bidQty: Number(t.best_bid_quantity ?? NaN), ask: Number(t.best_ask ?? NaN), askQty: Number(t.best_ask_quantity ?? NaN) });
    for (const t of (ev.trades as Json[]) ?? []) trades.push({ tradeId: (t.trade_id as string) ?? '', product: (t.product_id as string) ?? '', price: Number(t.price ?? NaN), size: Number(t.size ?? NaN), buy: t.side === 'BUY', time: Date.parse(t.time as string) });
  }
  return { channel: msg.channel, seq: msg.sequence_num, tickers, trades };
}

function coinbaseListScanned(text: string) {
  const s = new CoinbaseScan();
  if (!scanCoinbase(text, s)) return null;
  return { channel: s.channel, seq: s.sequenceNum, tickers: s.tickers.slice(0, s.tickerCount).map((t) => ({ ...t })), trades: s.trades.slice(0, s.tradeCount).map((t) => ({ ...t })) };
}

function krakenReference(text: string) {
  let msg: Json;
  try {
    msg = JSON.parse(text) as Json;
  } catch {
    return null;
  }
  if (msg.channel !== 'book' || !Array.isArray(msg.data)) return null;
  const entries = [];
  for (const d of msg.data as Json[]) {
    const flat = (l: unknown) => ((l as { price: unknown; qty: unknown }[]) ?? []).flatMap((x) => [x.price, x.qty]);
    const bids = flat(d.bids);
    const asks = flat(d.asks);
    if (![...bids, ...asks].every((v) => typeof v === 'number')) return null;
    entries.push({ symbol: (d.symbol as string) ?? '', bids, asks, checksum: typeof d.checksum === 'number' ? d.checksum : NaN, ts: typeof d.timestamp === 'string' ? Date.parse(d.timestamp) : NaN });
  }
  return { snapshot: msg.type === 'snapshot', entries };
}

function krakenScanned(text: string) {
  const s = new KrakenScan();
  if (!scanKrakenBook(text, s)) return null;
  return { snapshot: s.snapshot, entries: s.entries.slice(0, s.entryCount).map((e) => ({ symbol: e.symbol, ...levelsOf({ bids: e.bids.slice(0, e.nb), asks: e.asks.slice(0, e.na) }), checksum: e.checksum, ts: e.ts })) };
}

const decimal = fc.tuple(fc.integer({ min: 0, max: 99_999_999 }), fc.integer({ min: 0, max: 8 })).map(([m, scale]) => (scale === 0 ? String(m) : (m / 10 ** scale).toFixed(scale)));
const isoTime = fc.integer({ min: 1_500_000_000_000, max: 2_000_000_000_000 }).chain((ms) => fc.constantFrom(new Date(ms).toISOString(), new Date(ms).toISOString().replace('Z', '123Z'), new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z')));

test('Coinbase level-2 envelopes scan equal to JSON.parse (generated)', () => {
  const update = fc.record({ side: fc.constantFrom('bid', 'offer'), event_time: isoTime, price_level: fc.oneof(decimal, fc.constant('x'), fc.constant('-1')), new_quantity: decimal });
  const event = fc.record({ type: fc.constantFrom('snapshot', 'update'), product_id: fc.constantFrom('BTC-USD', 'ETH-USD'), updates: fc.array(update, { maxLength: 20 }) });
  fc.assert(
    fc.property(fc.nat(), isoTime, fc.array(event, { minLength: 1, maxLength: 3 }), (seq, ts, events) => {
      const text = JSON.stringify({ channel: 'l2_data', client_id: '', timestamp: ts, sequence_num: seq, events });
      assert.deepEqual(coinbaseScanned(text), coinbaseReference(text), text);
    }),
    { numRuns: 1500 },
  );
});

test('Coinbase ticker and trade envelopes scan equal to JSON.parse (generated)', () => {
  const value = fc.oneof(decimal, fc.constant('x'));
  const ticker = fc.record({ type: fc.constant('ticker'), product_id: fc.constantFrom('BTC-USD', 'ETH-USD'), price: decimal, best_bid: value, best_bid_quantity: value, best_ask: value, best_ask_quantity: value }, { requiredKeys: ['product_id', 'best_bid'] });
  const trade = fc.record({ trade_id: fc.nat().map(String), product_id: fc.constantFrom('BTC-USD', 'ETH-USD'), price: value, size: value, side: fc.constantFrom('BUY', 'SELL'), time: isoTime });
  const tickerEvents = fc.array(fc.record({ type: fc.constantFrom('snapshot', 'update'), tickers: fc.array(ticker, { maxLength: 3 }) }), { minLength: 1, maxLength: 2 });
  const tradeEvents = fc.array(fc.record({ type: fc.constant('update'), trades: fc.array(trade, { maxLength: 3 }) }), { minLength: 1, maxLength: 2 });
  fc.assert(
    fc.property(fc.nat(), isoTime, fc.oneof(tickerEvents.map((events) => ['ticker', events] as const), tradeEvents.map((events) => ['market_trades', events] as const)), (seq, ts, [channel, events]) => {
      const text = JSON.stringify({ channel, client_id: '', timestamp: ts, sequence_num: seq, events });
      assert.deepEqual(coinbaseListScanned(text), coinbaseListReference(text), text);
    }),
    { numRuns: 1500 },
  );
});

test('Kraken book messages scan equal to JSON.parse (generated)', () => {
  const lvl = fc.record({ price: fc.double({ min: 0.0001, max: 1e6, noNaN: true }).map((v) => Number(v.toFixed(4))), qty: fc.double({ min: 0, max: 1e4, noNaN: true }).map((v) => Number(v.toFixed(8))) });
  const entry = fc.record({ symbol: fc.constantFrom('BTC/USD', 'ETH/USD'), bids: fc.array(lvl, { maxLength: 12 }), asks: fc.array(lvl, { maxLength: 12 }), checksum: fc.nat({ max: 2 ** 32 - 1 }), timestamp: isoTime });
  fc.assert(
    fc.property(fc.constantFrom('snapshot', 'update'), fc.array(entry, { minLength: 1, maxLength: 2 }), (type, data) => {
      const text = JSON.stringify({ channel: 'book', type, data });
      assert.deepEqual(krakenScanned(text), krakenReference(text), text);
    }),
    { numRuns: 1500 },
  );
});

test('malformed input is refused by the scanners, never thrown', () => {
  const bad = ['', '{', '{"channel":"l2_data"', '{"channel":"l2_data","sequence_num":"1","events":[]}', '{"channel":"l2_data","sequence_num":1}', '{"channel":"l2_data","sequence_num":1,"events":[]} x', '{"channel":"l2_data","sequence_num":1,"events":[{"updates":[{"price_level":"1"]}]}', '[1,2]'];
  for (const text of bad) assert.equal(coinbaseScanned(text), null, text);
  const badKraken = ['', '{"channel":"book"', '{"channel":"book","type":"update"}', '{"channel":"book","data":[{"bids":[{"price":"x","qty":1}]}]}', '{"channel":"book","data":[{"bids":[{"price":1,"qty":}]}]}', '{"channel":"trade","data":[]}'];
  for (const text of badKraken) assert.equal(krakenScanned(text), null, text);
});

test('messages captured from the simulator over a socket scan equal to JSON.parse', async () => {
  const symbols = DEFAULT_SYMBOLS.slice(0, 2);
  const sim = new VenueSimulator({ symbols, updatesPerSecond: 0 });
  const urls = await sim.listen();
  const captured = { coinbase: [] as string[], kraken: [] as string[] };
  const open = (url: string, subscribe: unknown[], into: string[]) =>
    new Promise<WebSocket>((resolve) => {
      const ws = new WebSocket(url);
      ws.on('message', (d) => into.push(d.toString()));
      ws.on('open', () => {
        for (const s of subscribe) ws.send(JSON.stringify(s));
        resolve(ws);
      });
    });
  const products = symbols.map(venueSymbol.coinbase);
  const cb = await open(urls.coinbase.ws, ['level2', 'ticker', 'market_trades'].map((channel) => ({ type: 'subscribe', product_ids: products, channel })), captured.coinbase);
  const kr = await open(urls.kraken.ws, [{ method: 'subscribe', params: { channel: 'book', symbol: symbols.map(venueSymbol.kraken), depth: 10 } }], captured.kraken);
  try {
    await waitUntil(() => captured.coinbase.some((t) => t.includes('"snapshot"')) && captured.kraken.some((t) => t.includes('"snapshot"')), 30_000, 'snapshots');
    sim.market.step(300, ['coinbase', 'kraken']);
    await waitUntil(() => captured.coinbase.length > 200 && captured.kraken.length > 50, 30_000, 'updates');
    let l2 = 0;
    let books = 0;
    const lists = { ticker: 0, market_trades: 0 };
    for (const text of captured.coinbase) {
      for (const channel of ['ticker', 'market_trades'] as const) {
        if (!text.startsWith(`{"channel":"${channel}"`)) continue;
        lists[channel]++;
        assert.deepEqual(coinbaseListScanned(text), coinbaseListReference(text), text);
      }
      if (!text.startsWith('{"channel":"l2_data"')) continue;
      l2++;
      assert.deepEqual(coinbaseScanned(text), coinbaseReference(text), text);
    }
    assert.ok(lists.ticker > 50 && lists.market_trades > 10, `compared ${lists.ticker} tickers and ${lists.market_trades} trade envelopes`);
    for (const text of captured.kraken) {
      if (!text.startsWith('{"channel":"book"')) continue;
      books++;
      assert.deepEqual(krakenScanned(text), krakenReference(text), text);
    }
    assert.ok(l2 > 200 && books > 50, `compared ${l2} Coinbase and ${books} Kraken messages`);
  } finally {
    cb.close();
    kr.close();
    await sim.close();
  }
});

test('the Kraken checksum without strings equals the documented algorithm', () => {
  const level = (pp: number, qp: number) => fc.tuple(fc.integer({ min: 0, max: 10 ** 9 }).map((t) => Number((t / 10 ** pp).toFixed(pp))), fc.integer({ min: 0, max: 10 ** 10 }).map((l) => Number((l / 10 ** qp).toFixed(qp))));
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 8 }), fc.integer({ min: 0, max: 8 }), fc.nat(), (pp, qp, seed) => {
      const sides = fc.sample(fc.array(level(pp, qp), { maxLength: 12 }), { seed, numRuns: 2 }).map((side) => side.flat());
      assert.equal(krakenChecksum(sides[0], sides[1], pp, qp), krakenChecksumText(sides[0], sides[1], pp, qp));
    }),
    { numRuns: 2000 },
  );
  assert.equal(krakenChecksum([], [], 2, 8), krakenChecksumText([], [], 2, 8), 'an empty book');
  assert.equal(krakenChecksum([0.05, 0], [100, 1e-8], 2, 8), krakenChecksumText([0.05, 0], [100, 1e-8], 2, 8), 'zeros and leading zeros');
});
