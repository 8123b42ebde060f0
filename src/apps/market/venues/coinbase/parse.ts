/**
 * @module apps/market/venues/coinbase/parse
 * The hot-path scanner for Coinbase Advanced Trade messages: the envelope's `channel`,
 * `sequence_num` and `timestamp` for every message, and for `l2_data` (the bulk of the feed)
 * each event's type, product and level updates flattened into reused arrays, with no object
 * tree. Other channels (trades, tickers, heartbeats: a small share) are left to the session's
 * `JSON.parse`. Equality with `JSON.parse` is tested in test/market/venue-scanners.test.ts.
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

export class CoinbaseScan {
  channel = '';
  isLevel2 = false;
  sequenceNum = -1;
  tsEvent = NaN;
  readonly events: CoinbaseL2Event[] = [];
  eventCount = 0;
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

/** Scans one message into `out`; false when it is not a well-formed envelope. */
export function scanCoinbase(text: string, out: CoinbaseScan): boolean {
  const c = out.cursor;
  c.reset(text);
  out.channel = '';
  out.isLevel2 = false;
  out.sequenceNum = -1;
  out.tsEvent = NaN;
  out.eventCount = 0;
  let sawEvents = false;
  c.open(LBRACE);
  for (let first = true; c.more(RBRACE, first); first = false) {
    c.key();
    if (c.is('channel')) {
      c.string();
      out.isLevel2 = c.is('l2_data');
      out.channel = out.isLevel2 ? 'l2_data' : c.text();
    } else if (c.is('sequence_num')) out.sequenceNum = c.skipWs() === QUOTE ? NaN : c.number(); // a number, not a string
    else if (c.is('timestamp')) {
      c.string();
      out.tsEvent = c.isoTime();
    } else if (c.is('events')) {
      sawEvents = true;
      c.open(LBRACKET);
      for (let f = true; c.more(RBRACKET, f); f = false) {
        if (out.eventCount === out.events.length) out.events.push(new CoinbaseL2Event());
        scanEvent(c, out.events[out.eventCount++]);
      }
    } else c.skip();
  }
  c.skipWs();
  const ok = !c.failed && c.pos === text.length && sawEvents && Number.isInteger(out.sequenceNum) && out.sequenceNum >= 0;
  c.release();
  return ok;
}
