/**
 * @module apps/market/venues/json-cursor
 * A forward-only cursor over one JSON text, for the venue field scanners (Coinbase, Kraken): it
 * reads keys, numbers (bare or quoted decimals) and ISO times in place and skips what a scanner
 * does not need, so a hot message is read without building its object tree. One cursor is
 * reused for every message of a connection: `reset(text)` and read. Any surprise sets `failed`
 * (the scanner then reports the message malformed); nothing throws.
 *
 * Decimals are read digit by digit: an integer mantissa below 2^53 divided by an exact power of
 * ten is the correctly rounded double, the same as `Number(text)`; longer or exponent forms
 * fall back to `Number`.
 */

const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18];
export const QUOTE = 34;
const COLON = 58;
const COMMA = 44;
export const LBRACE = 123;
export const RBRACE = 125;
export const LBRACKET = 91;
export const RBRACKET = 93;

/**
 * The decimal number in src[start, end) ("-12.345") without slicing a string; exponents, more
 * than 15 significant digits or 18 decimals fall back to Number(). NaN when there are no digits.
 */
export function parseDecimal(src: string, start: number, end: number): number {
  let mantissa = 0;
  let scale = -1;
  let digits = 0;
  let neg = false;
  let i = start;
  if (src.charCodeAt(i) === 45) {
    neg = true;
    i++;
  }
  if (i >= end) return NaN;
  for (; i < end; i++) {
    const c = src.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      mantissa = mantissa * 10 + (c - 48);
      if (mantissa !== 0 || scale >= 0) digits++;
      if (scale >= 0) scale++;
    } else if (c === 46 && scale < 0) scale = 0;
    else return Number(src.slice(start, end));
  }
  if (digits > 15 || scale > 18) return Number(src.slice(start, end));
  const v = scale > 0 ? mantissa / POW10[scale] : mantissa;
  return neg ? -v : v;
}

export class JsonCursor {
  src = '';
  pos = 0;
  failed = false;
  /** Bounds of the last key or string read (keys are compared in place, never sliced). */
  start = 0;
  end = 0;

  reset(text: string): void {
    this.src = text;
    this.pos = 0;
    this.failed = false;
  }

  /** Drops the reference to the text (a long-lived cursor must not pin the last message). */
  release(): void {
    this.src = '';
  }

  skipWs(): number {
    const src = this.src;
    let c = src.charCodeAt(this.pos);
    while (c === 32 || c === 10 || c === 13 || c === 9) c = src.charCodeAt(++this.pos);
    return c;
  }

  expect(code: number): void {
    if (this.skipWs() !== code) this.failed = true;
    else this.pos++;
  }

  /** At `{` or `[`: enters it. Then `more()` says whether another member follows. */
  open(code: number): void {
    this.expect(code);
  }

  /**
   * Between members of an object or array: true if another member follows (eats the comma),
   * false at the closing bracket (eats it) or on failure.
   */
  more(close: number, first: boolean): boolean {
    if (this.failed) return false;
    const c = this.skipWs();
    if (c === close) {
      this.pos++;
      return false;
    }
    if (first) return true;
    if (c !== COMMA) {
      this.failed = true;
      return false;
    }
    this.pos++;
    return true;
  }

  /** Reads a string's bounds into start/end (no escapes expected: a backslash fails). */
  string(): void {
    if (this.skipWs() !== QUOTE) {
      this.failed = true;
      return;
    }
    const src = this.src;
    const len = src.length;
    const start = ++this.pos;
    for (let i = start; i < len; i++) {
      const c = src.charCodeAt(i);
      if (c === QUOTE) {
        this.start = start;
        this.end = i;
        this.pos = i + 1;
        return;
      }
      if (c === 92) break;
    }
    this.failed = true;
  }

  /** Reads a key and its colon; the key's bounds are in start/end. */
  key(): void {
    this.string();
    this.expect(COLON);
  }

  /** Whether the last string read equals `s`. */
  is(s: string): boolean {
    return this.end - this.start === s.length && this.src.startsWith(s, this.start);
  }

  /** The last string read, as a new string (for ids and symbols a scanner must keep). */
  text(): string {
    return this.src.slice(this.start, this.end);
  }

  /** A number given bare or as a quoted decimal; NaN (and failed) when it is neither. */
  number(): number {
    if (this.skipWs() === QUOTE) {
      this.string();
      return this.decimal(this.start, this.end);
    }
    const src = this.src;
    const start = this.pos;
    let c = src.charCodeAt(this.pos);
    while ((c >= 48 && c <= 57) || c === 45 || c === 46 || c === 101 || c === 69 || c === 43) c = src.charCodeAt(++this.pos);
    if (this.pos === start) this.failed = true;
    const v = this.decimal(start, this.pos);
    if (v !== v) this.failed = true;
    return v;
  }

  private decimal(start: number, end: number): number {
    return parseDecimal(this.src, start, end);
  }

  private digits(at: number, n: number): number {
    let v = 0;
    for (let i = at; i < at + n; i++) {
      const c = this.src.charCodeAt(i) - 48;
      if (c < 0 || c > 9) return NaN;
      v = v * 10 + c;
    }
    return v;
  }

  /**
   * The last string read as an ISO-8601 UTC time ("2024-01-02T03:04:05.123456Z") in ms since
   * the epoch, without slicing it; other forms go through Date.parse.
   */
  isoTime(): number {
    const s = this.start;
    const src = this.src;
    if (this.end - s >= 20 && src.charCodeAt(s + 4) === 45 && src.charCodeAt(s + 10) === 84 && src.charCodeAt(this.end - 1) === 90) {
      let ms = Date.UTC(this.digits(s, 4), this.digits(s + 5, 2) - 1, this.digits(s + 8, 2), this.digits(s + 11, 2), this.digits(s + 14, 2), this.digits(s + 17, 2));
      if (src.charCodeAt(s + 19) === 46) {
        // Fraction: milliseconds with their sub-ms part (Date.parse keeps whole ms only).
        let scale = 100;
        for (let i = s + 20; i < this.end - 1 && scale >= 1e-6; i++, scale /= 10) ms += (src.charCodeAt(i) - 48) * scale;
        ms = Math.floor(ms);
      } else if (this.end - s !== 20) return Date.parse(this.text());
      if (ms === ms) return ms;
    }
    return Date.parse(this.text());
  }

  /** Skips any value (for fields the scanner does not read). */
  skip(): void {
    const src = this.src;
    const c = this.skipWs();
    if (c === QUOTE) {
      this.string();
      return;
    }
    if (c === LBRACE || c === LBRACKET) {
      let depth = 0;
      for (; this.pos < src.length; this.pos++) {
        const d = src.charCodeAt(this.pos);
        if (d === QUOTE) {
          this.string();
          this.pos--;
        } else if (d === LBRACE || d === LBRACKET) depth++;
        else if (d === RBRACE || d === RBRACKET) {
          if (--depth === 0) {
            this.pos++;
            return;
          }
        }
      }
      this.failed = true;
      return;
    }
    const start = this.pos;
    let d = c;
    while (this.pos < src.length && d !== COMMA && d !== RBRACE && d !== RBRACKET) d = src.charCodeAt(++this.pos);
    if (this.pos === start) this.failed = true;
  }
}
