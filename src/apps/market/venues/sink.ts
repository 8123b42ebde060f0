/**
 * @module apps/market/venues/sink
 * What a venue adapter hands its output to: the pipeline (orchestrator → dispatcher → hub) in
 * the server, a checker in tests. Books are passed by reference after the update was applied,
 * and a {@link BookUpdate} may be reused for the next update: it is valid during the call only,
 * so the receiver copies what it keeps.
 */
import type { OrderBook } from '../book.js';
import type { BboEvent, StatusEvent, TradeEvent, VenueName } from '../types.js';

export interface BookUpdate {
  venue: VenueName;
  symbol: string;
  book: OrderBook;
  /** true: the book was replaced (snapshot or resync); false: `bids`/`asks` were applied to it. */
  snapshot: boolean;
  /** Applied levels, flattened; only the first `nb`/`na` numbers belong to this update. */
  bids: readonly number[];
  asks: readonly number[];
  nb: number;
  na: number;
  venueSeq: number;
  tsEvent: number;
  tsRecv: number;
}

/** The update object one book hands on for every update (allocated once: see {@link fillUpdate}). */
export function bookUpdateFor(venue: VenueName, book: OrderBook): BookUpdate {
  return { venue, symbol: book.symbol, book, snapshot: false, bids: [], asks: [], nb: 0, na: 0, venueSeq: 0, tsEvent: 0, tsRecv: 0 };
}

/** Fills a book's reused update (an object per update was the largest allocation of the Kraken path). */
export function fillUpdate(u: BookUpdate, snapshot: boolean, bids: readonly number[], asks: readonly number[], nb: number, na: number, venueSeq: number, tsEvent: number, tsRecv: number): BookUpdate {
  u.snapshot = snapshot;
  u.bids = bids;
  u.asks = asks;
  u.nb = nb;
  u.na = na;
  u.venueSeq = venueSeq;
  u.tsEvent = tsEvent;
  u.tsRecv = tsRecv;
  return u;
}

export interface MarketSink {
  book(update: BookUpdate): void;
  trade(event: TradeEvent): void;
  bbo(event: BboEvent): void;
  status(event: StatusEvent): void;
}

/** Counters every adapter reports (wired to prom-client by metrics.ts). */
export interface VenueCounters {
  messages(venue: VenueName): void;
  parseTime(venue: VenueName, seconds: number): void;
  malformed(venue: VenueName): void;
  gap(venue: VenueName): void;
  duplicate(venue: VenueName): void;
  resync(venue: VenueName, reason: string): void;
  checksumFailure(venue: VenueName): void;
  reconnect(venue: VenueName): void;
  unknownSymbol(venue: VenueName): void;
  /** A diff dropped because the buffer kept while a snapshot is in flight was full (a flood). */
  bufferOverflow(venue: VenueName): void;
}

export const noCounters: VenueCounters = {
  messages() {},
  parseTime() {},
  malformed() {},
  gap() {},
  duplicate() {},
  resync() {},
  checksumFailure() {},
  reconnect() {},
  unknownSymbol() {},
  bufferOverflow() {},
};
