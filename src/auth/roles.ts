/**
 * @module auth/roles
 * The roles of the one auth model. `admin` is the operator (the admin API key, or a token an
 * admin signed in for) and passes every role rule; each app adds its own roles. A role is a
 * claim in a signed token (`roles`), never something the caller asserts in a request body.
 */
export const ROLES = [
  'admin',
  // help desk
  'agent',
  'customer',
  // conversation studio
  'curator',
  // radio: a player's short-lived session, handed out with the stream
  'listener',
  // live video
  'streamer',
  'viewer',
  // market
  'trader',
] as const;
export type Role = (typeof ROLES)[number];

const KNOWN = new Set<string>(ROLES);
export function isRole(value: string): value is Role {
  return KNOWN.has(value);
}
