/**
 * @module apps/market/venues/coinbase/session
 * A Coinbase Advanced Trade connection: `level2` (a snapshot, then absolute quantities: the new
 * size of a level, "0" removes it), `ticker`, `market_trades` and `heartbeats` (which keep the
 * connection's sequence moving when markets are quiet). `sequence_num` counts every message of
 * the connection: a number below the expected one is a duplicate and dropped, a number above it
 * means messages were lost, and every level2 book is resubscribed (a fresh snapshot) — the feed
 * cannot say which product the lost message belonged to.
 */
import { OrderBook } from '../../book.js';
import { VenueSession, type SessionOptions } from '../session.js';
import { bookUpdateFor, fillUpdate, type BookUpdate } from '../sink.js';
import { venueSymbol, type SymbolSpec } from '../../types.js';
import { CoinbaseL2Event, CoinbaseScan, scanCoinbase } from './parse.js';

interface L2Update {
  side: string;
  price_level: string;
  new_quantity: string;
}
interface Envelope {
  channel?: string;
  sequence_num?: number;
  timestamp?: string;
  events?: {
    type?: string;
    product_id?: string;
    updates?: L2Update[];
    trades?: { trade_id: string; product_id: string; price: string; size: string; side: string; time: string }[];
    tickers?: { product_id: string; best_bid: string; best_bid_quantity: string; best_ask: string; best_ask_quantity: string }[];
  }[];
}

export class CoinbaseSession extends VenueSession {
  readonly venue = 'coinbase' as const;
  private readonly booksByProduct = new Map<string, { spec: SymbolSpec; book: OrderBook; live: boolean; updates: number; update: BookUpdate }>();
  private expectedSeq = -1;
  private readonly scan = new CoinbaseScan();
  /** An l2_data event read by JSON.parse (an envelope in an unexpected key order), as the scanner gives it. */
  private readonly parsedEvent = new CoinbaseL2Event();

  constructor(private readonly wsUrl: string, options: SessionOptions) {
    super(options);
    for (const spec of options.symbols) {
      const book = new OrderBook(spec.symbol);
      this.booksByProduct.set(venueSymbol.coinbase(spec), { spec, book, live: false, updates: 0, update: bookUpdateFor('coinbase', book) });
    }
  }

  protected url(): string {
    return this.wsUrl;
  }

  private subscribe(type: 'subscribe' | 'unsubscribe', channel: string): void {
    this.send(JSON.stringify({ type, product_ids: [...this.booksByProduct.keys()], channel }));
  }

  protected onOpen(): void {
    this.expectedSeq = -1;
    for (const channel of ['heartbeats', 'level2', 'market_trades', 'ticker']) this.subscribe('subscribe', channel);
  }

  books(): Iterable<OrderBook> {
    return [...this.booksByProduct.values()].map((b) => b.book);
  }

  allLive(): boolean {
    for (const b of this.booksByProduct.values()) if (!b.live) return false;
    return true;
  }

  private resyncAll(reason: string): void {
    this.options.counters.resync('coinbase', 'gap');
    for (const b of this.booksByProduct.values()) {
      b.live = false;
      b.book.clear();
      this.status(b.spec.symbol, 'resyncing', reason);
    }
    this.subscribe('unsubscribe', 'level2');
    this.subscribe('subscribe', 'level2');
  }

  /**
   * Level-2 data, tickers and trades go through the field scanner (parse.ts) when they have
   * Coinbase's usual key order (parse.ts says why tickers and trades too); heartbeats and any
   * envelope laid out differently through JSON.parse.
   */
  protected onText(text: string, tsRecv: number): void {
    if (text.startsWith('{"channel":"l2_data"') || text.startsWith('{"channel":"ticker"') || text.startsWith('{"channel":"market_trades"')) {
      const scan = this.scan;
      if (!this.scanned(scanCoinbase(text, scan)) || !this.sequence(scan.sequenceNum)) return;
      const tsEvent = scan.tsEvent === scan.tsEvent ? scan.tsEvent : tsRecv;
      for (let i = 0; i < scan.eventCount; i++) this.onLevel2(scan.events[i], scan.sequenceNum, tsEvent, tsRecv);
      for (let i = 0; i < scan.tickerCount; i++) {
        const t = scan.tickers[i];
        const b = this.booksByProduct.get(t.product);
        if (b) this.emitBbo({ type: 'bbo', venue: 'coinbase', symbol: b.spec.symbol, tsEvent, tsRecv, bidPrice: t.bid, bidQty: t.bidQty, askPrice: t.ask, askQty: t.askQty });
      }
      for (let i = 0; i < scan.tradeCount; i++) {
        const t = scan.trades[i];
        const b = this.booksByProduct.get(t.product);
        if (b) this.emitTrade({ type: 'trade', venue: 'coinbase', symbol: b.spec.symbol, tsEvent: t.time, tsRecv, tradeId: t.tradeId, price: t.price, qty: t.size, side: t.buy ? 'buy' : 'sell' });
      }
      return;
    }
    const msg = this.parsed<Envelope>(text);
    if (msg === undefined) return;
    if (typeof msg.sequence_num !== 'number' || !Array.isArray(msg.events)) {
      this.options.counters.malformed('coinbase');
      return;
    }
    if (!this.sequence(msg.sequence_num)) return;
    const tsEvent = msg.timestamp ? Date.parse(msg.timestamp) : tsRecv;
    for (const ev of msg.events) {
      if (msg.channel === 'l2_data') this.onLevel2(this.fromJson(ev), msg.sequence_num, tsEvent, tsRecv);
      else if (msg.channel === 'market_trades') {
        for (const t of ev.trades ?? []) {
          const b = this.booksByProduct.get(t.product_id);
          if (!b) continue;
          this.emitTrade({ type: 'trade', venue: 'coinbase', symbol: b.spec.symbol, tsEvent: Date.parse(t.time), tsRecv, tradeId: t.trade_id, price: Number(t.price), qty: Number(t.size), side: t.side === 'BUY' ? 'buy' : 'sell' });
        }
      } else if (msg.channel === 'ticker') {
        for (const t of ev.tickers ?? []) {
          const b = this.booksByProduct.get(t.product_id);
          if (!b) continue;
          this.emitBbo({ type: 'bbo', venue: 'coinbase', symbol: b.spec.symbol, tsEvent, tsRecv, bidPrice: Number(t.best_bid), bidQty: Number(t.best_bid_quantity), askPrice: Number(t.best_ask), askQty: Number(t.best_ask_quantity) });
        }
      }
    }
  }

  /** The connection-wide sequence: false for a duplicate (dropped); a jump resyncs every book. */
  private sequence(seq: number): boolean {
    if (this.expectedSeq >= 0 && seq < this.expectedSeq) {
      this.options.counters.duplicate('coinbase');
      return false;
    }
    const expected = this.expectedSeq;
    this.expectedSeq = seq + 1;
    if (expected >= 0 && seq > expected) {
      this.options.counters.gap('coinbase');
      this.resyncAll(`sequence gap: expected ${expected}, got ${seq}`);
    }
    return true;
  }

  private fromJson(ev: NonNullable<Envelope['events']>[number]): CoinbaseL2Event {
    const out = this.parsedEvent;
    out.snapshot = ev.type === 'snapshot';
    out.product = ev.product_id ?? '';
    out.bids.length = out.asks.length = out.nb = out.na = out.bad = 0;
    for (const u of ev.updates ?? []) {
      const p = Number(u.price_level);
      const q = Number(u.new_quantity);
      if (!(p > 0) || !(q >= 0)) out.bad++;
      else if (u.side === 'bid') out.nb = out.bids.push(p, q);
      else out.na = out.asks.push(p, q);
    }
    return out;
  }

  private onLevel2(ev: CoinbaseL2Event, seq: number, tsEvent: number, tsRecv: number): void {
    const b = this.booksByProduct.get(ev.product);
    if (!b) {
      this.options.counters.unknownSymbol('coinbase');
      return;
    }
    if (!ev.snapshot && !b.live) return; // updates before the (re)subscription snapshot
    for (let i = 0; i < ev.bad; i++) this.options.counters.malformed('coinbase');
    const { bids, asks, nb, na } = ev;
    if (ev.snapshot) {
      b.book.load(bids.slice(0, nb), asks.slice(0, na), seq);
      b.live = true;
      this.emitBook(fillUpdate(b.update, true, bids, asks, nb, na, seq, tsEvent, tsRecv));
      this.status(b.spec.symbol, 'live', 'snapshot applied');
      return;
    }
    b.book.applyLevels(bids, asks, nb, na);
    b.book.venueSeq = seq;
    if (b.book.isCrossed()) {
      this.resyncAll('crossed book after update');
      return;
    }
    this.emitBook(fillUpdate(b.update, false, bids, asks, nb, na, seq, tsEvent, tsRecv));
  }
}
