/**
 * @module apps/market/venues/kraken/checksum
 * Kraken's book checksum (WebSocket v2, "Spot Websockets: Book checksum"): for the top 10 asks
 * (lowest first) then the top 10 bids (highest first), write price and quantity at the pair's
 * precision, remove the decimal point and leading zeros, concatenate everything and take the
 * CRC32 as an unsigned 32-bit integer.
 */
import { crc32 } from 'node:zlib';

function digits(value: number, precision: number): string {
  return value.toFixed(precision).replace('.', '').replace(/^0+/, '');
}

/** Checksum of flattened best-first levels [price, qty, ...] (only the first 10 of each count). */
export function krakenChecksum(asks: readonly number[], bids: readonly number[], pricePrecision: number, qtyPrecision: number): number {
  let text = '';
  for (let i = 0; i < asks.length && i < 20; i += 2) text += digits(asks[i], pricePrecision) + digits(asks[i + 1], qtyPrecision);
  for (let i = 0; i < bids.length && i < 20; i += 2) text += digits(bids[i], pricePrecision) + digits(bids[i + 1], qtyPrecision);
  return crc32(text) >>> 0;
}
