/**
 * @module apps/market/venues/binance/sync
 * Binance's documented local order book procedure for one symbol, as a pure state machine
 * (no sockets, so tests drive it with a million diffs in seconds):
 *
 * 1. Buffer the diff stream. 2. Fetch a REST snapshot (`lastUpdateId`). 3. If the snapshot is
 * older than the first buffered diff (`lastUpdateId < U - 1` of the first kept), fetch again.
 * 4. Drop buffered diffs with `u <= lastUpdateId`. 5. The first applied diff must straddle it
 * (`U <= lastUpdateId + 1 <= u`). 6. Then every diff must continue the last (`U == last + 1`):
 * `U > last + 1` is a gap → resync from step 1; `u <= last` is a duplicate or late diff and is
 * dropped. Quantity 0 removes a level.
 */
import { OrderBook } from '../../book.js';
import { bookUpdateFor, fillUpdate, type BookUpdate, type MarketSink, type VenueCounters } from '../sink.js';
import { nowMs } from '../../types.js';

interface BufferedDiff {
  firstId: number;
  lastId: number;
  eventTime: number;
  tsRecv: number;
  bids: number[];
  asks: number[];
}

/**
 * Diffs kept while a snapshot is in flight (bounded memory when a venue floods): beyond this the
 * oldest is dropped and counted; a snapshot older than what is kept is then stale and refetched.
 */
export const MAX_BUFFERED = 10_000;

export class BinanceBookSync {
  readonly book: OrderBook;
  private state: 'buffering' | 'live' = 'buffering';
  private buffer: BufferedDiff[] = [];
  private snapshotWanted = true;
  /** Id of the latest snapshot request: an answer to an older one may arrive first. */
  private requested = 0;
  private readonly update: BookUpdate;

  constructor(
    readonly symbol: string,
    private readonly sink: MarketSink,
    private readonly counters: VenueCounters,
    /**
     * Asks the adapter for a REST snapshot at once (even with an earlier request still in
     * flight); it calls onSnapshot (or onSnapshotFailed) later with the same `requestId`.
     */
    private readonly requestSnapshot: (symbol: string, requestId: number) => void,
  ) {
    this.book = new OrderBook(symbol);
    this.update = bookUpdateFor('binance', this.book);
  }

  /** Diffs waiting for the snapshot. */
  get buffered(): number {
    return this.buffer.length;
  }

  get live(): boolean {
    return this.state === 'live';
  }

  /** Call once the diff stream is subscribed (and after every reconnect). */
  start(reason = 'start'): void {
    this.resync(reason, false);
  }

  /** A diff; only the first `nb`/`na` numbers of `bids`/`asks` are its levels (scanner arrays are reused). */
  onDiff(firstId: number, lastId: number, bids: readonly number[], asks: readonly number[], eventTime: number, tsRecv: number, nb = bids.length, na = asks.length): void {
    if (this.state === 'buffering') {
      if (this.buffer.length >= MAX_BUFFERED) {
        this.buffer.shift();
        this.counters.bufferOverflow('binance');
      }
      this.buffer.push({ firstId, lastId, eventTime, tsRecv, bids: bids.slice(0, nb), asks: asks.slice(0, na) });
      if (this.snapshotWanted) this.askForSnapshot();
      return;
    }
    const last = this.book.venueSeq;
    if (lastId <= last) {
      this.counters.duplicate('binance');
      return;
    }
    if (firstId > last + 1) {
      this.counters.gap('binance');
      this.resync(`gap: expected U=${last + 1}, got U=${firstId}`, true);
      this.buffer.push({ firstId, lastId, eventTime, tsRecv, bids: bids.slice(0, nb), asks: asks.slice(0, na) });
      return;
    }
    this.apply(bids, asks, nb, na, lastId, eventTime, tsRecv);
  }

  /**
   * A REST snapshot (`requestId`: which request it answers; the latest by default). Any answer
   * that bridges to the buffered diffs is applied, even one to a request made before the gap
   * (it is the fastest way back). One that predates them is stale: if it answers an older
   * request, the latest is still in flight and is awaited; otherwise a new one is asked at once.
   */
  onSnapshot(lastUpdateId: number, bids: readonly number[], asks: readonly number[], requestId = this.requested): void {
    if (this.state === 'live') return; // a late answer to an earlier request
    const kept = this.buffer.filter((d) => d.lastId > lastUpdateId);
    if (kept.length > 0 && kept[0].firstId > lastUpdateId + 1) {
      // The snapshot predates everything we buffered (stale): it cannot be bridged.
      if (requestId < this.requested) return; // the request made after the gap is still in flight
      this.counters.resync('binance', 'stale_snapshot');
      this.buffer = kept;
      this.askForSnapshot();
      return;
    }
    this.book.load(bids, asks, lastUpdateId);
    this.state = 'live';
    this.buffer = [];
    const tsRecv = nowMs();
    this.sink.book({ venue: 'binance', symbol: this.symbol, book: this.book, snapshot: true, bids, asks, nb: bids.length, na: asks.length, venueSeq: lastUpdateId, tsEvent: tsRecv, tsRecv });
    this.sink.status({ type: 'status', venue: 'binance', symbol: this.symbol, status: 'live', reason: 'snapshot applied', ts: tsRecv });
    for (const d of kept) this.onDiff(d.firstId, d.lastId, d.bids, d.asks, d.eventTime, d.tsRecv);
  }

  /** The REST call failed: try again on the next diff (the adapter rate-limits requests). */
  onSnapshotFailed(requestId = this.requested): void {
    if (this.state === 'buffering' && requestId === this.requested) this.snapshotWanted = true;
  }

  private apply(bids: readonly number[], asks: readonly number[], nb: number, na: number, lastId: number, eventTime: number, tsRecv: number): void {
    this.book.applyLevels(bids, asks, nb, na);
    this.book.venueSeq = lastId;
    if (this.book.isCrossed()) {
      // A venue can briefly publish a crossed book; ours must never show one: resync.
      this.resync('crossed book after diff', true);
      return;
    }
    // One reused update object per book: the hot path allocates nothing here.
    this.sink.book(fillUpdate(this.update, false, bids, asks, nb, na, lastId, eventTime, tsRecv));
  }

  private resync(reason: string, counted: boolean): void {
    if (counted) this.counters.resync('binance', reason.startsWith('gap') ? 'gap' : 'crossed');
    this.state = 'buffering';
    this.buffer = [];
    this.book.clear();
    this.sink.status({ type: 'status', venue: 'binance', symbol: this.symbol, status: 'resyncing', reason, ts: nowMs() });
    this.askForSnapshot();
  }

  private askForSnapshot(): void {
    this.snapshotWanted = false;
    this.requestSnapshot(this.symbol, ++this.requested);
  }
}
