/**
 * @module apps/market/simulator/truth
 * The simulator's true order book for one symbol, moved by a seeded random walk.
 *
 * Prices are integer ticks and quantities integer lots (10^-precision), so the book is exact and
 * every venue format is rendered from the same integers. Each `step()` is one venue update: a few
 * level changes (a new quote inside the spread, a level consumed by a trade, quantities resized
 * deep in the book) with an increasing update id. The book is never crossed by construction: a
 * bid is only placed below the best ask and an ask only above the best bid.
 */
import { seededRandom } from '../../../core/random.js';
import { OrderBook } from '../book.js';
import type { SymbolSpec } from '../types.js';

export interface TruthTrade {
  id: number;
  priceTicks: number;
  lots: number;
  /** Aggressor side. */
  side: 'buy' | 'sell';
}

/** One update: flattened [tick, lots, ...] per side (lots 0 = level removed). */
export interface TruthChange {
  /** First and last update id covered (Binance U and u). */
  firstId: number;
  lastId: number;
  ts: number;
  bids: number[];
  asks: number[];
  trade: TruthTrade | null;
}

const TARGET_LEVELS = 40;
const MAX_LEVELS = 120;

export class TruthBook {
  /** The true book in ticks and lots. */
  readonly book: OrderBook;
  /** Update id of the last change (Binance lastUpdateId). */
  updateId = 1000;
  private tradeId = 1;
  private readonly random: () => number;
  readonly tickSize: number;
  readonly lotSize: number;

  constructor(readonly spec: SymbolSpec, seed: number) {
    this.random = seededRandom(seed);
    this.book = new OrderBook(spec.symbol);
    this.tickSize = 10 ** -spec.pricePrecision;
    this.lotSize = 10 ** -spec.qtyPrecision;
    const mid = Math.round(spec.startPrice / this.tickSize);
    const spacing = Math.max(1, Math.round(mid * 0.0001));
    for (let i = 1; i <= TARGET_LEVELS; i++) {
      this.book.set('bid', mid - i * spacing, this.randomLots());
      this.book.set('ask', mid + i * spacing, this.randomLots());
    }
  }

  private randomLots(): number {
    // 0.001 .. ~5 units, in lots, skewed small.
    const units = 0.001 + (this.random() ** 3) * 5;
    return Math.max(1, Math.round(units / this.lotSize));
  }

  /** Formats ticks as the venue's decimal string. */
  price(ticks: number): string {
    return (ticks * this.tickSize).toFixed(this.spec.pricePrecision);
  }

  qty(lots: number): string {
    return (lots * this.lotSize).toFixed(this.spec.qtyPrecision);
  }

  /** Advances the walk by one update. */
  step(ts: number): TruthChange {
    const bids: number[] = [];
    const asks: number[] = [];
    const set = (side: 'bid' | 'ask', tick: number, lots: number) => {
      this.book.set(side, tick, lots);
      (side === 'bid' ? bids : asks).push(tick, lots);
    };
    let trade: TruthTrade | null = null;
    const r = this.random();
    const bestBid = this.book.bestBid;
    const bestAsk = this.book.bestAsk;
    if (r < 0.15) {
      // A trade consumes (part of) the top of one side.
      const buy = this.random() < 0.5;
      const side = buy ? this.book.asks : this.book.bids;
      const tick = side.best;
      const have = side.bestQty;
      const take = this.random() < 0.5 ? have : Math.max(1, Math.floor(have * this.random()));
      set(buy ? 'ask' : 'bid', tick, have - take);
      trade = { id: this.tradeId++, priceTicks: tick, lots: take, side: buy ? 'buy' : 'sell' };
    } else if (r < 0.35 && bestAsk - bestBid > 1) {
      // A new quote improves one side inside the spread.
      const tick = bestBid + 1 + Math.floor(this.random() * (bestAsk - bestBid - 1));
      set(this.random() < 0.5 ? 'bid' : 'ask', tick, this.randomLots());
    } else {
      // Resize, add or remove levels near the top (geometric distance from the best price).
      const changes = 1 + Math.floor(this.random() * 3);
      for (let c = 0; c < changes; c++) {
        const isBid = this.random() < 0.5;
        const side = isBid ? this.book.bids : this.book.asks;
        const distance = Math.floor(-Math.log(1 - this.random() * 0.999) * 8);
        const best = side.best;
        const tick = isBid ? best - distance : best + distance;
        if (tick <= 0) continue;
        const existing = side.qtyAt(tick);
        const remove = existing > 0 && side.size > 5 && this.random() < 0.3;
        set(isBid ? 'bid' : 'ask', tick, remove ? 0 : this.randomLots());
      }
    }
    this.refill(set);
    const firstId = this.updateId + 1;
    this.updateId += Math.max(1, (bids.length + asks.length) / 2);
    return { firstId, lastId: this.updateId, ts, bids, asks, trade };
  }

  /**
   * One update that certainly changes the top of the book: the best bid (or ask) is resized to a
   * different quantity. Every venue's feed carries it, even Kraken's top-10 view, so a test can
   * wait for exactly this update instead of stepping the random walk until one reaches the top.
   */
  resizeTop(side: 'bid' | 'ask', ts: number): TruthChange {
    const levels = this.book.side(side);
    const tick = levels.best;
    const lots = levels.bestQty;
    const next = lots > 1 ? lots - 1 : lots + 1;
    this.book.set(side, tick, next);
    const firstId = this.updateId + 1;
    this.updateId += 1;
    return { firstId, lastId: this.updateId, ts, bids: side === 'bid' ? [tick, next] : [], asks: side === 'ask' ? [tick, next] : [], trade: null };
  }

  /**
   * An incoming order takes liquidity: a buy consumes asks from the best up to `limitTicks`
   * (null: no limit) for at most `lots`. Returns the fills and the change to publish (levels
   * consumed), or null when nothing crossed.
   */
  take(side: 'buy' | 'sell', limitTicks: number | null, lots: number, ts: number): { fills: { priceTicks: number; lots: number }[]; change: TruthChange } | null {
    const book = side === 'buy' ? this.book.asks : this.book.bids;
    const fills: { priceTicks: number; lots: number }[] = [];
    const bids: number[] = [];
    const asks: number[] = [];
    let left = lots;
    while (left > 0 && book.size > 1) {
      const tick = book.best;
      if (limitTicks !== null && (side === 'buy' ? tick > limitTicks : tick < limitTicks)) break;
      const have = book.bestQty;
      const take = Math.min(have, left);
      book.set(tick, have - take);
      (side === 'buy' ? asks : bids).push(tick, have - take);
      fills.push({ priceTicks: tick, lots: take });
      left -= take;
    }
    if (fills.length === 0) return null;
    const firstId = this.updateId + 1;
    this.updateId += fills.length;
    const last = fills[fills.length - 1];
    return { fills, change: { firstId, lastId: this.updateId, ts, bids, asks, trade: { id: this.tradeId++, priceTicks: last.priceTicks, lots: lots - left, side } } };
  }

  /** Keeps each side between TARGET_LEVELS and MAX_LEVELS deep. */
  private refill(set: (side: 'bid' | 'ask', tick: number, lots: number) => void): void {
    for (const isBid of [true, false]) {
      const side = isBid ? this.book.bids : this.book.asks;
      if (side.size === 0) {
        const other = isBid ? this.book.asks.best : this.book.bids.best;
        set(isBid ? 'bid' : 'ask', isBid ? other - 1 : other + 1, this.randomLots());
      }
      if (side.size < TARGET_LEVELS) {
        const worst = side.worst;
        set(isBid ? 'bid' : 'ask', isBid ? worst - 1 - Math.floor(this.random() * 3) : worst + 1 + Math.floor(this.random() * 3), this.randomLots());
      } else if (side.size > MAX_LEVELS) {
        set(isBid ? 'bid' : 'ask', side.worst, 0);
      }
    }
  }

  /** The whole book as venue strings, best first: [[price, qty], ...]. */
  levels(side: 'bid' | 'ask', limit = Infinity): [string, string][] {
    const flat = this.book.side(side).top(limit === Infinity ? MAX_LEVELS * 2 : limit);
    const out: [string, string][] = [];
    for (let i = 0; i < flat.length; i += 2) out.push([this.price(flat[i]), this.qty(flat[i + 1])]);
    return out;
  }

  /** The book in real numbers, best first, for comparison with an adapter's book. */
  depth(limit = Infinity): { bids: [number, number][]; asks: [number, number][] } {
    const conv = (side: 'bid' | 'ask') => this.levels(side, limit).map(([p, q]) => [Number(p), Number(q)] as [number, number]);
    return { bids: conv('bid'), asks: conv('ask') };
  }
}
