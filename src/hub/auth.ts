/**
 * @module hub/auth
 * The hub's view of client tokens: the one auth model's tokens (src/auth/tokens), re-exported
 * so hub modules keep one import site.
 */
export { ANONYMOUS, TokenError, matchesAny, mintToken, parseTtl, verifyToken, type ClientIdentity, type TokenClaims } from '../auth/tokens.js';
