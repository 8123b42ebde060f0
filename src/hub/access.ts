/**
 * @module hub/access
 * Whether a client may subscribe to or publish on a channel: the namespace's access level, then
 * the channel patterns of the client's token, then the namespace's own `authorize` hook. One
 * function, used by every command and every publish door, so the answer cannot differ by door.
 */
import { AirwavesError, Errors } from '../core/errors.js';
import { matchesAny, type ClientIdentity } from './auth.js';
import type { Namespace } from './namespace.js';

export type AccessAction = 'subscribe' | 'publish';

/** Throws `forbidden` or `unauthorized` when `client` (with `identity`) may not `action` on `channel`. */
export async function authorize(client: string, identity: ClientIdentity, ns: Namespace, action: AccessAction, channel: string): Promise<void> {
  const level = action === 'subscribe' ? ns.config.subscribe : ns.config.publish;
  if (level === 'server') throw new AirwavesError(Errors.forbidden, `clients may not ${action} in namespace "${ns.config.name}"`);
  if (level === 'authenticated') {
    if (identity.user === null) throw new AirwavesError(Errors.unauthorized, `namespace "${ns.config.name}" requires a token to ${action}`);
    if (!matchesAny(channel, action === 'subscribe' ? identity.subscribe : identity.publish)) {
      throw new AirwavesError(Errors.forbidden, `token does not allow ${action} on "${channel}"`);
    }
  }
  const hook = ns.hooks.authorize;
  if (hook && !(await hook(action, { client, identity, channel }))) {
    throw new AirwavesError(Errors.forbidden, `not allowed to ${action} on "${channel}"`);
  }
}
