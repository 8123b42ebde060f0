/**
 * @module apps/market/types
 * The canonical event model every venue adapter translates into, and the symbol catalogue.
 * Prices and quantities are numbers parsed from the venue's decimal strings; each symbol has a
 * fixed price and quantity precision so that formatting back (Kraken's checksum, the simulator's
 * wire formats) is exact.
 */
import { integerText } from '../../core/integer-text.js';

export type VenueName = 'binance' | 'coinbase' | 'kraken';
export const VENUES: readonly VenueName[] = ['binance', 'coinbase', 'kraken'];

/** A market in our naming (`BTC-USDT`) with the decimals every venue quotes it in. */
export interface SymbolSpec {
  symbol: string;
  base: string;
  quote: string;
  pricePrecision: number;
  qtyPrecision: number;
  /** Mid price the simulator's random walk starts from. */
  startPrice: number;
}

export type Side = 'bid' | 'ask';

interface Stamped {
  venue: VenueName;
  symbol: string;
  /** Venue event time (ms since epoch), from the message. */
  tsEvent: number;
  /** Local receive time (ms, performance-aligned wall clock: `performance.timeOrigin + now()`). */
  tsRecv: number;
}

export interface TradeEvent extends Stamped {
  type: 'trade';
  tradeId: string;
  price: number;
  qty: number;
  /** Side of the aggressor (taker). */
  side: 'buy' | 'sell';
}

export interface BboEvent extends Stamped {
  type: 'bbo';
  bidPrice: number;
  bidQty: number;
  askPrice: number;
  askQty: number;
}

/** Book levels flattened as [price, qty, price, qty, ...]; qty 0 removes the level. */
export interface BookDeltaEvent extends Stamped {
  type: 'delta';
  /** The venue's sequence (Binance `u`, Coinbase `sequence_num`, Kraken: our count of updates). */
  venueSeq: number;
  bids: number[];
  asks: number[];
}

export interface BookSnapshotEvent extends Stamped {
  type: 'snapshot';
  venueSeq: number;
  bids: number[];
  asks: number[];
}

export type VenueHealth = 'connecting' | 'syncing' | 'live' | 'resyncing' | 'down';

export interface StatusEvent {
  type: 'status';
  venue: VenueName;
  symbol: string | null;
  status: VenueHealth;
  reason: string;
  ts: number;
}

export type MarketEvent = TradeEvent | BboEvent | BookDeltaEvent | BookSnapshotEvent | StatusEvent;

/**
 * A venue's numeric trade id as the text a {@link TradeEvent} carries, through `integerText`:
 * Binance's and Kraken's trade ids are past 2^31, and `String(id)` would put each one's text in
 * the old generation (src/core/integer-text.ts).
 */
export function tradeIdText(id: number | undefined): string {
  return typeof id === 'number' ? integerText(id) : String(id);
}

/** Wall-clock milliseconds with sub-millisecond resolution (for latency histograms). */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

export const DEFAULT_SYMBOLS: SymbolSpec[] = [
  { symbol: 'BTC-USDT', base: 'BTC', quote: 'USDT', pricePrecision: 2, qtyPrecision: 8, startPrice: 64_000 },
  { symbol: 'ETH-USDT', base: 'ETH', quote: 'USDT', pricePrecision: 2, qtyPrecision: 8, startPrice: 3_200 },
  { symbol: 'SOL-USDT', base: 'SOL', quote: 'USDT', pricePrecision: 3, qtyPrecision: 6, startPrice: 140 },
];

/** Builds `count` symbols for load tests: the defaults, then synthetic `SYMnn-USDT` markets. */
export function syntheticSymbols(count: number): SymbolSpec[] {
  const out = DEFAULT_SYMBOLS.slice(0, count);
  for (let i = out.length; i < count; i++) {
    out.push({ symbol: `S${i}-USDT`, base: `S${i}`, quote: 'USDT', pricePrecision: 3, qtyPrecision: 5, startPrice: 10 + i * 3 });
  }
  return out;
}

/** Venue-native symbol names. */
export const venueSymbol = {
  binance: (s: SymbolSpec) => `${s.base}${s.quote}`,
  coinbase: (s: SymbolSpec) => `${s.base}-${s.quote}`,
  kraken: (s: SymbolSpec) => `${s.base}/${s.quote}`,
} satisfies Record<VenueName, (s: SymbolSpec) => string>;
