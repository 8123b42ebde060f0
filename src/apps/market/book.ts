/**
 * @module apps/market/book
 * One venue's order book for one symbol: price levels per side in sorted parallel arrays.
 *
 * Why this shape: almost every update lands within a few levels of the top of the book, so each
 * side is kept sorted *worst first* (bids ascending, asks descending) with the best price at the
 * end. Finding a level is a binary search; inserting or removing near the top moves only the few
 * elements after it. Two Float64Arrays per side, no object per level.
 *
 * Why typed arrays with a count rather than plain arrays: a book lives as long as the process,
 * so it sits in V8's old generation, and every new backing store a plain array took (growing
 * after `length--` had trimmed it, or after `splice` cut levels off its front — Kraken's depth
 * cut, on every update that added a level) was allocated young, survived the next scavenges as
 * the book's, and was promoted: old-generation growth per venue message, which is what brings
 * the mark-compacts. Here a side's storage only ever doubles (up to the deepest book it held) and
 * is never given back, not even by `clear()` before a snapshot refills it: in the steady state a
 * book update allocates nothing at all.
 */

import type { Side } from './types.js';

const INITIAL_LEVELS = 32;

class BookSide {
  /** Level prices and quantities, worst first: only the first `count` entries are the book. */
  private prices = new Float64Array(INITIAL_LEVELS);
  private qtys = new Float64Array(INITIAL_LEVELS);
  private count = 0;
  /** +1 for bids (ascending arrays), -1 for asks (descending arrays). */
  constructor(private readonly direction: 1 | -1) {}

  /** Index of `price`, or -(insertion point) - 1 when absent. */
  private find(price: number): number {
    const p = this.prices;
    const d = this.direction;
    let lo = 0;
    let hi = this.count - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const diff = (p[mid] - price) * d;
      if (diff < 0) lo = mid + 1;
      else if (diff > 0) hi = mid - 1;
      else return mid;
    }
    return -lo - 1;
  }

  /** Sets a level (qty 0 removes it); the levels after it move by one within the same storage. */
  set(price: number, qty: number): void {
    const i = this.find(price);
    const n = this.count;
    if (i >= 0) {
      if (qty === 0) {
        this.prices.copyWithin(i, i + 1, n);
        this.qtys.copyWithin(i, i + 1, n);
        this.count = n - 1;
      } else this.qtys[i] = qty;
      return;
    }
    if (qty === 0) return; // removing an absent level is a no-op (venues send these)
    const at = -i - 1;
    if (n === this.prices.length) this.grow();
    const p = this.prices;
    const q = this.qtys;
    if (at < n) {
      p.copyWithin(at + 1, at, n);
      q.copyWithin(at + 1, at, n);
    }
    p[at] = price;
    q[at] = qty;
    this.count = n + 1;
  }

  /** Doubles the storage: the only allocation a side ever makes, and only past its deepest size so far. */
  private grow(): void {
    const prices = new Float64Array(this.prices.length * 2);
    const qtys = new Float64Array(this.qtys.length * 2);
    prices.set(this.prices);
    qtys.set(this.qtys);
    this.prices = prices;
    this.qtys = qtys;
  }

  qtyAt(price: number): number {
    const i = this.find(price);
    return i >= 0 ? this.qtys[i] : 0;
  }

  get size(): number {
    return this.count;
  }

  /** Levels the storage holds before it must grow (a test pins that updates do not reallocate it). */
  get capacity(): number {
    return this.prices.length;
  }

  /** Best price, NaN when the side is empty. */
  get best(): number {
    return this.count === 0 ? NaN : this.prices[this.count - 1];
  }

  get bestQty(): number {
    return this.count === 0 ? NaN : this.qtys[this.count - 1];
  }

  /** Worst (deepest) price, NaN when the side is empty. */
  get worst(): number {
    return this.count === 0 ? NaN : this.prices[0];
  }

  /** The best `n` levels, best first, flattened [price, qty, ...]. */
  top(n: number, out: number[] = []): number[] {
    // Written by index, then cut to length: `out.length = 0` first would free its storage and
    // every call (a checksum per Kraken update, each snapshot) would allocate it again.
    let k = 0;
    for (let i = this.count - 1; i >= 0 && k < 2 * n; i--) {
      out[k++] = this.prices[i];
      out[k++] = this.qtys[i];
    }
    out.length = k;
    return out;
  }

  /**
   * Keeps only the best `n` levels (Kraken's subscribed depth). Each level cut is written to
   * `removed` from index `at` as `price, 0` (a deletion a subscriber applies like any other);
   * returns the index after the last one written.
   */
  truncate(n: number, removed?: number[], at = 0): number {
    const excess = this.count - n;
    if (excess > 0) {
      if (removed) {
        for (let i = 0; i < excess; i++) {
          removed[at++] = this.prices[i];
          removed[at++] = 0;
        }
      }
      this.prices.copyWithin(0, excess, this.count);
      this.qtys.copyWithin(0, excess, this.count);
      this.count = n;
    }
    return at;
  }

  /** Empties the side; its storage is kept for the snapshot that refills it. */
  clear(): void {
    this.count = 0;
  }
}

export class OrderBook {
  readonly bids = new BookSide(1);
  readonly asks = new BookSide(-1);
  /** The venue sequence of the last applied update. */
  venueSeq = 0;

  constructor(readonly symbol: string) {}

  side(side: Side): BookSide {
    return side === 'bid' ? this.bids : this.asks;
  }

  set(side: Side, price: number, qty: number): void {
    (side === 'bid' ? this.bids : this.asks).set(price, qty);
  }

  /** Applies flattened [price, qty, ...] levels to both sides (the first `nb`/`na` numbers). */
  applyLevels(bids: readonly number[], asks: readonly number[], nb = bids.length, na = asks.length): void {
    for (let i = 0; i < nb; i += 2) this.bids.set(bids[i], bids[i + 1]);
    for (let i = 0; i < na; i += 2) this.asks.set(asks[i], asks[i + 1]);
  }

  /** Replaces the whole book (a snapshot): nothing of the previous state survives. */
  load(bids: readonly number[], asks: readonly number[], venueSeq: number): void {
    this.clear();
    this.applyLevels(bids, asks);
    this.venueSeq = venueSeq;
  }

  clear(): void {
    this.bids.clear();
    this.asks.clear();
    this.venueSeq = 0;
  }

  get bestBid(): number {
    return this.bids.best;
  }

  get bestAsk(): number {
    return this.asks.best;
  }

  /** A crossed (or locked) book is never valid: best bid must be strictly below best ask. */
  isCrossed(): boolean {
    return this.bids.size > 0 && this.asks.size > 0 && this.bids.best >= this.asks.best;
  }

  /** Top `n` levels per side, best first, as plain arrays of [price, qty] pairs. */
  depth(n: number): { bids: [number, number][]; asks: [number, number][] } {
    const pairs = (flat: number[]) => {
      const out: [number, number][] = [];
      for (let i = 0; i < flat.length; i += 2) out.push([flat[i], flat[i + 1]]);
      return out;
    };
    return { bids: pairs(this.bids.top(n)), asks: pairs(this.asks.top(n)) };
  }
}
