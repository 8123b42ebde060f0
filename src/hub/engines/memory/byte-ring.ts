/**
 * @module hub/engines/memory/byte-ring
 * A channel's history kept as bytes, off the V8 heap: each publication's payload (its JSON text
 * as UTF-8, or its binary payload) is copied into one Buffer per channel, and its time, key and
 * place into typed arrays. Nothing per publication stays reachable from the ring, so a scavenge
 * has nothing of the history to copy and promote (with message objects in the ring, every
 * publication of a busy channel survived one scavenge and was promoted: the GC pauses of the
 * market gateway). The price: a history read decodes the messages it returns (rare: resubscribes).
 *
 * Same contract as the object history (channel-history.ts): at most `capacity` newest messages,
 * offsets contiguous. The byte arena grows (doubling, compacted) when the `capacity` newest do not
 * fit, so bytes never evict a message the count would keep; and it shrinks (halving or more,
 * compacted) when what it kept over a window of appends took a quarter of it or less — so a burst
 * of large messages (a venue's snapshots after a resync) does not pin its peak arena for the
 * channel's life. Grow at full, shrink at a quarter: the sizes between never flap.
 */
import type { HubMessage } from '../engine.js';
import type { ChannelHistory } from './history.js';

const INITIAL_BYTES_PER_MESSAGE = 64;
const MAX_INITIAL_BYTES = 64 * 1024;

export class ByteHistoryRing implements ChannelHistory {
  readonly inBuffers = true;
  private bytes: Buffer;
  /** The arena never shrinks below its first size. */
  private readonly minBytes: number;
  /** Bytes the kept records take (each its payload + 1), and their peak in this shrink window. */
  private used = 0;
  private peakUsed = 0;
  private appendsSinceCheck = 0;
  private readonly shrinkWindow: number;
  private readonly ts: Float64Array;
  private readonly start: Int32Array;
  /** Payload length; -1 - length for a binary payload. */
  private readonly len: Int32Array;
  /** Keys by slot: what publishers pass is a handful of strings reused for every message. */
  private readonly keys: (string | undefined)[];
  private head = 0; // slot of the oldest message
  private count = 0;
  private write = 0; // next free byte (records are laid end to end, wrapping to 0)
  /** Offset of the newest message (offsets are contiguous). */
  private newest = 0;

  constructor(
    readonly capacity: number,
    private readonly channel: string,
    private readonly epoch: () => string,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
    this.shrinkWindow = Math.max(capacity, 64);
    this.minBytes = Math.min(MAX_INITIAL_BYTES, capacity * INITIAL_BYTES_PER_MESSAGE);
    this.bytes = Buffer.allocUnsafeSlow(this.minBytes);
    this.ts = new Float64Array(capacity);
    this.start = new Int32Array(capacity);
    this.len = new Int32Array(capacity);
    this.keys = new Array<string | undefined>(capacity);
  }

  get size(): number {
    return this.count;
  }

  /** Copies a message in (it must be the channel's next offset); the oldest goes when full. */
  append(m: HubMessage): void {
    if (this.count === this.capacity) this.dropOldest();
    const binary = m.binary;
    let n: number;
    let at: number;
    // Every record takes at least one byte (n + 1), so a full arena (write === oldest start) is
    // never mistaken for an empty stretch.
    if (binary) {
      n = binary.byteLength;
      at = this.place(n + 1);
      this.bytes.set(binary, at);
    } else {
      const json = m.json ?? 'null';
      // One pass when the free stretch after the newest surely holds it (UTF-8 takes at most 3
      // bytes per UTF-16 unit); else measure it first.
      if (json.length * 3 < this.roomAtWrite()) {
        at = this.count === 0 ? 0 : this.write;
        n = this.bytes.write(json, at, 'utf8');
      } else {
        n = Buffer.byteLength(json);
        at = this.place(n + 1);
        this.bytes.write(json, at, 'utf8');
      }
    }
    const slot = (this.head + this.count) % this.capacity;
    this.ts[slot] = m.ts;
    this.start[slot] = at;
    this.len[slot] = binary ? -1 - n : n;
    this.keys[slot] = m.key;
    this.count++;
    this.used += n + 1;
    this.newest = m.offset;
    this.write = at + n + 1;
    if (this.used > this.peakUsed) this.peakUsed = this.used;
    if (++this.appendsSinceCheck === this.shrinkWindow) this.reconsiderSize();
  }

  since(afterOffset: number, limit: number): HubMessage[] {
    const out: HubMessage[] = [];
    const oldestOffset = this.newest - this.count + 1;
    for (let i = Math.max(0, afterOffset + 1 - oldestOffset, this.count - limit); i < this.count; i++) out.push(this.at(i)!);
    return out;
  }

  /** Forgets every message and goes back to the first arena size. */
  clear(): void {
    this.keys.fill(undefined);
    this.head = 0;
    this.count = 0;
    this.used = 0;
    this.peakUsed = 0;
    this.appendsSinceCheck = 0;
    this.write = 0;
    if (this.bytes.length !== this.minBytes) this.bytes = Buffer.allocUnsafeSlow(this.minBytes);
  }

  /** Message at logical position `i` (0 = oldest), decoded into a new object the caller owns. */
  at(i: number): HubMessage | undefined {
    if (i < 0 || i >= this.count) return undefined;
    const slot = (this.head + i) % this.capacity;
    const s = this.start[slot];
    const l = this.len[slot];
    const message: HubMessage = { channel: this.channel, offset: this.newest - this.count + 1 + i, epoch: this.epoch(), ts: this.ts[slot], publishedAt: Number.NaN };
    if (l < 0) message.binary = Buffer.from(this.bytes.subarray(s, s - 1 - l));
    else message.json = this.bytes.toString('utf8', s, s + l);
    const key = this.keys[slot];
    if (key !== undefined) message.key = key;
    return message;
  }

  peekOldest(): HubMessage | undefined {
    return this.at(0);
  }

  peekNewest(): HubMessage | undefined {
    return this.at(this.count - 1);
  }

  /** Offset and time of the oldest kept message, without decoding it. */
  oldest(): { offset: number; ts: number } | undefined {
    return this.count === 0 ? undefined : { offset: this.newest - this.count + 1, ts: this.ts[this.head] };
  }

  /** Bytes the arena holds (its size, not what is in use). */
  get arenaBytes(): number {
    return this.bytes.length;
  }

  *[Symbol.iterator](): IterableIterator<HubMessage> {
    for (let i = 0; i < this.count; i++) yield this.at(i)!;
  }

  private dropOldest(): void {
    this.used -= this.recordBytes(this.head);
    this.keys[this.head] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.count--;
  }

  /** Free bytes from where the next record goes (after the newest) up to the next kept one or the end. */
  private roomAtWrite(): number {
    if (this.count === 0) return this.bytes.length;
    const oldestStart = this.start[this.head];
    return this.write > oldestStart ? this.bytes.length - this.write : oldestStart - this.write;
  }

  /** Where `n` bytes go without overwriting a kept record: after the newest, or from 0; else the arena grows. */
  private place(n: number): number {
    if (this.count === 0) {
      if (n > this.bytes.length) this.grow(n);
      return 0;
    }
    const oldestStart = this.start[this.head];
    if (this.write > oldestStart) {
      // Kept records lie in [oldestStart, write): free after them, and before them from 0.
      if (this.write + n <= this.bytes.length) return this.write;
      if (n <= oldestStart) return 0;
    } else if (this.write + n <= oldestStart) {
      return this.write; // wrapped: free between the newest's end and the oldest
    }
    this.grow(n);
    return this.write;
  }

  private grow(n: number): void {
    let size = this.bytes.length * 2;
    while (size < this.used + n) size *= 2;
    this.relayInto(size);
  }

  /**
   * Once per window of appends: when the kept records filled a quarter of the arena or less all
   * along, it is halved until their peak fills half of it (not under the first size), so the next
   * growth is far away. A window of at least 64 appends, so a depth-1 channel whose messages
   * alternate large and small keeps the arena the large ones need instead of reallocating.
   */
  private reconsiderSize(): void {
    let size = this.bytes.length;
    const peak = this.peakUsed;
    this.peakUsed = this.used;
    this.appendsSinceCheck = 0;
    if (peak * 4 > size || size === this.minBytes) return;
    while (size / 2 >= this.minBytes && peak * 2 <= size / 2) size /= 2;
    if (size !== this.bytes.length) this.relayInto(size);
  }

  /** A new arena of `size` bytes with the kept records laid from 0 in order (then `write` is their end). */
  private relayInto(size: number): void {
    const next = Buffer.allocUnsafeSlow(size);
    let at = 0;
    for (let i = 0; i < this.count; i++) {
      const slot = (this.head + i) % this.capacity;
      const r = this.recordBytes(slot);
      this.bytes.copy(next, at, this.start[slot], this.start[slot] + r);
      this.start[slot] = at;
      at += r;
    }
    this.bytes = next;
    this.write = at;
  }

  private recordBytes(slot: number): number {
    const l = this.len[slot];
    return (l < 0 ? -1 - l : l) + 1;
  }
}
