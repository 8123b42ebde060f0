/**
 * @module apps/market/simulator/binance
 * Binance spot as the simulator speaks it: WebSocket streams (`/binance/stream?streams=…` with
 * the combined `{stream, data}` envelope, `/binance/ws` with SUBSCRIBE requests and raw events)
 * carrying depthUpdate (U/u), trade, aggTrade and bookTicker; REST `/api/v3/depth` snapshots with
 * `lastUpdateId` and a minimal `/api/v3/exchangeInfo` (what CCXT loads before watching).
 */
import type { WebSocket } from 'ws';
import type { SimMarket } from './market.js';
import type { TruthBook, TruthChange } from './truth.js';
import { FaultInjector, FaultyStream } from './faults.js';
import { venueSymbol, type VenueName } from '../types.js';

function levels(truth: TruthBook, flat: number[]): string {
  let out = '';
  for (let i = 0; i < flat.length; i += 2) out += `${i ? ',' : ''}["${truth.price(flat[i])}","${truth.qty(flat[i + 1])}"]`;
  return `[${out}]`;
}

export function binanceDepthUpdate(truth: TruthBook, c: TruthChange): string {
  const s = venueSymbol.binance(truth.spec);
  return `{"e":"depthUpdate","E":${c.ts},"s":"${s}","U":${c.firstId},"u":${c.lastId},"b":${levels(truth, c.bids)},"a":${levels(truth, c.asks)}}`;
}

export function binanceTrade(truth: TruthBook, c: TruthChange): string {
  const t = c.trade!;
  const s = venueSymbol.binance(truth.spec);
  return `{"e":"trade","E":${c.ts},"s":"${s}","t":${t.id},"p":"${truth.price(t.priceTicks)}","q":"${truth.qty(t.lots)}","T":${c.ts},"m":${t.side === 'sell'},"M":true}`;
}

export function binanceAggTrade(truth: TruthBook, c: TruthChange): string {
  const t = c.trade!;
  const s = venueSymbol.binance(truth.spec);
  return `{"e":"aggTrade","E":${c.ts},"s":"${s}","a":${t.id},"p":"${truth.price(t.priceTicks)}","q":"${truth.qty(t.lots)}","f":${t.id},"l":${t.id},"T":${c.ts},"m":${t.side === 'sell'},"M":true}`;
}

export function binanceBookTicker(truth: TruthBook): string {
  const b = truth.book;
  const s = venueSymbol.binance(truth.spec);
  return `{"u":${truth.updateId},"s":"${s}","b":"${truth.price(b.bids.best)}","B":"${truth.qty(b.bids.bestQty)}","a":"${truth.price(b.asks.best)}","A":"${truth.qty(b.asks.bestQty)}"}`;
}

/** GET /api/v3/depth?symbol=BTCUSDT&limit=N (stale with the plan's probability). */
export function binanceRestDepth(market: SimMarket, faults: FaultInjector, symbol: string, limit: number): { status: number; body: string } {
  const truth = [...market.books.get('binance')!.values()].find((t) => venueSymbol.binance(t.spec) === symbol);
  if (!truth) return { status: 400, body: '{"code":-1121,"msg":"Invalid symbol."}' };
  const stale = faults.chance(faults.plan.staleSnapshot) ? market.staleCopies.get(truth) : undefined;
  const snap = stale ?? { updateId: truth.updateId, bids: truth.levels('bid'), asks: truth.levels('ask') };
  const fmt = (l: [string, string][]) => JSON.stringify(l.slice(0, limit));
  return { status: 200, body: `{"lastUpdateId":${snap.updateId},"bids":${fmt(snap.bids)},"asks":${fmt(snap.asks)}}` };
}

export function binanceExchangeInfo(market: SimMarket): string {
  const symbols = [...market.books.get('binance')!.values()].map((t) => ({
    symbol: venueSymbol.binance(t.spec),
    status: 'TRADING',
    baseAsset: t.spec.base,
    quoteAsset: t.spec.quote,
    baseAssetPrecision: t.spec.qtyPrecision,
    quotePrecision: t.spec.pricePrecision,
    quoteAssetPrecision: t.spec.pricePrecision,
    isSpotTradingAllowed: true,
    isMarginTradingAllowed: false,
    permissions: ['SPOT'],
    permissionSets: [['SPOT']],
    orderTypes: ['LIMIT', 'MARKET'],
    filters: [
      { filterType: 'PRICE_FILTER', minPrice: t.price(1), maxPrice: '1000000.00', tickSize: t.price(1) },
      { filterType: 'LOT_SIZE', minQty: t.qty(1), maxQty: '9000000', stepSize: t.qty(1) },
    ],
  }));
  return JSON.stringify({ timezone: 'UTC', serverTime: Date.now(), rateLimits: [], exchangeFilters: [], symbols });
}

/** One client connection to the simulated Binance stream endpoint. */
export class BinanceSimConnection {
  private readonly streams = new Set<string>();
  private readonly out: FaultyStream;
  private readonly unlisten: () => void;

  constructor(
    private readonly ws: WebSocket,
    market: SimMarket,
    faults: FaultInjector,
    /** Combined endpoint: wrap events as {stream, data}. */
    private readonly combined: boolean,
    initialStreams: string[],
  ) {
    for (const s of initialStreams) this.streams.add(s.toLowerCase());
    this.out = new FaultyStream(faults, (text) => ws.readyState === ws.OPEN && ws.send(text));
    this.unlisten = market.onChange((venue, truth, change) => this.onChange(venue, truth, change));
    ws.on('close', () => this.unlisten());
    ws.on('message', (data) => this.onRequest(data.toString()));
  }

  private wrap(stream: string, data: string): string {
    return this.combined ? `{"stream":"${stream}","data":${data}}` : data;
  }

  private onRequest(text: string): void {
    let req: { method?: string; params?: unknown; id?: unknown };
    try {
      req = JSON.parse(text) as typeof req;
    } catch {
      this.ws.send('{"error":{"code":3,"msg":"Invalid JSON"}}');
      return;
    }
    const params = Array.isArray(req.params) ? req.params.filter((p): p is string => typeof p === 'string') : [];
    if (req.method === 'SUBSCRIBE') for (const p of params) this.streams.add(p.toLowerCase());
    else if (req.method === 'UNSUBSCRIBE') for (const p of params) this.streams.delete(p.toLowerCase());
    else if (req.method !== 'LIST_SUBSCRIPTIONS') {
      this.ws.send(`{"error":{"code":2,"msg":"Invalid request"},"id":${JSON.stringify(req.id ?? null)}}`);
      return;
    }
    this.ws.send(JSON.stringify({ result: req.method === 'LIST_SUBSCRIPTIONS' ? [...this.streams] : null, id: req.id ?? null }));
  }

  private onChange(venue: VenueName, truth: TruthBook, change: TruthChange): void {
    if (venue !== 'binance' || this.streams.size === 0) return;
    const s = venueSymbol.binance(truth.spec).toLowerCase();
    for (const depth of [`${s}@depth@100ms`, `${s}@depth`]) {
      if (this.streams.has(depth)) this.out.push(this.wrap(depth, binanceDepthUpdate(truth, change)));
    }
    if (change.trade) {
      if (this.streams.has(`${s}@trade`)) this.out.pass(this.wrap(`${s}@trade`, binanceTrade(truth, change)));
      if (this.streams.has(`${s}@aggTrade`.toLowerCase())) this.out.pass(this.wrap(`${s}@aggTrade`, binanceAggTrade(truth, change)));
    }
    if (this.streams.has(`${s}@bookticker`)) this.out.pass(this.wrap(`${s}@bookTicker`, binanceBookTicker(truth)));
  }
}
