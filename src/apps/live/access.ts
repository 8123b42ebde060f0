/**
 * @module apps/live/access
 * Who may call the live routes, in the shared auth model (src/auth): each route declares its
 * rule in `config.auth` — `public` (listing, playback, the event door), `{ roles: ['streamer'] }`
 * (keys, scheduling and ending streams, history; the admin passes every role rule) — and the
 * server's auth hook enforces it before validation. Here: ownership (a streamer touches only
 * their own keys and streams) and the nginx-rtmp callback guard.
 */
import type { FastifyRequest } from 'fastify';
import { sameKey } from '../../auth/api-key.js';
import type { AuthRule } from '../../auth/rules.js';
import { AirwavesError, Errors } from '../../core/errors.js';

export const PUBLIC: { auth: AuthRule } = { auth: 'public' };
export const STREAMER: { auth: AuthRule } = { auth: { roles: ['streamer'] } };

function isAdmin(req: FastifyRequest): boolean {
  return req.identity?.roles.includes('admin') ?? false;
}

export { isAdmin };

/** The owner a streamer acts as; the admin may act for anyone (`requested`), else "admin". */
export function ownerOf(req: FastifyRequest, requested?: string): string {
  const identity = req.identity;
  if (!identity) throw new AirwavesError(Errors.unauthorized);
  if (isAdmin(req)) return requested ?? identity.user ?? 'admin';
  if (!identity.user) throw new AirwavesError(Errors.unauthorized, 'the token names no user (sub)');
  return identity.user;
}

/** Refuses unless the caller is the admin or `owner`. */
export function requireOwner(req: FastifyRequest, owner: string): void {
  if (isAdmin(req)) return;
  if (req.identity?.user !== owner) throw new AirwavesError(Errors.forbidden, 'this belongs to another streamer');
}

export const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;
/** Headers a reverse proxy adds: a request carrying one came from elsewhere, whatever its socket says. */
const FORWARDED_HEADERS = ['forwarded', 'x-forwarded-for', 'x-real-ip'];

/**
 * nginx-rtmp cannot send headers, so its callback routes are `public` to the auth hook and
 * guarded here: from a loopback address (nginx beside the app), or with `?secret=<API key>`.
 * A request that a reverse proxy on the same host forwarded also arrives from loopback: one
 * that carries a forwarding header is not trusted for its address (nginx-rtmp sends none), or
 * anyone could end a live stream by its public id through the proxy.
 */
export function callbackGuard(apiKey: string | undefined) {
  return async (req: FastifyRequest): Promise<void> => {
    if (LOOPBACK.test(req.ip) && !FORWARDED_HEADERS.some((h) => req.headers[h] !== undefined)) return;
    const secret = (req.query as Record<string, unknown> | undefined)?.secret;
    if (typeof secret === 'string' && apiKey && sameKey(secret, apiKey)) return;
    throw new AirwavesError(Errors.forbidden, 'ingest callbacks come from loopback or carry ?secret=<admin API key>');
  };
}
