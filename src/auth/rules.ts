/**
 * @module auth/rules
 * What a route declares about who may call it, in its route options:
 * `config: { auth: 'public' | 'apiKey' | { roles: [...] } }`.
 *
 * - `public`: anyone (health, status, static UIs, the sign-in exchange itself).
 * - `apiKey`: the admin API key only (server-to-server publishing, admin flag routes).
 * - `{ roles }`: a valid token with one of the roles; the admin (key or admin token) passes
 *   every role rule. `queryToken: true` also accepts `?access_token=` (a download link cannot
 *   send a header); use it on GET routes only.
 *
 * A route without a rule is refused (closed by default) and fails the route-table test.
 */
import type { ClientIdentity } from './tokens.js';
import type { Role } from './roles.js';

export type AuthRule = 'public' | 'apiKey' | { roles: readonly Role[]; queryToken?: boolean };

/** Shorthands for route options: `config: rule.roles('curator')`. */
export const rule = {
  public: { auth: 'public' } as { auth: AuthRule },
  apiKey: { auth: 'apiKey' } as { auth: AuthRule },
  roles: (...roles: Role[]): { auth: AuthRule } => ({ auth: { roles } }),
};

export function describeRule(r: AuthRule | undefined): string {
  if (r === undefined) return 'none';
  if (typeof r === 'string') return r;
  return `roles: ${r.roles.join(', ')} (and admin)`;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: AuthRule;
  }
  interface FastifyRequest {
    /** Who is calling, set by the auth hook before validation; null on public routes without a token. */
    identity: ClientIdentity | null;
  }
}
