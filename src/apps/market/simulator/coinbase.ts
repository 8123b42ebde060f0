/**
 * @module apps/market/simulator/coinbase
 * Coinbase Advanced Trade market data as the simulator speaks it (`/coinbase`): subscribe per
 * channel (`level2`, `ticker`, `market_trades`, `heartbeats`); every message carries the
 * connection's `sequence_num`; level2 is `l2_data` with a snapshot then updates of absolute
 * quantities (`new_quantity`, "0" removes), sides `bid`/`offer`.
 */
import type { WebSocket } from 'ws';
import type { SimMarket } from './market.js';
import type { TruthBook, TruthChange } from './truth.js';
import { FaultInjector, FaultyStream } from './faults.js';
import { venueSymbol, type VenueName } from '../types.js';

type Channel = 'level2' | 'ticker' | 'market_trades' | 'heartbeats';
const CHANNELS = new Set<Channel>(['level2', 'ticker', 'market_trades', 'heartbeats']);

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function updates(truth: TruthBook, flat: number[], side: 'bid' | 'offer', time: string): string {
  let out = '';
  for (let i = 0; i < flat.length; i += 2) {
    out += `${out ? ',' : ''}{"side":"${side}","event_time":"${time}","price_level":"${truth.price(flat[i])}","new_quantity":"${truth.qty(flat[i + 1])}"}`;
  }
  return out;
}

export class CoinbaseSimConnection {
  private seq = 0;
  private readonly subs = new Map<Channel, Set<string>>();
  private readonly out: FaultyStream;
  private readonly unlisten: () => void;
  private heartbeats = 0;

  constructor(private readonly ws: WebSocket, private readonly market: SimMarket, faults: FaultInjector) {
    this.out = new FaultyStream(faults, (text) => ws.readyState === ws.OPEN && ws.send(text));
    this.unlisten = market.onChange((venue, truth, change) => this.onChange(venue, truth, change));
    ws.on('close', () => this.unlisten());
    ws.on('message', (data) => this.onRequest(data.toString()));
  }

  private envelope(channel: string, events: string): string {
    return `{"channel":"${channel}","client_id":"","timestamp":"${iso(Date.now())}","sequence_num":${this.seq++},"events":[${events}]}`;
  }

  private truthFor(productId: string): TruthBook | undefined {
    return [...this.market.books.get('coinbase')!.values()].find((t) => venueSymbol.coinbase(t.spec) === productId);
  }

  private onRequest(text: string): void {
    let req: { type?: unknown; product_ids?: unknown; channel?: unknown };
    try {
      req = JSON.parse(text) as typeof req;
    } catch {
      this.ws.send(`{"type":"error","message":"failure to parse message"}`);
      return;
    }
    const channel = req.channel as Channel;
    const products = Array.isArray(req.product_ids) ? req.product_ids.filter((p): p is string => typeof p === 'string') : [];
    if ((req.type !== 'subscribe' && req.type !== 'unsubscribe') || !CHANNELS.has(channel)) {
      this.ws.send(`{"type":"error","message":"invalid subscription"}`);
      return;
    }
    const unknown = products.find((p) => !this.truthFor(p));
    if (unknown) {
      this.ws.send(`{"type":"error","message":"Failed to subscribe","reason":"${unknown} is not a valid product"}`);
      return;
    }
    const set = this.subs.get(channel) ?? new Set<string>();
    this.subs.set(channel, set);
    for (const p of products) {
      if (req.type === 'subscribe') set.add(p);
      else set.delete(p);
    }
    const summary = Object.fromEntries([...this.subs].map(([c, s]) => [c, [...s]]));
    this.ws.send(this.envelope('subscriptions', JSON.stringify({ subscriptions: summary })));
    if (req.type === 'subscribe' && channel === 'level2') {
      for (const p of products) {
        const truth = this.truthFor(p)!;
        const time = iso(Date.now());
        const bids = truth.book.bids.top(1_000);
        const asks = truth.book.asks.top(1_000);
        const u = [updates(truth, bids, 'bid', time), updates(truth, asks, 'offer', time)].filter(Boolean).join(',');
        this.ws.send(this.envelope('l2_data', `{"type":"snapshot","product_id":"${p}","updates":[${u}]}`));
      }
    }
  }

  /** One tick of the simulator's one-second clock (server.ts): a heartbeat if subscribed to them. */
  heartbeat(): void {
    if (!this.subs.get('heartbeats')?.size || this.ws.readyState !== this.ws.OPEN) return;
    this.ws.send(this.envelope('heartbeats', `{"current_time":"${iso(Date.now())}","heartbeat_counter":${++this.heartbeats}}`));
  }

  private onChange(venue: VenueName, truth: TruthBook, change: TruthChange): void {
    if (venue !== 'coinbase') return;
    const p = venueSymbol.coinbase(truth.spec);
    const time = iso(change.ts);
    if (this.subs.get('level2')?.has(p)) {
      const u = [updates(truth, change.bids, 'bid', time), updates(truth, change.asks, 'offer', time)].filter(Boolean).join(',');
      this.out.push(this.envelope('l2_data', `{"type":"update","product_id":"${p}","updates":[${u}]}`));
    }
    if (change.trade && this.subs.get('market_trades')?.has(p)) {
      const t = change.trade;
      this.out.pass(this.envelope('market_trades', `{"type":"update","trades":[{"trade_id":"${t.id}","product_id":"${p}","price":"${truth.price(t.priceTicks)}","size":"${truth.qty(t.lots)}","side":"${t.side === 'buy' ? 'BUY' : 'SELL'}","time":"${time}"}]}`));
    }
    if (this.subs.get('ticker')?.has(p)) {
      const b = truth.book;
      this.out.pass(this.envelope('ticker', `{"type":"update","tickers":[{"type":"ticker","product_id":"${p}","price":"${truth.price(b.bids.best)}","best_bid":"${truth.price(b.bids.best)}","best_bid_quantity":"${truth.qty(b.bids.bestQty)}","best_ask":"${truth.price(b.asks.best)}","best_ask_quantity":"${truth.qty(b.asks.bestQty)}"}]}`));
    }
  }
}
