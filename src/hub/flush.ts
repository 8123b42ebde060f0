/**
 * @module hub/flush
 * The flush scheduler: the one place that decides when queued frames leave for the sockets.
 *
 * How a publication reaches a socket (docs/architecture.md, "The publish path"):
 * 1. Delivery (hub/channels) pushes the shared HubMessage onto each subscriber's queue; the session
 *    asks this scheduler for a flush ({@link FlushScheduler.scheduleFlush}), once per turn at most.
 * 2. At the end of the current event-loop turn (`setImmediate`) one flush pass writes every dirty
 *    session, each in ONE socket write: a long or binary publication's own WebSocket frame, built
 *    once for every client, and short text frames in a row joined into one frame (client-session's flush).
 * 3. Clients with the same subscriptions have byte-identical batches: the first one joined in a
 *    pass is kept in the batch cache (its items by reference, not copied) and its frame is reused
 *    by the others, found by identity compares only.
 * 4. A session whose socket buffer is over its high-water mark is not written; it is watched
 *    every 10 ms and flushed as soon as the socket drains (the queue holds meanwhile, bounded by
 *    the slow-consumer policy). The same watch closes a backed-up client's judgement window
 *    (ClientSession.judge): no timer per client, no clock read per delivery.
 * 5. The delivery-latency histogram gets one observation per pass (publish → last write of the
 *    pass for its oldest publication), plus one per write made outside a pass.
 * 6. A pass that has written for longer than its slice (`AIRWAVES_HUB_FLUSH_SLICE_MS`, a few ms)
 *    yields: the sessions not yet written wait, in order and ahead of any newly dirty one, for
 *    the next `setImmediate`, so new publications and socket reads are served in between. A
 *    session waiting in the list keeps `flushScheduled`, so what reaches it meanwhile joins its
 *    own queue behind what was there: order per client is kept and nothing is written twice.
 *
 * Everything here runs on the hot path: nothing is allocated per session or per pass.
 */
import type { Logger } from '../core/logger.js';
import type { HubMetrics } from '../core/metrics.js';
import type { ClientSession, Outbound, SessionHost } from './client-session.js';
import type { SlowConsumerReason } from './session-types.js';

/** A socket draining below this many buffered bytes is written again. */
const BLOCKED_RESUME_BYTES = 64 * 1024;
/** How often blocked sockets are looked at. */
const BLOCKED_POLL_MS = 10;
/** The clock is read once per this many sessions written (reading it per session costs more than it saves). */
const SLICE_CHECK_EVERY = 16;

/** A batch joined this pass: items[from, to) of the first session that had it, and its frame. */
interface BatchMemo {
  items: Outbound[];
  from: number;
  to: number;
  frame: Buffer;
}

export class FlushScheduler implements SessionHost {
  /**
   * The sessions that became dirty since the last pass started: dirty[0, dirtyLength). Two lists
   * are kept for the hub's lifetime and swapped at each pass, their slots cleared after use (the
   * capacity kept, bounded by the number of sessions): a fresh array per pass grew to 1,000 slots
   * through ten reallocations, ~26 KB of garbage per publication at 1,000 subscribers, which
   * brought the scavenges that set the 25k–50k tail sooner (docs/benchmarks.md).
   */
  private dirty: (ClientSession | undefined)[] = [];
  private dirtyLength = 0;
  /** The pass's list: a yielded pass goes on from passList[passNext] up to passLength. */
  private passList: (ClientSession | undefined)[] = [];
  private passNext = 0;
  private passLength = 0;
  private passPending = false;
  private readonly blocked = new Set<ClientSession>();
  private blockedTimer?: NodeJS.Timeout;
  /**
   * The batches written this pass, keyed by the batch's first item: items[from, to) of the first
   * session that had it (its own array, not a copy: sessions leave it untouched until
   * releaseFlushed() after the pass) and the frame joined from them. A new Map per pass, made only
   * when the pass cached a batch, never `clear()`: core/scavenger's "per-turn state" rule says why.
   */
  private batchCache = new Map<Outbound, BatchMemo>();
  /** Inside a flush pass, the oldest publication written so far (for one latency observation per pass). */
  private inPass = false;
  private passOldestPublishedAt = Infinity;

  constructor(
    private readonly metrics: HubMetrics,
    private readonly log: Logger,
    /** A pass yields after writing for this long (ms); 0 yields at every clock check. */
    private readonly sliceMs = 4,
  ) {}

  /** Slots the scheduler's two lists hold (written or not): bounded by the sessions, however often passes yield. */
  get listSlots(): number {
    return this.dirty.length + this.passList.length;
  }

  /** A session has something to write: flush it at the end of this turn (once, however often asked). */
  scheduleFlush(session: ClientSession): void {
    if (session.flushScheduled) return;
    session.flushScheduled = true;
    this.dirty[this.dirtyLength++] = session;
    if (!this.passPending) {
      this.passPending = true;
      setImmediate(this.runPass);
    }
  }

  /**
   * One flush pass: the sessions carried over from a yielded pass, then every newly dirty one, in
   * the order they became dirty; it yields once it has written for longer than its slice.
   */
  private readonly runPass = (): void => {
    this.passPending = false;
    // What a yielded pass left goes first, then every session that became dirty since.
    if (this.passNext === this.passLength) {
      const done = this.passList;
      this.passList = this.dirty;
      this.dirty = done;
      this.passNext = 0;
      this.passLength = this.dirtyLength;
    } else {
      // The written head of the yielded pass is moved out first: under sustained load passes may
      // never finish, and the list would otherwise grow by what they wrote, pass after pass.
      if (this.passNext > 0) {
        this.passList.copyWithin(0, this.passNext, this.passLength);
        this.passList.fill(undefined, this.passLength - this.passNext, this.passLength);
        this.passLength -= this.passNext;
        this.passNext = 0;
      }
      for (let j = 0; j < this.dirtyLength; j++) {
        this.passList[this.passLength++] = this.dirty[j];
        this.dirty[j] = undefined;
      }
    }
    this.dirtyLength = 0;
    const list = this.passList;
    const first = this.passNext;
    const end = this.passLength;
    this.inPass = true;
    const started = performance.now();
    let i = first;
    while (i < end) {
      list[i++]!.flush();
      if ((i - first) % SLICE_CHECK_EVERY === 0 && i < end && performance.now() - started >= this.sliceMs) {
        this.metrics.flushYields.inc();
        this.passPending = true;
        setImmediate(this.runPass);
        break;
      }
    }
    this.inPass = false;
    if (this.batchCache.size > 0) this.batchCache = new Map();
    for (let j = first; j < i; j++) {
      list[j]!.releaseFlushed();
      list[j] = undefined;
    }
    if (i === end) this.passNext = this.passLength = 0;
    else this.passNext = i;
    // One observation per pass, taken after its last write for its oldest publication: an upper
    // bound of every delivery in the pass. One per client per pass cost ~5 % of the hub's CPU.
    if (this.passOldestPublishedAt !== Infinity) {
      this.metrics.deliveryLatency.observe((performance.now() - this.passOldestPublishedAt) / 1000);
      this.passOldestPublishedAt = Infinity;
    }
  };

  sharedBatch(items: Outbound[], from: number, to: number): Buffer | undefined {
    if (!this.inPass) return undefined;
    const hit = this.batchCache.get(items[from]);
    if (!hit || hit.to - hit.from !== to - from) return undefined;
    // Identity compares: far cheaper than joining the frames again.
    for (let i = to - from - 1; i > 0; i--) if (hit.items[hit.from + i] !== items[from + i]) return undefined;
    return hit.frame;
  }

  rememberBatch(items: Outbound[], from: number, to: number, frame: Buffer): void {
    // Outside a pass nothing would keep the session's array as it is (and no one would ask).
    if (!this.inPass) return;
    // Replies and notices are per client: a batch holding one is never shared.
    for (let i = from; i < to; i++) if ('control' in items[i]) return;
    this.batchCache.set(items[from], { items, from, to, frame });
  }

  /** The session's socket is backed up: flush it again once it drains. */
  watchBlocked(session: ClientSession): void {
    this.blocked.add(session);
    if (this.blockedTimer) return;
    this.blockedTimer = setInterval(() => {
      const now = performance.now();
      for (const s of this.blocked) {
        if (s.closed) this.blocked.delete(s);
        else if (s.bufferedBytes() < BLOCKED_RESUME_BYTES) {
          this.blocked.delete(s);
          s.flush();
        } else s.judge(now);
      }
      if (this.blocked.size === 0 && this.blockedTimer) {
        clearInterval(this.blockedTimer);
        this.blockedTimer = undefined;
      }
    }, BLOCKED_POLL_MS);
    this.blockedTimer.unref();
  }

  /** The session closed: stop watching it. */
  forget(session: ClientSession): void {
    this.blocked.delete(session);
  }

  onWrite(_session: ClientSession, firstPublishedAt: number, _messages: number): void {
    if (Number.isNaN(firstPublishedAt)) return;
    if (this.inPass) {
      if (firstPublishedAt < this.passOldestPublishedAt) this.passOldestPublishedAt = firstPublishedAt;
    } else this.metrics.deliveryLatency.observe((performance.now() - firstPublishedAt) / 1000);
  }

  onSlowConsumer(session: ClientSession, action: 'drop' | 'conflate' | 'disconnect', count: number, reason: SlowConsumerReason): void {
    this.metrics.slowConsumerActions.inc({ action, reason }, count);
    this.log.debug({ client: session.id, action, count, reason }, 'slow consumer');
  }

  onSendError(session: ClientSession, err: Error): void {
    this.metrics.sendErrors.inc({ type: err.name || 'Error' });
    this.log.debug({ client: session.id, err }, 'send failed');
  }

  /** Stops the blocked-socket watcher (shutdown). */
  close(): void {
    if (this.blockedTimer) clearInterval(this.blockedTimer);
    this.blockedTimer = undefined;
  }
}
