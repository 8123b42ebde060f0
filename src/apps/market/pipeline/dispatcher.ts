/**
 * @module apps/market/pipeline/dispatcher
 * The end of the pipeline: turns adapter output into hub publications in per-channel order, with
 * our own gap-free sequence per channel, and feeds the orchestrator.
 *
 * Book messages are pooled: the dispatcher fills a {@link BookMessage}, hands it to `publish`,
 * which encodes it synchronously (the hub stringifies before its first await), and releases it
 * at once, so no consumer ever holds a pooled object — they get the encoded frame. If the pool is
 * exhausted the update is dropped, counted, and the stream's next publication is a full snapshot,
 * so a client never applies a delta on top of a missing one.
 */
import type { BookUpdate, MarketSink } from '../venues/sink.js';
import type { BoundedPool } from '../pool.js';
import type { MarketMetrics } from '../metrics.js';
import { BookMessage, bookChannel, type Publish } from './messages.js';
import type { Orchestrator } from './orchestrator.js';
import { WriteLatency } from './write-latency.js';
import { nowMs, VENUES, type BboEvent, type StatusEvent, type TradeEvent, type VenueName } from '../types.js';

/** Every stream republishes a full snapshot at least this often (late joiners start from it). */
const SNAPSHOT_EVERY_MS = 5_000;
const SNAPSHOT_LEVELS = 1_000;

interface StreamState {
  channel: string;
  seq: number;
  lastSnapshot: number;
  needSnapshot: boolean;
}

/** One venue's streams of one symbol, with their channel names: built once, not per message. */
interface SymbolStreams {
  /** The venue's index in VENUES (write-latency's slot). */
  venue: number;
  book: StreamState;
  trades: StreamState;
  ticker: StreamState;
}

export class Dispatcher implements MarketSink {
  private readonly streams = new Map<string, StreamState>();
  /** venue → symbol → its streams (two lookups by interned strings instead of building and hashing a channel name per message). */
  private readonly byVenue = new Map<VenueName, Map<string, SymbolStreams>>();
  readonly health = new Map<string, StatusEvent>();
  private readonly writeLatency: WriteLatency;

  constructor(
    private readonly publish: Publish,
    private readonly pool: BoundedPool<BookMessage>,
    private readonly orchestrator: Orchestrator,
    private readonly metrics: MarketMetrics,
  ) {
    this.writeLatency = new WriteLatency(metrics.observeVenueToWrite);
  }

  private stream(channel: string): StreamState {
    let s = this.streams.get(channel);
    if (!s) {
      s = { channel, seq: 0, lastSnapshot: 0, needSnapshot: true };
      this.streams.set(channel, s);
    }
    return s;
  }

  private symbolStreams(venue: VenueName, symbol: string): SymbolStreams {
    let symbols = this.byVenue.get(venue);
    if (!symbols) this.byVenue.set(venue, (symbols = new Map()));
    let s = symbols.get(symbol);
    if (!s) {
      s = { venue: VENUES.indexOf(venue), book: this.stream(bookChannel(symbol, venue)), trades: this.stream(`market:${symbol}@${venue}.trades`), ticker: this.stream(`market:${symbol}@${venue}.ticker`) };
      symbols.set(symbol, s);
    }
    return s;
  }

  /** Every book stream's next publication is a full snapshot (when watchers come back after an idle spell). */
  snapshotNext(): void {
    for (const symbols of this.byVenue.values()) for (const s of symbols.values()) s.book.needSnapshot = true;
  }

  /** Last sequence published on a channel (an HTTP snapshot says which deltas follow it). */
  seqOf(channel: string): number {
    return this.streams.get(channel)?.seq ?? 0;
  }

  book(u: BookUpdate): void {
    const streams = this.symbolStreams(u.venue, u.symbol);
    const s = streams.book;
    const channel = s.channel;
    const msg = this.pool.tryAcquire();
    if (msg === null) {
      this.metrics.dropped.inc({ reason: 'backpressure' });
      s.needSnapshot = true;
      return;
    }
    const now = u.tsRecv; // precise enough to space the periodic snapshots: no clock read
    const snapshot = u.snapshot || s.needSnapshot || now - s.lastSnapshot > SNAPSHOT_EVERY_MS;
    msg.t = snapshot ? 'snapshot' : 'delta';
    msg.seq = ++s.seq;
    msg.vseq = u.venueSeq;
    msg.te = u.tsEvent;
    msg.tr = u.tsRecv;
    if (snapshot) {
      u.book.bids.top(SNAPSHOT_LEVELS, msg.b);
      u.book.asks.top(SNAPSHOT_LEVELS, msg.a);
      s.lastSnapshot = now;
      s.needSnapshot = false;
    } else {
      for (let i = 0; i < u.nb; i++) msg.b.push(u.bids[i]);
      for (let i = 0; i < u.na; i++) msg.a.push(u.asks[i]);
    }
    try {
      this.publish(channel, msg);
    } finally {
      this.pool.release(msg);
    }
    this.metrics.countPublished(snapshot ? 'snapshot' : 'delta');
    this.metrics.observeLatency(u.venue, (nowMs() - u.tsRecv) / 1000);
    if (!u.snapshot) this.writeLatency.published(streams.venue, u.tsEvent); // a snapshot's time is ours, not the venue's
    this.orchestrator.onBook(u);
  }

  trade(e: TradeEvent): void {
    const streams = this.symbolStreams(e.venue, e.symbol);
    const s = streams.trades;
    this.publish(s.channel, { t: 'trade', seq: ++s.seq, id: e.tradeId, p: e.price, q: e.qty, side: e.side, te: e.tsEvent, tr: e.tsRecv });
    this.metrics.countPublished('trade');
    this.metrics.observeLatency(e.venue, (nowMs() - e.tsRecv) / 1000);
    this.writeLatency.published(streams.venue, e.tsEvent);
  }

  bbo(e: BboEvent): void {
    const s = this.symbolStreams(e.venue, e.symbol).ticker;
    this.publish(s.channel, { t: 'bbo', seq: ++s.seq, bp: e.bidPrice, bq: e.bidQty, ap: e.askPrice, aq: e.askQty, te: e.tsEvent, tr: e.tsRecv }, 'bbo');
    this.metrics.countPublished('ticker');
  }

  status(e: StatusEvent): void {
    this.health.set(`${e.venue}:${e.symbol ?? '*'}`, e);
    if (e.status !== 'live') {
      this.orchestrator.onVenueDown(e.venue, e.symbol);
      if (e.symbol !== null) this.stream(bookChannel(e.symbol, e.venue)).needSnapshot = true;
    }
    this.publish('market:health', { t: 'status', ...e }, `${e.venue}:${e.symbol ?? '*'}`);
  }
}
