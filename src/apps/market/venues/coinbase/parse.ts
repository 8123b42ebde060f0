/**
 * @module apps/market/venues/coinbase/parse
 * The hot-path scanner for Coinbase Advanced Trade messages: the envelope's `channel`,
 * `sequence_num` and `timestamp` for every message; for `l2_data` (the bulk of the feed) each
 * event's type, product and level updates flattened into reused arrays; for `ticker` and
 * `market_trades` each ticker's best bid/offer and each trade into reused records — no object
 * tree. Heartbeats and anything else are left to the session's `JSON.parse`. Equality with
 * `JSON.parse` is tested in test/market/venue-scanners.test.ts.
 *
 * Why tickers and trades too, though they are not the bulk: `JSON.parse` interns every string
 * value of up to 10 characters, and V8 allocates interned strings straight in the old
 * generation. A ticker's prices and quantities ("64012.35") are such strings, mostly distinct,
 * so each parsed ticker could put up to ~5 new strings in the old generation (about 30 bytes
 * each), freed only by a mark-compact (docs/market.md, "What fills the old generation"). Read in
 * place, they are never strings at all.
 * JSON.parse/JSON.stringify are banned in this file by eslint.config.js.
 */
import { JsonCursor, LBRACE, LBRACKET, QUOTE, RBRACE, RBRACKET } from '../json-cursor.js';

/** One l2_data event; reused, so copy what you keep. */
export class CoinbaseL2Event {
  snapshot = false;
  product = '';
  /** Flattened [price, qty, ...]; the first nb / na numbers are this event's. */
  readonly bids: number[] = [];
  readonly asks: number[] = [];
  nb = 0;
  na = 0;
  /** Updates skipped: a price not > 0 or a quantity not >= 0 (the caller counts them malformed). */
  bad = 0;
}

/** One ticker of a `ticker` event; reused. Prices and quantities NaN when absent or not decimals. */
export class CoinbaseTicker {
  product = '';
  bid = NaN;
  bidQty = NaN;
  ask = NaN;
  askQty = NaN;
}

/** One trade of a `market_trades` event; reused. */
export class CoinbaseTrade {
  tradeId = '';
  product = '';
  price = NaN;
  size = NaN;
  /** The taker bought (`side` "BUY"). */
  buy = false;
  /** Trade time, ms since the epoch (NaN when absent). */
  time = NaN;
}

export class CoinbaseScan {
  channel = '';
  isLevel2 = false;
  sequenceNum = -1;
  tsEvent = NaN;
  readonly events: CoinbaseL2Event[] = [];
  eventCount = 0;
  /** `ticker` envelopes: every ticker of every event, in order. */
  readonly tickers: CoinbaseTicker[] = [];
  tickerCount = 0;
  /** `market_trades` envelopes: every trade of every event, in order. */
  readonly trades: CoinbaseTrade[] = [];
  tradeCount = 0;
  readonly cursor = new JsonCursor();
}

function put(out: number[], n: number, p: number, q: number): number {
  if (n < out.length) {
    out[n] = p;
    out[n + 1] = q;
  } else out.push(p, q);
  return n + 2;
}

function scanUpdates(c: JsonCursor, ev: CoinbaseL2Event): void {
  c.open(LBRACKET);
  for (let first = true; c.more(RBRACKET, first); first = false) {
    c.open(LBRACE);
    let bid = false;
    let p = NaN;
    let q = NaN;
    for (let f = true; c.more(RBRACE, f); f = false) {
      c.key();
      if (c.is('side')) {
        c.string();
        bid = c.is('bid');
      } else if (c.is('price_level')) p = c.number();
      else if (c.is('new_quantity')) q = c.number();
      else c.skip();
    }
    if (!(p > 0) || !(q >= 0)) ev.bad++;
    else if (bid) ev.nb = put(ev.bids, ev.nb, p, q);
    else ev.na = put(ev.asks, ev.na, p, q);
  }
}

function scanEvent(c: JsonCursor, ev: CoinbaseL2Event): void {
  ev.snapshot = false;
  ev.product = '';
  ev.nb = ev.na = ev.bad = 0;
  c.open(LBRACE);
  for (let first = true; c.more(RBRACE, first); first = false) {
    c.key();
    if (c.is('type')) {
      c.string();
      ev.snapshot = c.is('snapshot');
    } else if (c.is('product_id')) {
      c.string();
      ev.product = c.text();
    } else if (c.is('updates')) scanUpdates(c, ev);
    else c.skip();
  }
}

function scanTicker(c: JsonCursor, t: CoinbaseTicker): void {
  t.product = '';
  t.bid = t.bidQty = t.ask = t.askQty = NaN;
  c.open(LBRACE);
  for (let first = true; c.more(RBRACE, first); first = false) {
    c.key();
    if (c.is('product_id')) {
      c.string();
      t.product = c.text();
    } else if (c.is('best_bid')) t.bid = c.number();
    else if (c.is('best_bid_quantity')) t.bidQty = c.number();
    else if (c.is('best_ask')) t.ask = c.number();
    else if (c.is('best_ask_quantity')) t.askQty = c.number();
    else c.skip();
  }
}

function scanTrade(c: JsonCursor, t: CoinbaseTrade): void {
  t.tradeId = t.product = '';
  t.price = t.size = t.time = NaN;
  t.buy = false;
  c.open(LBRACE);
  for (let first = true; c.more(RBRACE, first); first = false) {
    c.key();
    if (c.is('trade_id')) {
      c.string();
      t.tradeId = c.text();
    } else if (c.is('product_id')) {
      c.string();
      t.product = c.text();
    } else if (c.is('price')) t.price = c.number();
    else if (c.is('size')) t.size = c.number();
    else if (c.is('side')) {
      c.string();
      t.buy = c.is('BUY');
    } else if (c.is('time')) {
      c.string();
      t.time = c.isoTime();
    } else c.skip();
  }
}

/** A `ticker` or `market_trades` event: its `tickers` / `trades` list into the scan's records. */
function scanListEvent(c: JsonCursor, out: CoinbaseScan, trades: boolean): void {
  c.open(LBRACE);
  for (let first = true; c.more(RBRACE, first); first = false) {
    c.key();
    if (!c.is(trades ? 'trades' : 'tickers')) {
      c.skip();
      continue;
    }
    c.open(LBRACKET);
    for (let f = true; c.more(RBRACKET, f); f = false) {
      if (trades) {
        if (out.tradeCount === out.trades.length) out.trades.push(new CoinbaseTrade());
        scanTrade(c, out.trades[out.tradeCount++]);
      } else {
        if (out.tickerCount === out.tickers.length) out.tickers.push(new CoinbaseTicker());
        scanTicker(c, out.tickers[out.tickerCount++]);
      }
    }
  }
}

/**
 * Scans one message into `out`; false when it is not a well-formed envelope. Events are read by
 * the channel named before them (`l2_data`, `ticker`, `market_trades`); another channel's events,
 * or events before any channel, are skipped.
 */
export function scanCoinbase(text: string, out: CoinbaseScan): boolean {
  const c = out.cursor;
  c.reset(text);
  out.channel = '';
  out.isLevel2 = false;
  out.sequenceNum = -1;
  out.tsEvent = NaN;
  out.eventCount = 0;
  out.tickerCount = 0;
  out.tradeCount = 0;
  let sawEvents = false;
  c.open(LBRACE);
  for (let first = true; c.more(RBRACE, first); first = false) {
    c.key();
    if (c.is('channel')) {
      c.string();
      out.isLevel2 = c.is('l2_data');
      out.channel = out.isLevel2 ? 'l2_data' : c.is('ticker') ? 'ticker' : c.is('market_trades') ? 'market_trades' : c.text();
    } else if (c.is('sequence_num')) out.sequenceNum = c.skipWs() === QUOTE ? NaN : c.number(); // a number, not a string
    else if (c.is('timestamp')) {
      c.string();
      out.tsEvent = c.isoTime();
    } else if (c.is('events')) {
      sawEvents = true;
      c.open(LBRACKET);
      for (let f = true; c.more(RBRACKET, f); f = false) {
        if (out.isLevel2) {
          if (out.eventCount === out.events.length) out.events.push(new CoinbaseL2Event());
          scanEvent(c, out.events[out.eventCount++]);
        } else if (out.channel === 'ticker' || out.channel === 'market_trades') scanListEvent(c, out, out.channel === 'market_trades');
        else c.skip();
      }
    } else c.skip();
  }
  c.skipWs();
  const ok = !c.failed && c.pos === text.length && sawEvents && Number.isInteger(out.sequenceNum) && out.sequenceNum >= 0;
  c.release();
  return ok;
}
