/**
 * @module apps/market/venues/kraken/session
 * A Kraken WebSocket v2 connection: `book` at depth 10 and `trade` for every symbol. Each book
 * update is applied, the book truncated to the subscribed depth (Kraken does not delete levels
 * that fall out of range; we publish the cut levels as deletions), and the CRC32 checksum of the top 10 compared with the venue's: a
 * mismatch means our book is wrong (a lost, repeated or reordered update), so that symbol is
 * resubscribed for a fresh snapshot. Kraken v2 books carry no sequence numbers; `venueSeq` counts
 * the updates applied since the snapshot. Application-level `ping` keeps the connection alive.
 */
import { OrderBook } from '../../book.js';
import { VenueSession, type SessionOptions } from '../session.js';
import { bookUpdateFor, fillUpdate, type BookUpdate } from '../sink.js';
import { krakenChecksum } from './checksum.js';
import { tradeIdText, venueSymbol, type SymbolSpec } from '../../types.js';
import { KrakenBookEntry, KrakenScan, scanKrakenBook } from './parse.js';

interface Level {
  price: number;
  qty: number;
}
interface KrakenMessage {
  channel?: string;
  type?: string;
  method?: string;
  success?: boolean;
  data?: { symbol?: string; bids?: Level[]; asks?: Level[]; checksum?: number; timestamp?: string; side?: string; price?: number; qty?: number; trade_id?: number }[];
}

const DEPTH = 10;

export class KrakenSession extends VenueSession {
  readonly venue = 'kraken' as const;
  private readonly bySymbol = new Map<string, { spec: SymbolSpec; book: OrderBook; live: boolean; update: BookUpdate }>();
  private readonly scan = new KrakenScan();
  /** A book entry read by JSON.parse (a message in an unexpected key order), as the scanner gives it. */
  private readonly parsedEntry = new KrakenBookEntry();
  private readonly top: [number[], number[]] = [[], []];
  private reqId = 1;

  constructor(private readonly wsUrl: string, options: SessionOptions) {
    super(options);
    for (const spec of options.symbols) {
      const book = new OrderBook(spec.symbol);
      this.bySymbol.set(venueSymbol.kraken(spec), { spec, book, live: false, update: bookUpdateFor('kraken', book) });
    }
  }

  protected url(): string {
    return this.wsUrl;
  }

  private request(method: 'subscribe' | 'unsubscribe', channel: 'book' | 'trade', symbols: string[]): void {
    const params = channel === 'book' ? { channel, symbol: symbols, depth: DEPTH, snapshot: true } : { channel, symbol: symbols };
    this.send(JSON.stringify({ method, params, req_id: this.reqId++ }));
  }

  protected onOpen(): void {
    const all = [...this.bySymbol.keys()];
    this.request('subscribe', 'book', all);
    this.request('subscribe', 'trade', all);
  }

  protected override ping(): void {
    this.send(JSON.stringify({ method: 'ping', req_id: this.reqId++ }));
  }

  books(): Iterable<OrderBook> {
    return [...this.bySymbol.values()].map((b) => b.book);
  }

  allLive(): boolean {
    for (const b of this.bySymbol.values()) if (!b.live) return false;
    return true;
  }

  /**
   * Book messages, the bulk of the feed, go through the field scanner (parse.ts) when they have
   * Kraken's usual key order; trades, heartbeats, acks (and anything laid out differently)
   * through JSON.parse.
   */
  protected onText(text: string, tsRecv: number): void {
    if (text.startsWith('{"channel":"book"')) {
      const scan = this.scan;
      if (!this.scanned(scanKrakenBook(text, scan))) return;
      for (let i = 0; i < scan.entryCount; i++) this.onBook(scan.snapshot, scan.entries[i], tsRecv);
      return;
    }
    const msg = this.parsed<KrakenMessage>(text);
    if (msg === undefined) return;
    if (msg.channel === 'book' && Array.isArray(msg.data)) {
      for (const d of msg.data) this.onBook(msg.type === 'snapshot', this.fromJson(d), tsRecv);
    } else if (msg.channel === 'trade' && Array.isArray(msg.data)) {
      for (const t of msg.data) {
        const b = t.symbol === undefined ? undefined : this.bySymbol.get(t.symbol);
        if (!b || typeof t.price !== 'number' || typeof t.qty !== 'number') continue;
        this.emitTrade({ type: 'trade', venue: 'kraken', symbol: b.spec.symbol, tsEvent: t.timestamp ? Date.parse(t.timestamp) : tsRecv, tsRecv, tradeId: tradeIdText(t.trade_id), price: t.price, qty: t.qty, side: t.side === 'sell' ? 'sell' : 'buy' });
      }
    } else if (msg.success === false) {
      this.options.counters.malformed('kraken');
    }
  }

  private fromJson(d: NonNullable<KrakenMessage['data']>[number]): KrakenBookEntry {
    const e = this.parsedEntry;
    e.symbol = d.symbol ?? '';
    e.bids.length = e.asks.length = 0;
    for (const l of d.bids ?? []) e.bids.push(l.price, l.qty);
    for (const l of d.asks ?? []) e.asks.push(l.price, l.qty);
    e.nb = e.bids.length;
    e.na = e.asks.length;
    e.checksum = d.checksum ?? NaN;
    e.ts = d.timestamp ? Date.parse(d.timestamp) : NaN;
    return e;
  }

  private onBook(snapshot: boolean, d: KrakenBookEntry, tsRecv: number): void {
    const b = this.bySymbol.get(d.symbol);
    if (!b) {
      this.options.counters.unknownSymbol('kraken');
      return;
    }
    if (!snapshot && !b.live) return; // in flight before the resubscription's snapshot
    const { bids, asks } = d;
    let { nb, na } = d;
    const tsEvent = d.ts === d.ts ? d.ts : tsRecv;
    if (snapshot) b.book.load(bids.slice(0, nb), asks.slice(0, na), 0);
    else {
      b.book.applyLevels(bids, asks, nb, na);
      b.book.venueSeq++;
    }
    // Levels pushed out of the depth join the update as deletions (after the venue's own levels,
    // in the entry's reused arrays): a subscriber applying the deltas keeps exactly our 10 levels.
    // Without them it kept a level Kraken stopped reporting, which could later resurface in its top 10.
    nb = b.book.bids.truncate(DEPTH, bids, nb);
    na = b.book.asks.truncate(DEPTH, asks, na);
    const { pricePrecision, qtyPrecision } = b.spec;
    const sum = krakenChecksum(b.book.asks.top(DEPTH, this.top[1]), b.book.bids.top(DEPTH, this.top[0]), pricePrecision, qtyPrecision);
    if (sum !== d.checksum || b.book.isCrossed()) {
      this.options.counters.checksumFailure('kraken');
      this.options.counters.resync('kraken', 'checksum');
      b.live = false;
      b.book.clear();
      this.status(b.spec.symbol, 'resyncing', `checksum mismatch: ours ${sum}, venue ${d.checksum}`);
      this.request('unsubscribe', 'book', [d.symbol]);
      this.request('subscribe', 'book', [d.symbol]);
      return;
    }
    b.live = true;
    this.emitBook(fillUpdate(b.update, snapshot, bids, asks, nb, na, b.book.venueSeq, tsEvent, tsRecv));
    if (snapshot) this.status(b.spec.symbol, 'live', 'snapshot applied');
  }
}
