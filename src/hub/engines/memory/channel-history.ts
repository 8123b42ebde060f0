/**
 * @module hub/engines/memory/channel-history
 * What the memory engine asks of a channel's kept history, whichever way it is stored: message
 * objects (`ObjectHistory`, here) or payload bytes off the V8 heap (`ByteHistoryRing`,
 * byte-ring.ts, for namespaces with `historyInBuffers`). The engine talks to this interface only,
 * so the storage is a choice made once, in `channelHistory`, not a type test at every use.
 *
 * Contract of both: at most `capacity` newest messages, offsets contiguous (each appended message
 * is the channel's next offset).
 */
import { RingBuffer } from '../../../core/ring-buffer.js';
import type { ChannelRetention, HubMessage } from '../engine.js';
import { ByteHistoryRing } from './byte-ring.js';
import type { ChannelHistory } from './history.js';

export type { ChannelHistory };

/** History as the message objects themselves: no copy on publish, no decode on read. */
export class ObjectHistory implements ChannelHistory {
  readonly inBuffers = false;
  private readonly ring: RingBuffer<HubMessage>;

  constructor(readonly capacity: number) {
    this.ring = new RingBuffer<HubMessage>(capacity);
  }

  get size(): number {
    return this.ring.size;
  }

  append(m: HubMessage): void {
    this.ring.push(m);
  }

  since(afterOffset: number, limit: number): HubMessage[] {
    const oldest = this.ring.peekOldest();
    if (!oldest) return [];
    // Offsets are contiguous, so the first index is computed, not searched.
    const out: HubMessage[] = [];
    for (let i = Math.max(0, afterOffset + 1 - oldest.offset, this.ring.size - limit); i < this.ring.size; i++) out.push(this.ring.at(i)!);
    return out;
  }

  clear(): void {
    this.ring.clear();
  }
}

/** A new, empty history for a channel's retention (its depth and storage). */
export function channelHistory(retention: ChannelRetention, channel: string, epoch: () => string): ChannelHistory {
  return retention.inBuffers === true ? new ByteHistoryRing(retention.historySize, channel, epoch) : new ObjectHistory(retention.historySize);
}

/** Whether a history already is what the retention asks for (same depth, same storage). */
export function historyFits(history: ChannelHistory, retention: ChannelRetention): boolean {
  return history.capacity === retention.historySize && history.inBuffers === (retention.inBuffers === true);
}
