/**
 * @module apps/live/access
 * Who may call each live route, declared in its options (`config: { liveAuth: … }`) and checked
 * in one `onRequest` hook of the app's scope, before the body is read. A route without a rule is
 * refused (closed by default).
 *
 * Interim model until the shared auth (src/auth) lands, kept to the same shape so adopting it is
 * a rename: `public`; `apiKey` (the admin API key); `streamer` (a hub token — its `sub` is the
 * owner — or the admin API key, which acts for every owner); `callback` (nginx-rtmp: from a
 * loopback address, or with `?secret=` equal to the API key).
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AirwavesConfig } from '../../core/config.js';
import { AirwavesError, Errors } from '../../core/errors.js';
import { TokenError, verifyToken } from '../../hub/auth.js';

export type LiveRule = 'public' | 'apiKey' | 'streamer' | 'callback';

export interface LiveCaller {
  /** Owner name (token subject), or null for the admin. */
  user: string | null;
  admin: boolean;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    liveAuth?: LiveRule;
  }
  interface FastifyRequest {
    liveCaller?: LiveCaller;
  }
}

export const liveRule = (r: LiveRule) => ({ config: { liveAuth: r } });

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function bearer(req: FastifyRequest): string | null {
  const h = req.headers.authorization;
  const m = h ? /^Bearer\s+(\S+)$/i.exec(h) : null;
  if (m) return m[1]!;
  const x = req.headers['x-api-key'];
  return typeof x === 'string' && x ? x : null;
}

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

async function identify(req: FastifyRequest, config: AirwavesConfig): Promise<LiveCaller | null> {
  const credential = bearer(req);
  if (!credential) return null;
  if (config.apiKey && same(credential, config.apiKey)) return { user: null, admin: true };
  try {
    const identity = await verifyToken(credential, config.jwtSecret);
    if (!identity.user) throw new AirwavesError(Errors.unauthorized, 'the token names no user (sub)');
    return { user: identity.user, admin: false };
  } catch (err) {
    if (err instanceof AirwavesError) throw err;
    throw new AirwavesError(Errors.unauthorized, err instanceof TokenError ? err.message : 'bad token');
  }
}

export function registerLiveAccess(http: FastifyInstance, config: AirwavesConfig): void {
  http.addHook('onRequest', async (req) => {
    const rule = req.routeOptions.config?.liveAuth;
    if (rule === undefined) throw new AirwavesError(Errors.forbidden, 'this route declares no access rule');
    if (rule === 'public') return;
    if (rule === 'callback') {
      const secret = (req.query as Record<string, unknown> | undefined)?.secret;
      if (LOOPBACK.test(req.ip)) return;
      if (typeof secret === 'string' && config.apiKey && same(secret, config.apiKey)) return;
      throw new AirwavesError(Errors.forbidden, 'ingest callbacks come from loopback or carry ?secret=<API key>');
    }
    const caller = await identify(req, config);
    if (!caller) throw new AirwavesError(Errors.unauthorized, rule === 'apiKey' ? 'the admin API key is required' : 'a streamer token (Authorization: Bearer) or the admin API key is required');
    if (rule === 'apiKey' && !caller.admin) throw new AirwavesError(Errors.forbidden, 'the admin API key is required');
    req.liveCaller = caller;
  });
}

/** The owner a streamer acts as; the admin may act for anyone (`requested`), else "admin". */
export function ownerOf(req: FastifyRequest, requested?: string): string {
  const c = req.liveCaller;
  if (!c) throw new AirwavesError(Errors.unauthorized);
  if (c.admin) return requested ?? 'admin';
  return c.user!;
}

/** Refuses unless the caller is the admin or `owner`. */
export function requireOwner(req: FastifyRequest, owner: string): void {
  const c = req.liveCaller;
  if (!c) throw new AirwavesError(Errors.unauthorized);
  if (!c.admin && c.user !== owner) throw new AirwavesError(Errors.forbidden, 'this belongs to another streamer');
}
