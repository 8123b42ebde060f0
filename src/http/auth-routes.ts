/**
 * @module http/auth-routes
 * Signing in: the admin exchanges the API key for a short-lived admin token (what the browser
 * UIs keep in sessionStorage), demo mode hands out demo identities, and `/me` says who a token
 * is. The exchanges are rate-limited per IP and check credentials in the handler, after the
 * limit, so guessing is counted.
 */
import type { FastifyInstance } from 'fastify';
import type { CoreConfig } from '../core/config.js';
import { AirwavesError, Errors } from '../core/errors.js';
import { apiKeyOf, sameKey } from '../auth/api-key.js';
import type { AppAuth } from '../auth/app-auth.js';
import { ROLES, type Role } from '../auth/roles.js';
import { mintToken } from '../auth/tokens.js';
import { errorResponseSchema } from './errors.js';
import { signInPage, SIGN_IN_SCRIPT } from './sign-in-page.js';

export const ADMIN_TOKEN_TTL_SECONDS = 8 * 3600;
/** Roles any visitor may take in demo mode (the help desk has its own demo people). */
export const DEMO_ROLES = ['curator', 'streamer', 'viewer', 'trader'] as const satisfies readonly Role[];

const tokenResponse = {
  type: 'object',
  properties: { token: { type: 'string' }, user: { type: 'string' }, roles: { type: 'array', items: { type: 'string' } }, expiresIn: { type: 'integer' } },
} as const;
const errors = { 400: errorResponseSchema, 401: errorResponseSchema, 403: errorResponseSchema, 404: errorResponseSchema, 429: errorResponseSchema };

export interface AuthRouteDeps {
  config: CoreConfig;
  jwtSecret: string;
  apiKey: string;
  auth: AppAuth;
}

export function registerAuthRoutes(http: FastifyInstance, deps: AuthRouteDeps): void {
  const { config, jwtSecret, apiKey, auth } = deps;

  http.post(
    '/api/v1/auth/token',
    {
      config: auth.loginRoute(),
      schema: { tags: ['auth'], summary: 'Exchange the admin API key (Authorization: Bearer <key>) for an admin token', security: [{ apiKey: [] }], response: { 200: tokenResponse, ...errors } },
    },
    async (req) => {
      const key = apiKeyOf(req.headers);
      if (!key || !sameKey(key, apiKey)) throw new AirwavesError(Errors.unauthorized, 'missing or wrong admin API key');
      const roles: Role[] = ['admin'];
      const token = await mintToken({ sub: 'admin', roles, subscribe: ['*'], publish: ['*'] }, jwtSecret, ADMIN_TOKEN_TTL_SECONDS);
      return { token, user: 'admin', roles, expiresIn: ADMIN_TOKEN_TTL_SECONDS };
    },
  );

  if (config.demo) {
    http.post<{ Body: { role: (typeof DEMO_ROLES)[number] } }>(
      '/api/v1/auth/demo-login',
      {
        config: auth.loginRoute(),
        schema: {
          tags: ['auth'],
          summary: 'Demo mode only (AIRWAVES_DEMO=true): a token for a demo identity with one role',
          body: { type: 'object', required: ['role'], additionalProperties: false, properties: { role: { type: 'string', enum: [...DEMO_ROLES] } } },
          response: { 200: tokenResponse, ...errors },
        },
      },
      async (req) => {
        const roles: Role[] = [req.body.role];
        const user = `demo-${req.body.role}`;
        // A curator follows job progress on the hub: the studio namespace needs an explicit claim.
        const claims = req.body.role === 'curator' ? { subscribe: ['studio:*'] } : {};
        return { token: await mintToken({ sub: user, roles, ...claims }, jwtSecret, ADMIN_TOKEN_TTL_SECONDS), user, roles, expiresIn: ADMIN_TOKEN_TTL_SECONDS };
      },
    );
  }

  http.get(
    '/api/v1/auth/me',
    {
      config: { auth: { roles: ROLES } },
      schema: { tags: ['auth'], summary: 'Who the token (or key) belongs to', security: [{ apiKey: [] }], response: { 200: { type: 'object', properties: { user: { type: 'string' }, roles: { type: 'array', items: { type: 'string' } } } }, ...errors } },
    },
    async (req) => ({ user: req.identity!.user, roles: req.identity!.roles }),
  );

  http.get('/signin', { config: { auth: 'public' }, schema: { hide: true } }, async (_req, reply) => reply.type('text/html; charset=utf-8').send(signInPage({ demo: config.demo, demoRoles: DEMO_ROLES })));
  http.get('/signin.js', { config: { auth: 'public' }, schema: { hide: true } }, async (_req, reply) => reply.type('text/javascript; charset=utf-8').send(SIGN_IN_SCRIPT));
}
