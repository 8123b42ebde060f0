/**
 * @module apps/market/gateway
 * Wires one market gateway: venue adapters → dispatcher (+ orchestrator) → a publish function.
 * The app (index.ts) publishes into the hub; tests and the benchmark use the same wiring with
 * their own publish function, so what they measure is what the server runs.
 */
import { BoundedPool, PoolManager } from './pool.js';
import { BookMessage, type Publish } from './pipeline/messages.js';
import { Orchestrator } from './pipeline/orchestrator.js';
import { Dispatcher } from './pipeline/dispatcher.js';
import { createMarketMetrics, type MarketMetrics } from './metrics.js';
import { VenueAdapter, type SessionOptions, type VenueSession } from './venues/session.js';
import { BinanceSession } from './venues/binance/session.js';
import { CoinbaseSession } from './venues/coinbase/session.js';
import { KrakenSession } from './venues/kraken/session.js';
import type { Registry } from '../../core/metrics.js';
import type { OrderBook } from './book.js';
import type { SymbolSpec, VenueName } from './types.js';
import type { VenueUrls } from './simulator/server.js';

export interface GatewayOptions {
  symbols: SymbolSpec[];
  venues: Partial<VenueUrls>;
  publish: Publish;
  registry: Registry | null;
  poolDebug?: boolean;
  rotateAfterMs?: number;
  silenceMs?: number;
  /** Sees every venue message as received (a JSONL recorder). */
  record?: SessionOptions['record'];
}

export class MarketGateway {
  readonly pools = new PoolManager();
  readonly metrics: MarketMetrics;
  readonly orchestrator: Orchestrator;
  readonly dispatcher: Dispatcher;
  readonly adapters = new Map<VenueName, VenueAdapter>();

  constructor(readonly options: GatewayOptions) {
    const bookMessages = this.pools.add(new BoundedPool({ name: 'book_message', capacity: 1024, create: () => new BookMessage(), debug: options.poolDebug }));
    this.metrics = createMarketMetrics(options.registry, this.pools);
    this.orchestrator = new Orchestrator(options.publish);
    this.dispatcher = new Dispatcher(options.publish, bookMessages, this.orchestrator, this.metrics);
    const session: SessionOptions = { symbols: options.symbols, counters: this.metrics.counters, silenceMs: options.silenceMs ?? 5_000, pingIntervalMs: 10_000, record: options.record };
    const makers: { [V in VenueName]?: () => VenueSession } = {};
    const v = options.venues;
    if (v.binance) makers.binance = () => new BinanceSession(v.binance!, session);
    if (v.coinbase) makers.coinbase = () => new CoinbaseSession(v.coinbase!.ws, session);
    if (v.kraken) makers.kraken = () => new KrakenSession(v.kraken!.ws, session);
    for (const [venue, make] of Object.entries(makers) as [VenueName, () => VenueSession][]) {
      this.adapters.set(venue, new VenueAdapter(venue, make, this.dispatcher, this.metrics.counters, { rotateAfterMs: options.rotateAfterMs ?? 23 * 3600_000, backoffBaseMs: 250, backoffMaxMs: 10_000 }));
    }
  }

  get venues(): VenueName[] {
    return [...this.adapters.keys()];
  }

  start(): void {
    for (const a of this.adapters.values()) a.start();
  }

  /**
   * The app-wide idle switch: while nobody watches, the venue sessions watch their connections on
   * a coarser clock (venues/session.ts); the first watcher back gets every book stream's next
   * publication as a full snapshot, not a delta against a state it never saw.
   */
  setIdle(idle: boolean): void {
    for (const a of this.adapters.values()) a.setIdle(idle);
    if (!idle) this.dispatcher.snapshotNext();
  }

  book(venue: VenueName, symbol: string): OrderBook | undefined {
    for (const b of this.adapters.get(venue)?.books() ?? []) if (b.symbol === symbol) return b;
    return undefined;
  }

  /** Stops the venue connections, then waits (≤ 5 s) for pooled objects to come home. */
  async close(): Promise<{ drained: boolean; leaked: { pool: string; acquired: number }[] }> {
    for (const a of this.adapters.values()) a.stop();
    this.orchestrator.close();
    return this.pools.drain(5_000);
  }
}
