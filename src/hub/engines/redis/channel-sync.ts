/**
 * @module hub/engines/redis/channel-sync
 * One in-order path per listened channel (as Centrifugo's engine keeps one per channel): every
 * message for the channel — pub/sub, this node's own publish replies, gap fills, and the
 * subscribe's history read that sets the starting position — goes through `offer`/`position`/
 * the fill's `apply`, and leaves through `deliver` strictly as `next`, `next + 1`, … within one
 * epoch.
 *
 * States:
 * - `unsynced`: listened, but no position yet; messages are held until the first subscribe's
 *   history read says where the channel stands (`position`).
 * - `live`: in order; a message at `next` is delivered at once, an older one is a duplicate
 *   (counted, dropped), a later one or one of another epoch is held and starts a recovery.
 * - `recovering`: one history read at a time from `next - 1`; everything else is held (bounded:
 *   the oldest is dropped first, since history still has it). A failed read keeps holding and
 *   retries with backoff; it never skips anything. A read skips offsets only when it proves them
 *   gone: they are at or below the channel's top and neither history nor the held messages have
 *   them (trimmed or expired). The next delivered message then jumps, and the hub tells each
 *   subscription it lost continuity (it resubscribes with `since` and learns `recovered: false`).
 * - A read that reports another epoch (Redis lost the channel and it started over) adopts it,
 *   tells the hub at once (`epochChanged`: subscribers of a quiet channel learn it without
 *   waiting for a message) and reads again from its beginning.
 * - A fork: Redis lost messages this node already delivered (a Sentinel failover promoted a
 *   replica that had not received them) and may have given their offsets to new messages. A
 *   read after the position compares the last delivered message with history's message at that
 *   offset: top below it, or another message there, and the channel is restarted under a new
 *   epoch (`restart`, only if nobody did yet), so every node and client learns it lost
 *   continuity (`recovered: false`) instead of taking a different message for one it has.
 */
import type { HistorySlice, HubMessage } from '../engine.js';

export type SyncStatus = 'unsynced' | 'live' | 'recovering';

export type SyncEvent = 'duplicate' | 'fill' | 'fill_failed' | 'skipped' | 'held_dropped' | 'epoch_change' | 'fork';

export interface ChannelSyncDeps {
  /** Reads the channel's history after `after` (all that the channel keeps); rejects when Redis does not answer. */
  read(after: number): Promise<HistorySlice>;
  deliver(message: HubMessage): void;
  /** The channel is now in `epoch` (after being live in another). */
  epochChanged(epoch: string): void;
  /** Starts the channel over under a new epoch if it is still in `epoch` (a fork was seen). */
  restart(epoch: string): Promise<unknown>;
  count(event: SyncEvent, n?: number): void;
  warn(message: string, err: unknown): void;
}

interface Held {
  m: HubMessage;
  /** Arrival order: a read started after it knows whether its epoch is still the channel's. */
  seq: number;
}

const RETRY_MIN_MS = 50;
const RETRY_MAX_MS = 2000;

export class ChannelSync {
  status: SyncStatus = 'unsynced';
  epoch = '';
  /** The next offset to deliver (position + 1). */
  next = 0;
  private held: Held[] = [];
  /** The last message delivered: what a fork check compares history with. */
  private last?: HubMessage;
  private seq = 0;
  private reading = false;
  private again = false;
  private retryMs = 0;
  private timer?: NodeJS.Timeout;
  private closed = false;

  constructor(
    readonly channel: string,
    private readonly deps: ChannelSyncDeps,
    private readonly holdLimit: number,
  ) {}

  /** A message for this channel from pub/sub or from this node's own publish reply. */
  offer(m: HubMessage): void {
    if (this.closed) return;
    if (this.status === 'live' && m.epoch === this.epoch) {
      if (m.offset < this.next) {
        this.deps.count('duplicate');
        // Another message at the offset delivered last: Redis gave it out again (a fork).
        if (this.last && m.offset === this.last.offset && !sameMessage(m, this.last)) this.recover();
        return;
      }
      if (m.offset === this.next) {
        this.emit(m);
        if (this.held.length) this.drain();
        return;
      }
    }
    this.hold(m);
    if (this.reading) this.again = true;
    if (this.status === 'live') this.recover();
  }

  /**
   * The first subscribe's history read on an unsynced channel: everything after its top is new
   * to this node (what is at or below it, the subscriber got from the read itself). A later read
   * that shows another epoch starts a recovery.
   */
  position(slice: HistorySlice): void {
    if (this.closed) return;
    if (this.status !== 'unsynced') {
      if (slice.epoch !== this.epoch) this.recover();
      return;
    }
    this.epoch = slice.epoch;
    this.next = slice.top + 1;
    this.status = 'live';
    this.drain();
    if (this.held.length) this.recover();
  }

  /** Reads from the position (after a reconnect, a gap, an epoch change); one read at a time. */
  recover(): void {
    if (this.closed || this.status === 'unsynced') return;
    this.status = 'recovering';
    if (this.reading) {
      this.again = true;
      return;
    }
    if (this.timer) return; // a retry is already scheduled
    this.reading = true;
    this.again = false;
    this.deps.count('fill');
    const after = this.next - 1;
    const epoch = this.epoch;
    const seq = this.seq;
    // One message more than needed when it is the last delivered one: the fork check's witness.
    const checkable = this.last !== undefined && this.last.offset === after && this.last.epoch === epoch;
    this.deps.read(checkable ? after - 1 : after).then(
      (slice) => {
        this.reading = false;
        this.apply(after, epoch, seq, slice);
      },
      (err: unknown) => {
        this.reading = false;
        this.failed(err);
      },
    );
  }

  /** True while this channel owes its subscribers something it has not read yet. */
  get behind(): boolean {
    return this.status === 'recovering' || this.held.length > 0;
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.held = [];
  }

  // ---------------------------------------------------------------- internals

  private emit(m: HubMessage): void {
    this.next = m.offset + 1;
    this.last = m;
    this.deps.deliver(m);
  }

  /** Inserts in offset order (usually at the end), once per epoch and offset; bounded. */
  private hold(m: HubMessage): void {
    const held = this.held;
    let i = held.length;
    while (i > 0 && held[i - 1].m.offset > m.offset) i--;
    for (let j = i - 1; j >= 0 && held[j].m.offset === m.offset; j--) if (held[j].m.epoch === m.epoch) return;
    held.splice(i, 0, { m, seq: ++this.seq });
    if (held.length > this.holdLimit) {
      // The oldest first: history still has it (or proves it gone) when the read gets through.
      held.shift();
      this.deps.count('held_dropped');
    }
  }

  /** Delivers held messages that continue the position; drops those it already passed. */
  private drain(): void {
    const rest: Held[] = [];
    for (const h of this.held) {
      if (h.m.epoch !== this.epoch) rest.push(h);
      else if (h.m.offset === this.next) this.emit(h.m);
      else if (h.m.offset > this.next) rest.push(h);
    }
    this.held = rest;
  }

  private apply(after: number, epoch: string, seq: number, slice: HistorySlice): void {
    if (this.closed) return;
    this.retryMs = 0;
    if (slice.epoch !== epoch) {
      // The channel started over under a new epoch: its offsets restart. Read it from the start.
      this.deps.count('epoch_change');
      this.epoch = slice.epoch;
      this.next = 1;
      this.held = this.held.filter((h) => h.m.epoch === slice.epoch || h.seq > seq);
      this.deps.epochChanged(slice.epoch);
      this.recover();
      return;
    }
    if (this.forked(after, epoch, slice)) return this.restart(epoch);
    // Everything up to the top that still exists is in history or held; what neither has is gone.
    const known: HubMessage[] = [];
    for (const m of slice.messages) if (m.offset > after) known.push(m);
    for (const h of this.held) if (h.m.epoch === epoch && h.m.offset <= slice.top) known.push(h.m);
    known.sort((a, b) => a.offset - b.offset);
    for (const m of known) {
      if (m.offset < this.next) continue;
      if (m.offset > this.next) this.deps.count('skipped', m.offset - this.next);
      this.emit(m);
    }
    if (this.next <= slice.top) {
      this.deps.count('skipped', slice.top + 1 - this.next);
      this.next = slice.top + 1;
    }
    // Held messages of another epoch that arrived before this read are an older epoch's.
    this.held = this.held.filter((h) => (h.m.epoch === epoch ? h.m.offset > slice.top : h.seq > seq));
    this.status = 'live';
    this.drain();
    if (this.again || this.held.length) this.recover();
  }

  /** Whether history contradicts what this node delivered last (see the module comment). */
  private forked(after: number, epoch: string, slice: HistorySlice): boolean {
    const last = this.last;
    if (!last || last.offset !== after || last.epoch !== epoch) return false;
    if (slice.top < after) return true;
    const there = slice.messages.find((m) => m.offset === after);
    return there !== undefined && !sameMessage(there, last);
  }

  private restart(epoch: string): void {
    this.deps.count('fork');
    this.deps.warn(`${this.channel} lost messages this node delivered (Redis failover?); starting a new epoch`, new Error(`fork in epoch ${epoch} at offset ${this.next - 1}`));
    this.reading = true;
    this.deps.restart(epoch).then(
      () => {
        this.reading = false;
        this.recover();
      },
      (err: unknown) => {
        this.reading = false;
        this.failed(err);
      },
    );
  }

  private failed(err: unknown): void {
    if (this.closed) return;
    this.deps.count('fill_failed');
    this.deps.warn(`history read for ${this.channel} failed; holding messages and retrying`, err);
    this.retryMs = Math.min(Math.max(RETRY_MIN_MS, this.retryMs * 2), RETRY_MAX_MS);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.recover();
    }, this.retryMs);
    this.timer.unref();
  }
}

/** Same publication: same time, key and payload (offset and epoch are compared by the caller). */
function sameMessage(a: HubMessage, b: HubMessage): boolean {
  if (a.ts !== b.ts || (a.key ?? '') !== (b.key ?? '')) return false;
  if (a.binary || b.binary) return a.binary !== undefined && b.binary !== undefined && Buffer.compare(a.binary, b.binary) === 0;
  return a.json === b.json;
}
