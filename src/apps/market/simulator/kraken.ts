/**
 * @module apps/market/simulator/kraken
 * Kraken WebSocket v2 as the simulator speaks it (`/kraken`): `subscribe`/`unsubscribe` methods
 * with acks, `ping`/`pong`, a heartbeat each second while the market moves (server.ts), and the
 * `book` channel at a subscribed depth (10 by default): a snapshot, then updates carrying the
 * CRC32 checksum of the top 10. Like Kraken, levels pushed out of the subscribed depth by better
 * ones are not deleted explicitly: the client truncates. Prices and quantities are JSON numbers at the pair's precision.
 */
import type { WebSocket } from 'ws';
import type { SimMarket } from './market.js';
import type { TruthBook, TruthChange } from './truth.js';
import { FaultInjector, FaultyStream } from './faults.js';
import { krakenChecksumText } from '../venues/kraken/checksum.js';
import { venueSymbol, type VenueName } from '../types.js';

interface BookView {
  depth: number;
  /** What the client holds, per side: price tick → lots. */
  bids: Map<number, number>;
  asks: Map<number, number>;
}

function topMap(flat: number[]): Map<number, number> {
  const m = new Map<number, number>();
  for (let i = 0; i < flat.length; i += 2) m.set(flat[i], flat[i + 1]);
  return m;
}

export class KrakenSimConnection {
  private readonly books = new Map<string, BookView>();
  private readonly trades = new Set<string>();
  private readonly out: FaultyStream;
  private readonly unlisten: () => void;

  constructor(private readonly ws: WebSocket, private readonly market: SimMarket, private readonly faults: FaultInjector) {
    this.out = new FaultyStream(faults, (text) => ws.readyState === ws.OPEN && ws.send(text));
    this.unlisten = market.onChange((venue, truth, change) => this.onChange(venue, truth, change));
    ws.on('close', () => this.unlisten());
    ws.on('message', (data) => this.onRequest(data.toString()));
    ws.send('{"channel":"status","type":"update","data":[{"version":"2.0.0","system":"online","api_version":"v2","connection_id":1}]}');
  }

  /** One tick of the simulator's one-second clock (server.ts). */
  heartbeat(): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send('{"channel":"heartbeat"}');
  }

  private truthFor(symbol: string): TruthBook | undefined {
    return [...this.market.books.get('kraken')!.values()].find((t) => venueSymbol.kraken(t.spec) === symbol);
  }

  private onRequest(text: string): void {
    let req: { method?: unknown; params?: { channel?: unknown; symbol?: unknown; depth?: unknown }; req_id?: unknown };
    try {
      req = JSON.parse(text) as typeof req;
    } catch {
      this.ws.send('{"error":"Malformed request","success":false}');
      return;
    }
    const reqId = typeof req.req_id === 'number' ? req.req_id : undefined;
    const t = new Date().toISOString();
    if (req.method === 'ping') {
      this.ws.send(JSON.stringify({ method: 'pong', req_id: reqId, time_in: t, time_out: t }));
      return;
    }
    const channel = req.params?.channel;
    const symbols = Array.isArray(req.params?.symbol) ? req.params.symbol.filter((s): s is string => typeof s === 'string') : [];
    if ((req.method !== 'subscribe' && req.method !== 'unsubscribe') || (channel !== 'book' && channel !== 'trade')) {
      this.ws.send(JSON.stringify({ error: 'Unsupported request', method: req.method, success: false, req_id: reqId }));
      return;
    }
    for (const symbol of symbols) {
      const truth = this.truthFor(symbol);
      if (!truth) {
        this.ws.send(JSON.stringify({ error: `Currency pair not supported ${symbol}`, method: req.method, success: false, symbol, req_id: reqId }));
        continue;
      }
      const depth = typeof req.params?.depth === 'number' && [10, 25, 100, 500, 1000].includes(req.params.depth) ? req.params.depth : 10;
      this.ws.send(JSON.stringify({ method: req.method, result: { channel, symbol, ...(channel === 'book' ? { depth, snapshot: true } : {}) }, success: true, time_in: t, time_out: t, req_id: reqId }));
      if (channel === 'trade') {
        if (req.method === 'subscribe') this.trades.add(symbol);
        else this.trades.delete(symbol);
        continue;
      }
      if (req.method === 'unsubscribe') {
        this.books.delete(symbol);
        continue;
      }
      const view: BookView = { depth, bids: topMap(truth.book.bids.top(depth)), asks: topMap(truth.book.asks.top(depth)) };
      this.books.set(symbol, view);
      this.ws.send(this.bookMessage('snapshot', truth, [...view.bids], [...view.asks], false));
    }
  }

  private bookMessage(type: 'snapshot' | 'update', truth: TruthBook, bids: [number, number][], asks: [number, number][], corrupt: boolean): string {
    const lv = (l: [number, number][]) => l.map(([p, q]) => `{"price":${truth.price(p)},"qty":${truth.qty(q)}}`).join(',');
    const spec = truth.spec;
    const toReal = (flat: number[]) => flat.map((v, i) => (i % 2 === 0 ? Number(truth.price(v)) : Number(truth.qty(v))));
    let checksum = krakenChecksumText(toReal(truth.book.asks.top(10)), toReal(truth.book.bids.top(10)), spec.pricePrecision, spec.qtyPrecision);
    if (corrupt) checksum = (checksum + 1) >>> 0;
    const ts = type === 'update' ? `,"timestamp":"${new Date().toISOString()}"` : '';
    return `{"channel":"book","type":"${type}","data":[{"symbol":"${venueSymbol.kraken(spec)}","bids":[${lv(bids)}],"asks":[${lv(asks)}],"checksum":${checksum}${ts}}]}`;
  }

  /** Levels that changed within the subscribed depth since the client's view. */
  private diff(view: Map<number, number>, flat: number[], present: (tick: number) => boolean): [number, number][] {
    const out: [number, number][] = [];
    const now = topMap(flat);
    for (const [tick, lots] of now) if (view.get(tick) !== lots) out.push([tick, lots]);
    for (const tick of view.keys()) if (!now.has(tick) && !present(tick)) out.push([tick, 0]);
    view.clear();
    for (const [tick, lots] of now) view.set(tick, lots);
    return out;
  }

  private onChange(venue: VenueName, truth: TruthBook, change: TruthChange): void {
    if (venue !== 'kraken') return;
    const symbol = venueSymbol.kraken(truth.spec);
    const view = this.books.get(symbol);
    if (view) {
      const bids = this.diff(view.bids, truth.book.bids.top(view.depth), (t) => truth.book.bids.qtyAt(t) > 0);
      const asks = this.diff(view.asks, truth.book.asks.top(view.depth), (t) => truth.book.asks.qtyAt(t) > 0);
      if (bids.length + asks.length > 0) {
        this.out.push(this.bookMessage('update', truth, bids, asks, this.faults.chance(this.faults.plan.checksumCorruption)));
      }
    }
    if (change.trade && this.trades.has(symbol)) {
      const t = change.trade;
      this.out.pass(`{"channel":"trade","type":"update","data":[{"symbol":"${symbol}","side":"${t.side}","price":${truth.price(t.priceTicks)},"qty":${truth.qty(t.lots)},"ord_type":"limit","trade_id":${t.id},"timestamp":"${new Date(change.ts).toISOString()}"}]}`);
    }
  }
}
