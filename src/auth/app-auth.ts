/**
 * @module auth/app-auth
 * The narrow auth API an app receives in its context: declare rules on routes (`rule`), mint
 * and verify tokens for the identities it vouches for, and know whether demo logins may exist.
 * Apps never see the secret or the admin key.
 */
import type { Role } from './roles.js';
import { rule, type AuthRule } from './rules.js';
import { mintToken, verifyToken, type ClientIdentity, type TokenClaims } from './tokens.js';

export interface LoginRouteConfig {
  auth: AuthRule;
  rateLimit: { max: number; timeWindow: number };
}

export interface AppAuth {
  /** AIRWAVES_DEMO=true: demo logins may be registered. Off: they must not exist. */
  readonly demo: boolean;
  /** Route-option shorthands: `config: ctx.auth.rule.roles('trader')`. */
  readonly rule: typeof rule;
  /** Options for a login route: public (credentials checked in the handler) and limited per IP. */
  loginRoute(): LoginRouteConfig;
  mint(claims: TokenClaims, ttlSeconds: number): Promise<string>;
  verify(token: string): Promise<ClientIdentity>;
}

export function createAppAuth(opts: { jwtSecret: string; demo: boolean; loginRatePerMinute: number }): AppAuth {
  return {
    demo: opts.demo,
    rule,
    loginRoute: () => ({ auth: 'public', rateLimit: { max: opts.loginRatePerMinute, timeWindow: 60_000 } }),
    mint: (claims, ttlSeconds) => mintToken(claims, opts.jwtSecret, ttlSeconds),
    verify: (token) => verifyToken(token, opts.jwtSecret),
  };
}

export type { Role, AuthRule, ClientIdentity, TokenClaims };
