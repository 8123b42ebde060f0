/**
 * @module auth/http-plugin
 * HTTP authentication for every route, as one Fastify plugin: an `onRequest` hook (it runs
 * before the body is parsed or validated, so an anonymous or wrong-role request gets 401/403
 * whatever it sends) reads the route's declared rule (auth/rules) and the caller's credential;
 * an `onRoute` hook records every route with its rule so a test can prove none is missing.
 */
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AirwavesError, Errors } from '../core/errors.js';
import { apiKeyOf, bearerOf, sameKey } from './api-key.js';
import type { AuthRule } from './rules.js';
import { TokenError, verifyToken, type ClientIdentity } from './tokens.js';

export interface AuthPluginOptions {
  jwtSecret: string;
  apiKey: string;
}

export interface RouteRecord {
  method: string;
  url: string;
  rule: AuthRule | undefined;
}

/** The admin, as the API key identifies it. */
export const ADMIN_IDENTITY: ClientIdentity = Object.freeze({ user: 'admin', roles: ['admin'] as const, subscribe: null, publish: null, expiresAt: null });

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route registered after the auth plugin, with the rule it declared. */
    authRoutes: RouteRecord[];
  }
}

async function identify(request: FastifyRequest, opts: AuthPluginOptions, allowQuery: boolean): Promise<ClientIdentity | null> {
  let credential = bearerOf(request.headers);
  if (!credential && allowQuery) credential = (request.query as Record<string, unknown> | undefined)?.access_token as string | null ?? null;
  if (!credential) {
    const key = apiKeyOf(request.headers);
    return key && sameKey(key, opts.apiKey) ? ADMIN_IDENTITY : null;
  }
  if (sameKey(credential, opts.apiKey)) return ADMIN_IDENTITY;
  try {
    return await verifyToken(credential, opts.jwtSecret);
  } catch (err) {
    throw new AirwavesError(Errors.unauthorized, err instanceof TokenError ? err.message : 'bad token');
  }
}

async function authPlugin(http: FastifyInstance, opts: AuthPluginOptions): Promise<void> {
  const routes: RouteRecord[] = [];
  http.decorate('authRoutes', routes);
  http.decorateRequest('identity', null);
  http.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    // Read lazily: a scope's own onRoute hook (run after this one) may still declare the rule.
    for (const method of methods)
      routes.push({
        method,
        url: route.url,
        get rule() {
          return route.config?.auth;
        },
      });
  });

  http.addHook('onRequest', async (request) => {
    if (request.is404) return;
    const r = request.routeOptions.config.auth;
    if (r === 'public') return;
    if (r === undefined) throw new AirwavesError(Errors.forbidden, `route ${request.method} ${request.routeOptions.url} declares no access rule`);
    if (r === 'apiKey') {
      const key = apiKeyOf(request.headers);
      if (!key || !sameKey(key, opts.apiKey)) throw new AirwavesError(Errors.unauthorized, 'missing or wrong API key (send "Authorization: Bearer <admin API key>")');
      request.identity = ADMIN_IDENTITY;
      return;
    }
    const identity = await identify(request, opts, r.queryToken === true && request.method === 'GET');
    if (!identity) throw new AirwavesError(Errors.unauthorized, `sign in first: send "Authorization: Bearer <token>" (a token with role ${r.roles.join(' or ')})`);
    if (!identity.roles.includes('admin') && !identity.roles.some((role) => r.roles.includes(role))) {
      throw new AirwavesError(Errors.forbidden, `needs role ${r.roles.join(' or ')}${identity.roles.length ? ` (token has ${identity.roles.join(', ')})` : ' (token has no role)'}`);
    }
    request.identity = identity;
  });
}

/**
 * Registered once at the root on purpose (fastify-plugin lifts encapsulation): the rule is a
 * property of each route, so one hook serves every scope, the apps' included.
 */
export const httpAuth = fp(authPlugin, { name: 'airwaves-auth', fastify: '5.x' });
