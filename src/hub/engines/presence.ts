/**
 * @module hub/engines/presence
 * Who is subscribed to a presence channel. The hub records a client when its subscription is
 * live and removes it when the subscription ends; the `presence` command reads the list.
 *
 * In memory (./memory/memory-presence.ts) presence is one node's; with Redis
 * (./redis/redis-presence.ts) it is cluster-wide, with per-node heartbeats and expiry
 * (docs/cluster.md).
 */
import type { PresenceEntry } from '../../protocol/index.js';

export interface PresenceStore {
  /** Records `entry.client` as present on `channel` (replacing an earlier entry for it). */
  join(channel: string, entry: PresenceEntry): void;
  /** Removes a client from a channel; true when it was present. */
  leave(channel: string, client: string): boolean;
  /** The clients present on a channel, in the order they joined. */
  list(channel: string): PresenceEntry[] | Promise<PresenceEntry[]>;
  /** Stops background work (and takes this node's clients out, where that is kept elsewhere). */
  close?(): Promise<void>;
}
