/**
 * @module auth/tokens
 * Signed tokens: HS256 JWTs (jose) with `sub`, optional `roles`, and the channel-pattern claims
 * `subscribe` and `publish` (globs where `*` matches any run of characters). Channel rights are
 * explicit: a token without a `subscribe` (or `publish`) claim has no such rights beyond what
 * `anonymous` namespaces give everyone.
 */
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { isRole, type Role } from './roles.js';

export interface ClientIdentity {
  user: string | null;
  /** Roles the token grants (empty for anonymous clients and role-less tokens). */
  roles: readonly Role[];
  /** Channel patterns the token may subscribe to; null: the claim is absent, no rights. */
  subscribe: RegExp[] | null;
  publish: RegExp[] | null;
  /** Token expiry, ms since epoch. */
  expiresAt: number | null;
}

export const ANONYMOUS: ClientIdentity = Object.freeze({ user: null, roles: [], subscribe: null, publish: null, expiresAt: null });

export interface TokenClaims {
  sub: string;
  roles?: readonly Role[];
  subscribe?: string[];
  publish?: string[];
}

export class TokenError extends Error {}

function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`);
}

function patterns(value: unknown, claim: string): RegExp[] | null {
  if (value === undefined) return null;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new TokenError(`claim "${claim}" must be an array of strings`);
  return value.map(globToRegExp);
}

function roles(value: unknown): Role[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new TokenError('claim "roles" must be an array of strings');
  // Unknown roles are ignored rather than refused: a newer node may know roles this one does not.
  return value.filter(isRole);
}

/** Whether `channel` matches one of the patterns; an absent claim (null) matches nothing. */
export function matchesAny(channel: string, list: RegExp[] | null): boolean {
  if (list === null) return false;
  for (const re of list) if (re.test(channel)) return true;
  return false;
}

function key(secret: string): Uint8Array {
  return new TextEncoder().encode(secret);
}

/** Verifies a token; throws TokenError with a reason a client can act on. */
export async function verifyToken(token: string, secret: string): Promise<ClientIdentity> {
  try {
    const { payload } = await jwtVerify(token, key(secret), { algorithms: ['HS256'] });
    if (typeof payload.sub !== 'string' || payload.sub.length === 0) throw new TokenError('token has no "sub" claim');
    return {
      user: payload.sub,
      roles: roles(payload.roles),
      subscribe: patterns(payload.subscribe, 'subscribe'),
      publish: patterns(payload.publish, 'publish'),
      expiresAt: typeof payload.exp === 'number' ? payload.exp * 1000 : null,
    };
  } catch (err) {
    if (err instanceof TokenError) throw err;
    if (err instanceof joseErrors.JWTExpired) throw new TokenError('token expired');
    throw new TokenError(`bad token: ${(err as Error).message}`);
  }
}

const TTL_RE = /^(\d+)([smhd])$/;

/** Parses "90s", "15m", "1h", "7d" into seconds. */
export function parseTtl(ttl: string): number {
  const m = TTL_RE.exec(ttl);
  if (!m) throw new RangeError(`ttl must look like 90s, 15m, 1h or 7d (got "${ttl}")`);
  return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[m[2] as 's' | 'm' | 'h' | 'd'];
}

/** Mints a token. */
export async function mintToken(claims: TokenClaims, secret: string, ttlSeconds = 3600): Promise<string> {
  const jwt = new SignJWT({
    ...(claims.roles?.length ? { roles: [...claims.roles] } : {}),
    ...(claims.subscribe ? { subscribe: claims.subscribe } : {}),
    ...(claims.publish ? { publish: claims.publish } : {}),
  })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.sub)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds);
  return jwt.sign(key(secret));
}
