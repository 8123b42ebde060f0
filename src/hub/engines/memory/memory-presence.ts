/**
 * @module hub/engines/memory/memory-presence
 * Presence kept in this process: one map per channel, dropped when its last client leaves.
 */
import type { PresenceEntry } from '../../../protocol/index.js';
import type { PresenceStore } from '../presence.js';

export class MemoryPresence implements PresenceStore {
  private readonly channels = new Map<string, Map<string, PresenceEntry>>();

  join(channel: string, entry: PresenceEntry): void {
    let clients = this.channels.get(channel);
    if (!clients) this.channels.set(channel, (clients = new Map()));
    clients.set(entry.client, entry);
  }

  leave(channel: string, client: string): boolean {
    const clients = this.channels.get(channel);
    if (!clients?.delete(client)) return false;
    if (clients.size === 0) this.channels.delete(channel);
    return true;
  }

  list(channel: string): PresenceEntry[] {
    return [...(this.channels.get(channel)?.values() ?? [])];
  }
}
