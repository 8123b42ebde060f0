/**
 * @module hub/engines/redis/shards
 * Channels spread over several Redis instances (`AIRWAVES_REDIS_URL=redis://a,redis://b`): each
 * channel's offsets, history, pub/sub and presence live on one shard, chosen by rendezvous
 * (highest-random-weight) hashing of the channel name with each shard's URL. Every node computes
 * the same choice from the same list; adding a shard moves only the channels that now hash
 * highest to it, removing one moves only its own channels (which start a new epoch there).
 */
import type { ChannelRetention, EngineNotices, HistorySlice, HubEngine, MessageSink, PublishAck, PublishPayload } from '../engine.js';
import type { PresenceEntry } from '../../../protocol/index.js';
import type { PresenceStore } from '../presence.js';

/** The URLs of a comma-separated `AIRWAVES_REDIS_URL`, in order (the first also carries the event log). */
export function redisShardUrls(value: string): string[] {
  return value
    .split(',')
    .map((u) => u.trim())
    .filter(Boolean);
}

/** FNV-1a, 32-bit: cheap, stable across processes and versions. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  // A final avalanche so that close inputs (same channel, URLs differing in one digit) spread.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  return h >>> 0;
}

/** The index of the shard a channel lives on, among `urls`. */
export function shardOf(channel: string, urls: readonly string[]): number {
  let best = 0;
  let bestWeight = -1;
  for (let i = 0; i < urls.length; i++) {
    const w = fnv1a(`${urls[i]}\u0000${channel}`);
    if (w > bestWeight) {
      bestWeight = w;
      best = i;
    }
  }
  return best;
}

/** One hub engine over several Redis engines, each channel routed to its shard. */
export class ShardedEngine implements HubEngine {
  readonly name = 'redis' as const;
  constructor(
    private readonly urls: readonly string[],
    private readonly shards: readonly HubEngine[],
  ) {}

  private of(channel: string): HubEngine {
    return this.shards[shardOf(channel, this.urls)];
  }

  async start(sink: MessageSink, notices?: EngineNotices): Promise<void> {
    await Promise.all(this.shards.map((s) => s.start(sink, notices)));
  }

  publish(channel: string, payload: PublishPayload, retention: ChannelRetention): PublishAck | Promise<PublishAck> {
    return this.of(channel).publish(channel, payload, retention);
  }

  history(channel: string, afterOffset: number, limit: number, retention: ChannelRetention): HistorySlice | Promise<HistorySlice> {
    return this.of(channel).history(channel, afterOffset, limit, retention);
  }

  listen(channel: string, on: boolean): void | Promise<void> {
    return this.of(channel).listen(channel, on);
  }

  async ready(): Promise<boolean> {
    return (await Promise.all(this.shards.map((s) => s.ready()))).every(Boolean);
  }

  async close(): Promise<void> {
    await Promise.all(this.shards.map((s) => s.close()));
  }
}

/** Presence routed to each channel's shard. */
export class ShardedPresence implements PresenceStore {
  constructor(
    private readonly urls: readonly string[],
    private readonly shards: readonly PresenceStore[],
  ) {}

  private of(channel: string): PresenceStore {
    return this.shards[shardOf(channel, this.urls)];
  }

  join(channel: string, entry: PresenceEntry): void {
    this.of(channel).join(channel, entry);
  }

  leave(channel: string, client: string): boolean {
    return this.of(channel).leave(channel, client);
  }

  list(channel: string): PresenceEntry[] | Promise<PresenceEntry[]> {
    return this.of(channel).list(channel);
  }

  async close(): Promise<void> {
    await Promise.all(this.shards.map((s) => s.close?.()));
  }
}
