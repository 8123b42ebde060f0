/**
 * @module hub/engines/memory/history
 * The contract of a channel's kept history in the memory engine, on its own so that both of its
 * implementations (./channel-history.ts `ObjectHistory`, ./byte-ring.ts `ByteHistoryRing`) can
 * name it without importing each other.
 *
 * Both keep at most `capacity` newest messages, offsets contiguous (each appended message is the
 * channel's next offset).
 */
import type { HubMessage } from '../engine.js';

export interface ChannelHistory {
  readonly capacity: number;
  /** True when payloads are kept as bytes (what `retention.inBuffers` asked for). */
  readonly inBuffers: boolean;
  /** Messages kept now. */
  readonly size: number;
  /** Keeps a message (the channel's next offset); the oldest goes when `capacity` are kept. */
  append(m: HubMessage): void;
  /**
   * The kept messages with offset > `afterOffset`, of those only the newest `limit`, oldest
   * first. Only those are read (a byte history decodes what it returns).
   */
  since(afterOffset: number, limit: number): HubMessage[];
  /** Forgets every message. */
  clear(): void;
}
