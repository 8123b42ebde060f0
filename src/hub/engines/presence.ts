/**
 * @module hub/engines/presence
 * Who is subscribed to a presence channel. The hub records a client when its subscription is
 * live and removes it when the subscription ends; the `presence` command reads the list.
 *
 * Today the only implementation is in memory (./memory/memory-presence.ts), so presence is
 * **per node**: with the Redis engine, each node answers with its own subscribers only. A Redis
 * implementation beside the Redis engine will make it cluster-wide (docs/cluster.md).
 */
import type { PresenceEntry } from '../../protocol/index.js';

export interface PresenceStore {
  /** Records `entry.client` as present on `channel` (replacing an earlier entry for it). */
  join(channel: string, entry: PresenceEntry): void;
  /** Removes a client from a channel; true when it was present. */
  leave(channel: string, client: string): boolean;
  /** The clients present on a channel, in the order they joined. */
  list(channel: string): PresenceEntry[];
}
