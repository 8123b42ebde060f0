/**
 * @module apps/market/venues/binance/session
 * A Binance spot connection: one combined-stream socket carrying depth diffs, trades and book
 * tickers for every symbol; a {@link BinanceBookSync} per symbol; REST snapshots fetched within
 * the REST weight budget (a token bucket: depth at limit 1000 weighs 10 of the 6000/min budget).
 * Binance pings us every 20 s and `ws` answers with a pong automatically.
 */
import { TokenBucket } from '../../../../core/token-bucket.js';
import type { OrderBook } from '../../book.js';
import { VenueSession, type SessionOptions } from '../session.js';
import { BinanceBookSync } from './sync.js';
import { BinanceKind, BinanceScan, scanBinance } from './parse.js';
import { tradeIdText, venueSymbol, type SymbolSpec } from '../../types.js';

export interface BinanceEndpoints {
  /** Combined stream base, e.g. wss://stream.binance.com:9443/stream */
  ws: string;
  /** REST base, e.g. https://api.binance.com */
  rest: string;
}

const DEPTH_LIMIT = 1000;
const DEPTH_WEIGHT = 10;

export class BinanceSession extends VenueSession {
  readonly venue = 'binance' as const;
  private readonly syncs = new Map<string, BinanceBookSync>();
  private readonly specs = new Map<string, SymbolSpec>();
  private readonly scan = new BinanceScan();
  private readonly restBudget = new TokenBucket({ capacity: 600, refillPerSecond: 100 });

  constructor(private readonly endpoints: BinanceEndpoints, options: SessionOptions) {
    super(options);
    for (const spec of options.symbols) {
      const native = venueSymbol.binance(spec);
      this.specs.set(native, spec);
      this.syncs.set(native, new BinanceBookSync(spec.symbol, this.gatedSink(), options.counters, (_symbol, requestId) => this.fetchSnapshot(native, requestId)));
    }
  }

  protected url(): string {
    const streams = [...this.specs.keys()].flatMap((s) => {
      const l = s.toLowerCase();
      return [`${l}@depth@100ms`, `${l}@trade`, `${l}@bookTicker`];
    });
    return `${this.endpoints.ws}?streams=${streams.join('/')}`;
  }

  protected onOpen(): void {
    for (const sync of this.syncs.values()) sync.start('connected');
  }

  books(): Iterable<OrderBook> {
    return [...this.syncs.values()].map((s) => s.book);
  }

  allLive(): boolean {
    for (const s of this.syncs.values()) if (!s.live) return false;
    return true;
  }

  protected onText(text: string, tsRecv: number): void {
    const scan = this.scan;
    const ok = scanBinance(text, scan);
    if (!ok && text.startsWith('{"result"')) return; // a subscription's acknowledgement
    if (!this.scanned(ok)) return;
    const sync = this.syncs.get(scan.symbol);
    const spec = this.specs.get(scan.symbol);
    if (!sync || !spec) {
      if (scan.kind !== BinanceKind.Unknown) this.options.counters.unknownSymbol('binance');
      return;
    }
    switch (scan.kind) {
      case BinanceKind.Depth:
        sync.onDiff(scan.firstId, scan.lastId, scan.bids, scan.asks, scan.eventTime, tsRecv, scan.bidCount, scan.askCount);
        break;
      case BinanceKind.Trade:
      case BinanceKind.AggTrade:
        this.emitTrade({ type: 'trade', venue: 'binance', symbol: spec.symbol, tsEvent: scan.tradeTime, tsRecv, tradeId: tradeIdText(scan.tradeId), price: scan.price, qty: scan.qty, side: scan.buyerMaker ? 'sell' : 'buy' });
        break;
      case BinanceKind.BookTicker:
        this.emitBbo({ type: 'bbo', venue: 'binance', symbol: spec.symbol, tsEvent: tsRecv, tsRecv, bidPrice: scan.bidPrice, bidQty: scan.bidQty, askPrice: scan.askPrice, askQty: scan.askQty });
        break;
      default:
        this.options.counters.malformed('binance');
    }
  }

  /**
   * GET /api/v3/depth within the weight budget, at once: a request still in flight from before a
   * gap is not waited for (its answer may predate the gap, costing a second round trip); the sync
   * applies whichever answer bridges first. Retried on the next diff when refused or failed.
   */
  private fetchSnapshot(native: string, requestId: number): void {
    const sync = this.syncs.get(native)!;
    if (!this.restBudget.take(DEPTH_WEIGHT)) {
      setTimeout(() => sync.onSnapshotFailed(requestId), 250).unref();
      return;
    }
    void (async () => {
      try {
        const res = await fetch(`${this.endpoints.rest}/api/v3/depth?symbol=${native}&limit=${DEPTH_LIMIT}`);
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        const body = (await res.json()) as { lastUpdateId: number; bids: [string, string][]; asks: [string, string][] };
        const flat = (l: [string, string][]) => l.flatMap(([p, q]) => [Number(p), Number(q)]);
        sync.onSnapshot(body.lastUpdateId, flat(body.bids), flat(body.asks), requestId);
      } catch (err) {
        if (!sync.live) this.status(sync.symbol, 'resyncing', `snapshot failed: ${(err as Error).message}`);
        setTimeout(() => sync.onSnapshotFailed(requestId), 250).unref();
      }
    })();
  }
}

