/**
 * @module auth
 * One auth model for every app: roles, tokens, the admin API key, route rules enforced by one
 * HTTP hook before validation, and the secrets generated on first start. See docs/security.md.
 */
export { ROLES, isRole, type Role } from './roles.js';
export { ANONYMOUS, TokenError, matchesAny, mintToken, parseTtl, verifyToken, type ClientIdentity, type TokenClaims } from './tokens.js';
export { apiKeyOf, bearerOf, sameKey } from './api-key.js';
export { rule, describeRule, type AuthRule } from './rules.js';
export { httpAuth, ADMIN_IDENTITY, type RouteRecord } from './http-plugin.js';
export { resolveSecrets, generateSecret, SECRETS_FILE, type ResolvedSecrets } from './secrets.js';
export { createAppAuth, type AppAuth, type LoginRouteConfig } from './app-auth.js';
