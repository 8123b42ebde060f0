/**
 * @module apps/market/venues/binance/parse-json
 * The straightforward Binance parser (`JSON.parse` + plain objects), kept as the reference the
 * field scanner in parse.ts is proven equal to (test/market/binance-parse.test.ts) and measured
 * against (bench/market). Not used on the hot path.
 */
import { BinanceKind, BinanceScan } from './parse.js';

type Raw = Record<string, unknown>;

function levelsOf(value: unknown, out: number[]): boolean {
  if (!Array.isArray(value)) return false;
  for (const level of value) {
    if (!Array.isArray(level) || level.length !== 2) return false;
    const p = Number(level[0]);
    const q = Number(level[1]);
    if (Number.isNaN(p) || Number.isNaN(q)) return false;
    out.push(p, q);
  }
  return true;
}

/** Same contract as scanBinance: fills `out`, false on malformed input. */
export function parseBinanceJson(text: string, out: BinanceScan): boolean {
  out.reset();
  out.bids.length = 0;
  out.asks.length = 0;
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return false;
  }
  if (typeof msg !== 'object' || msg === null) return false;
  const data = ('stream' in msg && 'data' in msg ? (msg as Raw).data : msg) as Raw;
  if (typeof data !== 'object' || data === null) return false;
  const num = (v: unknown) => (v === undefined ? 0 : Number(v));
  out.eventTime = num(data.E);
  out.symbol = typeof data.s === 'string' ? data.s : '';
  switch (data.e) {
    case 'depthUpdate':
      out.kind = BinanceKind.Depth;
      out.firstId = num(data.U);
      out.lastId = num(data.u);
      if (!levelsOf(data.b, out.bids) || !levelsOf(data.a, out.asks)) return out.reset(), false;
      out.bidCount = out.bids.length;
      out.askCount = out.asks.length;
      return true;
    case 'trade':
    case 'aggTrade':
      out.kind = data.e === 'trade' ? BinanceKind.Trade : BinanceKind.AggTrade;
      out.tradeId = num(data.e === 'trade' ? data.t : data.a);
      out.price = num(data.p);
      out.qty = num(data.q);
      out.tradeTime = num(data.T);
      out.buyerMaker = data.m === true;
      return true;
    case undefined:
      out.kind = BinanceKind.BookTicker;
      out.lastId = num(data.u);
      out.bidPrice = num(data.b);
      out.bidQty = num(data.B);
      out.askPrice = num(data.a);
      out.askQty = num(data.A);
      return true;
    default:
      out.kind = BinanceKind.Unknown;
      return true;
  }
}
