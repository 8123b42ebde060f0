/**
 * @module apps/market/venues/binance/parse
 * The hot-path parser for Binance spot stream messages: a field scanner that reads a combined
 * stream envelope (`{"stream":…,"data":{…}}`) or a raw event straight into a reused
 * {@link BinanceScan}, with no intermediate object tree. Decimal strings are parsed digit by digit
 * into numbers (exact: an integer mantissa below 2^53 divided by an exact power of ten is the
 * correctly rounded double, the same as `Number(text)`); longer ones fall back to `Number`.
 *
 * It handles depthUpdate, trade, aggTrade and bookTicker; anything else scans as `unknown`.
 * Malformed input returns false (the caller counts it), never throws. Equality with the
 * `JSON.parse` baseline (parse-json.ts) is a property test; the speed difference is in the bench.
 * JSON.parse/JSON.stringify are banned in this file by eslint.config.js.
 */
import { parseDecimal } from '../json-cursor.js';

export const enum BinanceKind {
  Unknown = 0,
  Depth = 1,
  Trade = 2,
  AggTrade = 3,
  BookTicker = 4,
}

/** One scanned message; reused across calls, so copy what you keep. */
export class BinanceScan {
  kind: BinanceKind = BinanceKind.Unknown;
  eventTime = 0;
  symbol = '';
  firstId = 0;
  lastId = 0;
  tradeId = 0;
  price = 0;
  qty = 0;
  tradeTime = 0;
  buyerMaker = false;
  bidPrice = 0;
  bidQty = 0;
  askPrice = 0;
  askQty = 0;
  /**
   * Depth levels flattened [price, qty, ...]: the first `bidCount`/`askCount` numbers are this
   * message's. The arrays never shrink (shrinking an array frees its storage and the next push
   * allocates it again), so scanning allocates nothing per level.
   */
  readonly bids: number[] = [];
  readonly asks: number[] = [];
  bidCount = 0;
  askCount = 0;

  reset(): void {
    this.kind = BinanceKind.Unknown;
    this.eventTime = this.firstId = this.lastId = this.tradeId = this.price = this.qty = this.tradeTime = 0;
    this.bidPrice = this.bidQty = this.askPrice = this.askQty = 0;
    this.symbol = '';
    this.buyerMaker = false;
    this.bidCount = 0;
    this.askCount = 0;
  }
}

const QUOTE = 34;
const COLON = 58;
const COMMA = 44;
const LBRACE = 123;
const RBRACE = 125;
const LBRACKET = 91;
const RBRACKET = 93;

/** Scanner position shared by the helpers (module-level: the scanner is synchronous). */
let pos = 0;
let src = '';
let failed = false;

function skipWs(): void {
  let c = src.charCodeAt(pos);
  while (c === 32 || c === 10 || c === 13 || c === 9) c = src.charCodeAt(++pos);
}

function expect(code: number): void {
  skipWs();
  if (src.charCodeAt(pos) !== code) failed = true;
  else pos++;
}

/** The decimal number in src[start, end) (shared with the Coinbase and Kraken scanners). */
function decimal(start: number, end: number): number {
  return parseDecimal(src, start, end);
}

/** Reads a JSON string's bounds; returns start, leaves pos after the closing quote. */
function stringEnd(): number {
  // Binance values never contain escapes; a backslash makes the message unscannable.
  const start = pos;
  const len = src.length;
  for (let i = start; i < len; i++) {
    const c = src.charCodeAt(i);
    if (c === QUOTE) {
      pos = i + 1;
      return i;
    }
    if (c === 92 /* backslash */) break;
  }
  failed = true;
  return start;
}

/** A number given bare or as a quoted decimal. */
function numberValue(): number {
  skipWs();
  if (src.charCodeAt(pos) === QUOTE) {
    pos++;
    const start = pos;
    const end = stringEnd();
    return decimal(start, end);
  }
  const start = pos;
  let c = src.charCodeAt(pos);
  while ((c >= 48 && c <= 57) || c === 45 || c === 46 || c === 101 || c === 69 || c === 43) c = src.charCodeAt(++pos);
  if (pos === start) failed = true;
  return decimal(start, pos);
}

/** [["p","q"], ...] into out as [p, q, ...]; returns how many numbers were written. */
function levels(out: number[]): number {
  let n = 0;
  expect(LBRACKET);
  skipWs();
  if (src.charCodeAt(pos) === RBRACKET) {
    pos++;
    return 0;
  }
  while (!failed) {
    expect(LBRACKET);
    const p = numberValue();
    expect(COMMA);
    const q = numberValue();
    expect(RBRACKET);
    if (failed || p !== p || q !== q) {
      failed = true;
      return n;
    }
    if (n < out.length) {
      out[n] = p;
      out[n + 1] = q;
    } else out.push(p, q);
    n += 2;
    skipWs();
    const c = src.charCodeAt(pos++);
    if (c === RBRACKET) return n;
    if (c !== COMMA) failed = true;
  }
  return n;
}

/** Skips any JSON value (for fields we do not read). */
function skipValue(): void {
  skipWs();
  const c = src.charCodeAt(pos);
  if (c === QUOTE) {
    pos++;
    stringEnd();
    return;
  }
  if (c === LBRACE || c === LBRACKET) {
    let depth = 0;
    for (; pos < src.length; pos++) {
      const d = src.charCodeAt(pos);
      if (d === QUOTE) {
        pos++;
        stringEnd();
        pos--;
      } else if (d === LBRACE || d === LBRACKET) depth++;
      else if (d === RBRACE || d === RBRACKET) {
        if (--depth === 0) {
          pos++;
          return;
        }
      }
    }
    failed = true;
    return;
  }
  let d = src.charCodeAt(pos);
  const start = pos;
  while (pos < src.length && d !== COMMA && d !== RBRACE && d !== RBRACKET) d = src.charCodeAt(++pos);
  if (pos === start) failed = true;
}

function boolValue(): boolean {
  skipWs();
  if (src.startsWith('true', pos)) {
    pos += 4;
    return true;
  }
  if (src.startsWith('false', pos)) {
    pos += 5;
    return false;
  }
  failed = true;
  return false;
}

function eventKind(): BinanceKind {
  skipWs();
  if (src.charCodeAt(pos) !== QUOTE) {
    failed = true;
    return BinanceKind.Unknown;
  }
  pos++;
  const start = pos;
  const end = stringEnd();
  const len = end - start;
  if (len === 11 && src.startsWith('depthUpdate', start)) return BinanceKind.Depth;
  if (len === 5 && src.startsWith('trade', start)) return BinanceKind.Trade;
  if (len === 8 && src.startsWith('aggTrade', start)) return BinanceKind.AggTrade;
  return BinanceKind.Unknown;
}

/** Scans the event object at pos into out. Keys are one letter; "a"/"b" mean different things per event. */
function scanEvent(out: BinanceScan): void {
  expect(LBRACE);
  let kind = BinanceKind.BookTicker; // the only event without "e"
  let sawE = false;
  while (!failed) {
    skipWs();
    if (src.charCodeAt(pos) === RBRACE) {
      pos++;
      break;
    }
    if (src.charCodeAt(pos) !== QUOTE) {
      failed = true;
      break;
    }
    pos++;
    const keyStart = pos;
    const keyEnd = stringEnd();
    expect(COLON);
    if (failed) break;
    const key = keyEnd - keyStart === 1 ? src.charCodeAt(keyStart) : 0;
    switch (key) {
      case 101 /* e */: kind = eventKind(); sawE = true; break;
      case 69 /* E */: out.eventTime = numberValue(); break;
      case 115 /* s */: {
        skipWs();
        if (src.charCodeAt(pos++) !== QUOTE) failed = true;
        const start = pos;
        out.symbol = src.slice(start, stringEnd());
        break;
      }
      case 85 /* U */: out.firstId = numberValue(); break;
      case 117 /* u */: out.lastId = numberValue(); break;
      case 116 /* t */: out.tradeId = numberValue(); break;
      case 112 /* p */: out.price = numberValue(); break;
      case 113 /* q */: out.qty = numberValue(); break;
      case 84 /* T */: out.tradeTime = numberValue(); break;
      case 109 /* m */: out.buyerMaker = boolValue(); break;
      case 66 /* B */: out.bidQty = numberValue(); break;
      case 65 /* A */: out.askQty = numberValue(); break;
      case 98 /* b */:
        skipWs();
        if (src.charCodeAt(pos) === LBRACKET) out.bidCount = levels(out.bids);
        else out.bidPrice = numberValue();
        break;
      case 97 /* a */:
        skipWs();
        if (src.charCodeAt(pos) === LBRACKET) out.askCount = levels(out.asks);
        else if (src.charCodeAt(pos) === QUOTE) out.askPrice = numberValue();
        else out.tradeId = numberValue(); // aggTrade id
        break;
      default: skipValue();
    }
    skipWs();
    const c = src.charCodeAt(pos);
    if (c === COMMA) pos++;
    else if (c !== RBRACE) failed = true;
  }
  out.kind = failed ? BinanceKind.Unknown : sawE ? kind : BinanceKind.BookTicker;
}

/**
 * Scans one message into `out` (reset first). Returns false on malformed input.
 * @example
 * const scan = new BinanceScan();
 * if (scanBinance(text, scan) && scan.kind === BinanceKind.Depth) book.applyLevels(scan.bids, scan.asks);
 */
export function scanBinance(text: string, out: BinanceScan): boolean {
  out.reset();
  src = text;
  pos = 0;
  failed = false;
  skipWs();
  if (text.startsWith('{"stream":', pos)) {
    const data = text.indexOf('"data":', pos);
    if (data < 0) return false;
    pos = data + 7;
  }
  scanEvent(out);
  src = '';
  return !failed;
}
