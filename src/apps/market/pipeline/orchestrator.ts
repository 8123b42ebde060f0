/**
 * @module apps/market/pipeline/orchestrator
 * Per-symbol state across venues: each venue's best bid/offer taken from our synced book (so it
 * always agrees with the book channel), the consolidated BBO (best bid and best offer over the
 * venues that are live, with the venue that holds each), and the cross-venue book (top 10 levels,
 * quantities summed per price) published at most every `topIntervalMs`: the first change after a
 * publication arms a timer for the next one, so a market that does not move wakes nothing.
 *
 * BBOs are published as they change (the hub conflates them by key for slow readers). Deferring
 * them to the end of the event-loop turn, to publish each once, adds the rest of the turn (and
 * any preemption in it) to their latency and saves few publications at moderate rates: not done.
 */
import type { OrderBook } from '../book.js';
import type { BookUpdate } from '../venues/sink.js';
import type { Publish } from './messages.js';
import { VENUES, type VenueName } from '../types.js';

interface Bbo {
  bp: number;
  bq: number;
  ap: number;
  aq: number;
  /** This venue's `.bbo` channel (kept while the venue is down: its sequence goes on after). */
  stream: Stream;
}

/** A channel named once (not per change) and its sequence. */
interface Stream {
  channel: string;
  seq: number;
}

interface Consolidated {
  bp: number;
  bq: number;
  bv: string;
  ap: number;
  aq: number;
  av: string;
}

interface SymbolState {
  books: Map<VenueName, OrderBook>;
  bbo: Map<VenueName, Bbo>;
  /** Updated in place (an object per change outlived the scavenges between a symbol's changes). */
  consolidated: Consolidated | null;
  venueBbo: Map<VenueName, Stream>;
  allBbo: Stream;
  allBook: Stream;
  dirty: boolean;
}

const TOP_LEVELS = 10;

export class Orchestrator {
  private readonly symbols = new Map<string, SymbolState>();
  private timer: NodeJS.Timeout | null = null;
  /** The timer will fire (a top tick is due). */
  private armed = false;
  private closed = false;

  constructor(private readonly publish: Publish, private readonly topIntervalMs = 100) {}

  /**
   * A symbol's cross-venue book changed: it is published at the next top tick (armed here). One
   * Timeout for the orchestrator's life, re-armed with `refresh()`: a new one per tick (and its
   * closure) lived the 100 ms to its firing, long enough to outlive scavenges and be promoted.
   */
  private markDirty(s: SymbolState): void {
    s.dirty = true;
    if (this.armed || this.closed) return;
    this.armed = true;
    if (this.timer) this.timer.refresh();
    else {
      this.timer = setTimeout(this.onTopTick, this.topIntervalMs);
      this.timer.unref();
    }
  }

  private readonly onTopTick = (): void => {
    this.armed = false;
    this.publishTops();
  };

  private state(symbol: string): SymbolState {
    let s = this.symbols.get(symbol);
    if (!s) {
      s = { books: new Map(), bbo: new Map(), consolidated: null, venueBbo: new Map(), allBbo: { channel: `market:${symbol}@all.bbo`, seq: 0 }, allBook: { channel: `market:${symbol}@all.book`, seq: 0 }, dirty: false };
      this.symbols.set(symbol, s);
    }
    return s;
  }

  onBook(u: BookUpdate): void {
    const s = this.state(u.symbol);
    s.books.set(u.venue, u.book);
    this.markDirty(s);
    const book = u.book;
    const bp = book.bids.best;
    const ap = book.asks.best;
    const prev = s.bbo.get(u.venue);
    const bq = book.bids.bestQty;
    const aq = book.asks.bestQty;
    if (prev && Object.is(prev.bp, bp) && Object.is(prev.bq, bq) && Object.is(prev.ap, ap) && Object.is(prev.aq, aq)) return;
    let b = prev;
    if (b) {
      // Reused: a BBO change allocates nothing but its publication.
      b.bp = bp;
      b.bq = bq;
      b.ap = ap;
      b.aq = aq;
    } else {
      let stream = s.venueBbo.get(u.venue);
      if (!stream) s.venueBbo.set(u.venue, (stream = { channel: `market:${u.symbol}@${u.venue}.bbo`, seq: 0 }));
      s.bbo.set(u.venue, (b = { bp, bq, ap, aq, stream }));
    }
    if (bp === bp && ap === ap) this.publish(b.stream.channel, { t: 'bbo', seq: ++b.stream.seq, bp, bq, ap, aq, te: u.tsEvent, tr: u.tsRecv }, 'bbo');
    this.consolidate(s, u.tsEvent);
  }

  /** A venue's book went away (resync, disconnect): leave it out of the consolidated view. */
  onVenueDown(venue: VenueName, symbol: string | null): void {
    for (const [sym, s] of this.symbols) {
      if (symbol !== null && sym !== symbol) continue;
      s.bbo.delete(venue);
      s.books.delete(venue);
      this.markDirty(s);
      this.consolidate(s, Date.now());
    }
  }

  private consolidate(s: SymbolState, te: number): void {
    let bp = -Infinity, bq = 0, bv = '', ap = Infinity, aq = 0, av = '';
    // Plain assignments: this runs on every BBO change (array destructuring allocated here).
    for (const [venue, b] of s.bbo) {
      if (b.bp > bp) {
        bp = b.bp;
        bq = b.bq;
        bv = venue;
      } else if (b.bp === bp) {
        bq += b.bq;
        bv = `${bv},${venue}`;
      }
      if (b.ap < ap) {
        ap = b.ap;
        aq = b.aq;
        av = venue;
      } else if (b.ap === ap) {
        aq += b.aq;
        av = `${av},${venue}`;
      }
    }
    if (bv === '' || av === '') return;
    const c = s.consolidated;
    if (c && c.bp === bp && c.bq === bq && c.ap === ap && c.aq === aq && c.bv === bv && c.av === av) return;
    if (c) {
      c.bp = bp;
      c.bq = bq;
      c.bv = bv;
      c.ap = ap;
      c.aq = aq;
      c.av = av;
    } else s.consolidated = { bp, bq, bv, ap, aq, av };
    this.publish(s.allBbo.channel, { t: 'cbbo', seq: ++s.allBbo.seq, bp, bq, bv, ap, aq, av, te }, 'bbo');
  }

  /** A copy of the symbol's consolidated BBO (the state itself changes in place), or null. */
  consolidatedBbo(symbol: string): Consolidated | null {
    const c = this.symbols.get(symbol)?.consolidated;
    return c ? { ...c } : null;
  }

  /** Each venue's top levels for {@link crossVenueTop}, reused: [venue index] → flat, best first. */
  private readonly bidTops: number[][] = [];
  private readonly askTops: number[][] = [];
  /** Read position in each venue's list while merging. */
  private readonly merging = new Int32Array(VENUES.length);

  /**
   * The cross-venue book: top levels of each venue summed per price. Each venue's top is already
   * sorted best first, so the best levels overall come from merging them (equal prices summed in
   * venue order). It runs for every symbol on every top tick: built with Maps, entry arrays, a
   * sort and `flat()`, it was a fifth of all the gateway's allocation (a churn heap profile at
   * 10k venue msg/s); merged, it allocates its two result arrays.
   */
  crossVenueTop(symbol: string): { b: number[]; a: number[]; venues: string[] } {
    const s = this.symbols.get(symbol);
    const venues: string[] = [];
    if (s) {
      for (const [venue, book] of s.books) {
        if (book.bids.size === 0) continue;
        const i = venues.length;
        venues.push(venue);
        book.bids.top(TOP_LEVELS, (this.bidTops[i] ??= []));
        book.asks.top(TOP_LEVELS, (this.askTops[i] ??= []));
      }
    }
    return { b: this.merge(this.bidTops, venues.length, 1), a: this.merge(this.askTops, venues.length, -1), venues };
  }

  /** The best TOP_LEVELS of `count` best-first lists, equal prices summed; `direction` 1: higher is better (bids). */
  private merge(lists: number[][], count: number, direction: 1 | -1): number[] {
    const at = this.merging;
    at.fill(0, 0, count);
    const out: number[] = [];
    while (out.length < 2 * TOP_LEVELS) {
      let best = NaN;
      for (let i = 0; i < count; i++) {
        if (at[i] >= lists[i].length) continue;
        const p = lists[i][at[i]];
        if (best !== best || (p - best) * direction > 0) best = p;
      }
      if (best !== best) break;
      let qty = 0;
      for (let i = 0; i < count; i++) {
        if (at[i] < lists[i].length && lists[i][at[i]] === best) {
          qty += lists[i][at[i] + 1];
          at[i] += 2;
        }
      }
      out.push(best, qty);
    }
    return out;
  }

  private publishTops(): void {
    for (const [symbol, s] of this.symbols) {
      if (!s.dirty) continue;
      s.dirty = false;
      this.publish(s.allBook.channel, { t: 'top', seq: ++s.allBook.seq, ...this.crossVenueTop(symbol) }, 'top');
    }
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.armed = false;
  }
}
