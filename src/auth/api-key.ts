/**
 * @module auth/api-key
 * The admin API key: compared in constant time, taken from `Authorization: Bearer <key>` or
 * `X-Api-Key: <key>`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** Constant-time equality that does not leak the key's length (both sides hashed first). */
export function sameKey(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The bearer credential of a request, or null. */
export function bearerOf(headers: IncomingHttpHeaders): string | null {
  const header = headers.authorization;
  const m = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  return m ? m[1] : null;
}

/** The API key a request carries (bearer or X-Api-Key), or null. */
export function apiKeyOf(headers: IncomingHttpHeaders): string | null {
  const x = headers['x-api-key'];
  if (typeof x === 'string' && x.length > 0) return x;
  return bearerOf(headers);
}
