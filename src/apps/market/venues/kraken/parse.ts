/**
 * @module apps/market/venues/kraken/parse
 * The hot-path scanner for Kraken v2 `book` messages (the bulk of the feed): type, and per entry
 * the symbol, levels flattened into reused arrays, checksum and timestamp, with no object tree.
 * Trades, heartbeats and acks are left to the session's `JSON.parse`. Equality with `JSON.parse`
 * is tested in test/market/venue-scanners.test.ts.
 * JSON.parse/JSON.stringify are banned in this file by eslint.config.js.
 */
import { JsonCursor, LBRACE, LBRACKET, RBRACE, RBRACKET } from '../json-cursor.js';

/** One book entry; reused, so copy what you keep. */
export class KrakenBookEntry {
  symbol = '';
  /** Flattened [price, qty, ...]; the first nb / na numbers are this entry's. */
  readonly bids: number[] = [];
  readonly asks: number[] = [];
  nb = 0;
  na = 0;
  checksum = NaN;
  /** Event time (ms), NaN when the entry has none (snapshots). */
  ts = NaN;
}

export class KrakenScan {
  snapshot = false;
  readonly entries: KrakenBookEntry[] = [];
  entryCount = 0;
  readonly cursor = new JsonCursor();
}

function levels(c: JsonCursor, out: number[]): number {
  let n = 0;
  c.open(LBRACKET);
  for (let first = true; c.more(RBRACKET, first); first = false) {
    let p = NaN;
    let q = NaN;
    c.open(LBRACE);
    for (let f = true; c.more(RBRACE, f); f = false) {
      c.key();
      if (c.is('price')) p = c.number();
      else if (c.is('qty')) q = c.number();
      else c.skip();
    }
    if (p !== p || q !== q) c.failed = true;
    if (n < out.length) {
      out[n] = p;
      out[n + 1] = q;
    } else out.push(p, q);
    n += 2;
  }
  return n;
}

function entry(c: JsonCursor, e: KrakenBookEntry): void {
  e.symbol = '';
  e.nb = e.na = 0;
  e.checksum = NaN;
  e.ts = NaN;
  c.open(LBRACE);
  for (let first = true; c.more(RBRACE, first); first = false) {
    c.key();
    if (c.is('symbol')) {
      c.string();
      e.symbol = c.text();
    } else if (c.is('bids')) e.nb = levels(c, e.bids);
    else if (c.is('asks')) e.na = levels(c, e.asks);
    else if (c.is('checksum')) e.checksum = c.number();
    else if (c.is('timestamp')) {
      c.string();
      e.ts = c.isoTime();
    } else c.skip();
  }
}

/** Scans one `book` message into `out`; false when it is malformed. */
export function scanKrakenBook(text: string, out: KrakenScan): boolean {
  const c = out.cursor;
  c.reset(text);
  out.snapshot = false;
  out.entryCount = 0;
  let book = false;
  let sawData = false;
  c.open(LBRACE);
  for (let first = true; c.more(RBRACE, first); first = false) {
    c.key();
    if (c.is('channel')) {
      c.string();
      book = c.is('book');
    } else if (c.is('type')) {
      c.string();
      out.snapshot = c.is('snapshot');
    } else if (c.is('data')) {
      sawData = true;
      c.open(LBRACKET);
      for (let f = true; c.more(RBRACKET, f); f = false) {
        if (out.entryCount === out.entries.length) out.entries.push(new KrakenBookEntry());
        entry(c, out.entries[out.entryCount++]);
      }
    } else c.skip();
  }
  c.skipWs();
  const ok = !c.failed && c.pos === text.length && book && sawData;
  c.release();
  return ok;
}
