/**
 * @module protocol/channels
 * Channel names: `namespace:name`, where the namespace picks the rules (docs/protocol.md,
 * "Channels"). The same check runs in the server, the event log and the SDK.
 */

const CHANNEL_RE = /^[a-z][a-z0-9_-]{0,31}:[A-Za-z0-9_\-:.@=+]{1,200}$/;

export function isValidChannel(channel: unknown): channel is string {
  return typeof channel === 'string' && CHANNEL_RE.test(channel);
}

export function namespaceOf(channel: string): string {
  const i = channel.indexOf(':');
  return i < 0 ? channel : channel.slice(0, i);
}
