/**
 * @module apps/market/venues/kraken/checksum
 * Kraken's book checksum (WebSocket v2, "Spot Websockets: Book checksum"): for the top 10 asks
 * (lowest first) then the top 10 bids (highest first), write price and quantity at the pair's
 * precision, remove the decimal point and leading zeros, concatenate everything and take the
 * CRC32 as an unsigned 32-bit integer.
 *
 * It runs on every Kraken update, so {@link krakenChecksum} feeds the digits straight into a
 * table CRC32 (each value as the integer `round(value × 10^precision)`, whose decimal digits are
 * exactly the formatted value without its point and leading zeros) and builds no string;
 * {@link krakenChecksumText} is the algorithm as documented, the reference it is tested against.
 */
import { crc32 } from 'node:zlib';

function digits(value: number, precision: number): string {
  return value.toFixed(precision).replace('.', '').replace(/^0+/, '');
}

/** The documented algorithm, string by string (the reference; the simulator's checksums too). */
export function krakenChecksumText(asks: readonly number[], bids: readonly number[], pricePrecision: number, qtyPrecision: number): number {
  let text = '';
  for (let i = 0; i < asks.length && i < 20; i += 2) text += digits(asks[i], pricePrecision) + digits(asks[i + 1], qtyPrecision);
  for (let i = 0; i < bids.length && i < 20; i += 2) text += digits(bids[i], pricePrecision) + digits(bids[i + 1], qtyPrecision);
  return crc32(text) >>> 0;
}

const TABLE = new Int32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  TABLE[n] = c;
}
const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12];
const buf = new Uint8Array(32);

/** CRC32 state after the decimal digits of `value` at `precision` (no point, no leading zeros). */
function feed(crc: number, value: number, precision: number): number {
  let n = Math.round(value * POW10[precision]);
  if (!(n >= 0 && n < 2 ** 53 && precision < POW10.length)) {
    // Out of the exact integer range (or negative): format as documented.
    const s = digits(value, precision);
    for (let i = 0; i < s.length; i++) crc = TABLE[(crc ^ s.charCodeAt(i)) & 0xff] ^ (crc >>> 8);
    return crc;
  }
  let len = 0;
  while (n > 0) {
    const q = Math.floor(n / 10);
    buf[len++] = 48 + (n - q * 10);
    n = q;
  }
  for (let i = len - 1; i >= 0; i--) crc = TABLE[(crc ^ buf[i]) & 0xff] ^ (crc >>> 8);
  return crc;
}

/** Checksum of flattened best-first levels [price, qty, ...] (only the first 10 of each count). */
export function krakenChecksum(asks: readonly number[], bids: readonly number[], pricePrecision: number, qtyPrecision: number): number {
  let crc = -1;
  for (let i = 0; i < asks.length && i < 20; i += 2) crc = feed(feed(crc, asks[i], pricePrecision), asks[i + 1], qtyPrecision);
  for (let i = 0; i < bids.length && i < 20; i += 2) crc = feed(feed(crc, bids[i], pricePrecision), bids[i + 1], qtyPrecision);
  return (crc ^ -1) >>> 0;
}
