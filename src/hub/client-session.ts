/**
 * @module hub/client-session
 * One WebSocket connection: its identity, its subscriptions and its bounded outbound queue.
 *
 * Why the queue looks like this: the hub hands every subscriber the same encoded frame (a
 * HubMessage), so enqueuing is a pointer push. The queue is drained once per event-loop turn by
 * the flush scheduler's pass (./flush.ts); everything waiting for one client leaves in ONE socket
 * write per turn (short text frames in a row joined by "\n" into one WebSocket frame, long ones
 * and binary ones as each publication's shared frame, in one writev) instead of one per message. When the
 * socket itself is backed up the queue holds. Past its bounds the client is judged by rate: it
 * must shrink its backlog within a window, or the namespace's slow-consumer policy applies; past
 * the hard cap the policy applies at once ({@link ClientSession.judge}, docs/architecture.md).
 *
 * The queue's arrays are reused, never allocated per flush: two per session (one filling while
 * the other is written), each kept with its capacity. A fresh array per flush per client was
 * 100,000 short-lived arrays a second at 100k deliveries/s, and V8 promoted (and then had to
 * mark-compact) megabytes of them per scavenge — scavenges of 30–100 ms, the hub's latency tail
 * (docs/benchmarks.md, "The tail").
 */
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import type { SlowConsumerPolicyName } from '../core/config.js';
import { TokenBucket } from '../core/token-bucket.js';
import type { ClientIdentity } from './auth.js';
import { frameOf, wireOf, type HubMessage } from './engines/engine.js';
import { encodeEvent, joinedTextFrame, textFrame } from './frame-encoding.js';
import { conflated, droppedOldest } from './slow-consumer.js';


export type { ControlFrame, Outbound, SessionLimits } from './session-types.js';
import type { Outbound, SessionLimits, SlowConsumerReason } from './session-types.js';

export interface Subscription {
  readonly session: ClientSession;
  readonly channel: string;
  readonly namespace: string;
  /** While recovering, live messages wait here so replay and live stay in offset order. */
  pending: HubMessage[] | null;
  policy: SlowConsumerPolicyName;
  /**
   * The subscription's position: the last offset it was given (its reply's offset, the last
   * replayed one, then each delivered one) in `epoch`. The hub's one delivery invariant: a
   * subscription is given `position + 1` of its epoch and nothing else. An older offset is one it
   * already has (its history read overtook live delivery); anything else means it lost
   * continuity (offsets proven gone, a new epoch): it gets a `gap` notice and nothing more until
   * it resubscribes with `since` (and learns `recovered: false`).
   */
  position: number;
  epoch: string;
  continuityLost: boolean;
}

/**
 * What a session needs from the hub to leave its queue: implemented by the flush scheduler
 * (./flush.ts), which decides when sessions write and shares identical batches between them.
 */
export interface SessionHost {
  scheduleFlush(session: ClientSession): void;
  watchBlocked(session: ClientSession): void;
  onSlowConsumer(session: ClientSession, action: 'drop' | 'conflate' | 'disconnect', count: number, reason: SlowConsumerReason): void;
  onWrite(session: ClientSession, firstPublishedAt: number, messages: number): void;
  onSendError(session: ClientSession, err: Error): void;
  /** The WebSocket frame for the same publications items[from, to) another client had this flush pass, if any. */
  sharedBatch(items: Outbound[], from: number, to: number): Buffer | undefined;
  /**
   * This client's joined batch, for the clients after it in the pass. `items` is not copied: the
   * session leaves the array untouched until {@link ClientSession.releaseFlushed} (after the pass).
   */
  rememberBatch(items: Outbound[], from: number, to: number, frame: Buffer): void;
}

/**
 * A text publication at least this long goes out as its own shared WebSocket frame; shorter ones
 * in a row are joined by "\n" into one frame. Copying a short frame is cheaper than a write entry
 * of its own, a long one is not. Measured on loopback sockets (one writev per client either way):
 * 5 × 200 B joined cost 6 % less CPU than 5 frames corked; 5 × 500 B corked 10 % less, 5 × 2 KB 30 % less.
 */
const OWN_FRAME_BYTES = 512;
/** A joined frame is closed at this size and the next one started. */
const MAX_JOINED_BYTES = 256 * 1024;
/** A queue array that grew past this many slots in a burst is let go after its flush, not kept. */
const KEEP_QUEUE_CAPACITY = 1024;
/** WebSocket readyState OPEN. */
const OPEN = 1;

/**
 * The buffers one session's flush collects, then writes in one go: outgoing[0, outgoingLength).
 * Module-level and reused (a flush calls nothing that could flush another session meanwhile), and
 * emptied by clearing its slots: `length = 0` gave V8's array its empty backing store back, so the
 * next push allocated a new one, ~150 B per subscriber per publication (docs/benchmarks.md).
 */
const outgoing: (Buffer | undefined)[] = [];
let outgoingLength = 0;

export class ClientSession {
  identity: ClientIdentity;
  connected = false;
  closed = false;
  flushScheduled = false;
  blocked = false;
  alive = true;
  readonly subscriptions = new Map<string, Subscription>();
  readonly commandBucket: TokenBucket;
  readonly publishBucket: TokenBucket;
  readonly publishBytesBucket: TokenBucket;
  /** What is queued: queue[0, queueLength); the slots after it are undefined (cleared, capacity kept). */
  private queue: (Outbound | undefined)[] = [];
  private queueLength = 0;
  /** The other array of the pair: ready to become `queue` at the next flush once its first `spareUsed` slots are cleared. */
  private spare: (Outbound | undefined)[] = [];
  /** Slots of `spare` still holding what its last flush wrote (kept for the pass's batch cache). */
  private spareUsed = 0;
  private queueBytes = 0;
  /** True while flush() writes `spare`'s former partner: the pair must not be swapped meanwhile. */
  private writing = false;
  private expiryTimer?: NodeJS.Timeout;
  /** While the client is judged (./slow-consumer.ts, {@link judge}): when the window began (performance.now()); -1 otherwise. */
  private judgedSince = -1;
  /** The backlog (queue plus socket buffer, bytes) when the window began. */
  private judgedBacklog = 0;
  /** The policy of the publication that last found the queue over its bounds: the one a judgement applies. */
  private judgedPolicy: SlowConsumerPolicyName = 'drop-oldest';
  /**
   * The WebSocket's TCP socket, looked up once: the flush writes to it and reads its buffered
   * bytes straight from it. ws's `bufferedAmount` getter (the same bytes: with compression off its
   * sender never holds any) was ~1.4 % of the hub's samples in a (loaded) 100k profile.
   */
  private readonly socket: Socket | null;
  /** Which of the heartbeat's slices pings this session (connections.ts spreads the pings). */
  heartbeatSlot = 0;

  constructor(
    readonly id: string,
    readonly ws: WebSocket,
    readonly ip: string,
    identity: ClientIdentity,
    private readonly host: SessionHost,
    private readonly limits: SessionLimits,
    rates: { commandsPerSecond: number; publishesPerSecond: number; publishBytesPerSecond: number },
  ) {
    this.identity = identity;
    this.socket = (ws as unknown as { _socket: Socket | null })._socket ?? null;
    this.commandBucket = new TokenBucket({ capacity: rates.commandsPerSecond * 2, refillPerSecond: rates.commandsPerSecond });
    this.publishBucket = new TokenBucket({ capacity: rates.publishesPerSecond * 2, refillPerSecond: rates.publishesPerSecond });
    this.publishBytesBucket = new TokenBucket({ capacity: rates.publishBytesPerSecond * 2, refillPerSecond: rates.publishBytesPerSecond });
  }

  get user(): string | null {
    return this.identity.user;
  }

  get queuedMessages(): number {
    return this.queueLength;
  }

  get queuedBytes(): number {
    return this.queueBytes;
  }

  /** Closes the connection when the token expires. */
  setExpiry(at: number | null, onExpire: () => void): void {
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    if (at === null) return;
    this.expiryTimer = setTimeout(onExpire, Math.max(0, at - Date.now()));
    this.expiryTimer.unref();
  }

  /** Queues a reply, error or notice. Control frames bypass the slow-consumer policy. */
  sendControl(frame: Buffer): void {
    if (this.closed) return;
    this.queue[this.queueLength++] = { control: true, frame };
    this.queueBytes += frame.length;
    this.host.scheduleFlush(this);
  }

  sendEvent(push: Parameters<typeof encodeEvent>[0]): void {
    this.sendControl(encodeEvent(push));
  }

  /** Queues a publication. Hot path: one array push, one size check. */
  deliver(message: HubMessage, policy: SlowConsumerPolicyName): void {
    if (this.closed) return;
    const frame = frameOf(message);
    this.queue[this.queueLength++] = message;
    this.queueBytes += frame.length;
    // Only our own queue counts here: flush() stops writing above socketHighWater, so the socket's
    // buffer is bounded separately, and what waits in our queue can still be conflated or dropped.
    if (this.queueLength > this.limits.queueMessages || this.queueBytes > this.limits.queueBytes) {
      // A burst larger than the queue within one turn is not a slow client: if the socket is
      // taking data, write now. Only a backed-up socket gets the client judged.
      if (this.bufferedBytes() <= this.limits.socketHighWater) {
        this.flush();
        if (this.queueLength === 0) return;
      }
      this.overBounds(policy);
      if (this.closed) return;
    }
    this.host.scheduleFlush(this);
  }

  /**
   * Writes everything queued in ONE socket write (a single buffer, or a corked writev of several):
   * a long or binary publication's frame is the one built for every client (never copied per
   * client); short text frames in a row are joined into one frame, shared by the clients that
   * have the same ones this pass.
   */
  flush(): void {
    this.flushScheduled = false;
    // Never while this session's own write loop runs (its arrays are in use): after it, instead.
    if (this.writing) {
      this.host.scheduleFlush(this);
      return;
    }
    if (this.closed || this.queueLength === 0) return;
    if (this.bufferedBytes() > this.limits.socketHighWater) {
      this.blocked = true;
      this.host.watchBlocked(this);
      return;
    }
    this.blocked = false;
    // The socket takes data and the queue is back within its bounds: the client caught up.
    if (this.judgedSince >= 0 && this.withinBounds()) this.judgedSince = -1;
    // The common case at moderate rates: one publication waiting. Its shared frame goes out as
    // is, with none of the batching below (it is per subscriber, so every step shows in latency).
    if (this.queueLength === 1 && !('control' in this.queue[0]!)) {
      const message = this.queue[0] as HubMessage;
      this.queue[0] = undefined;
      this.queueLength = 0;
      this.queueBytes = 0;
      outgoing[outgoingLength++] = wireOf(message);
      this.writeOutgoing();
      this.host.onWrite(this, message.publishedAt, 1);
      return;
    }
    const items = this.queue as Outbound[];
    const count = this.queueLength;
    this.releaseFlushed();
    this.queue = this.spare;
    this.queueLength = 0;
    this.queueBytes = 0;
    let firstPublishedAt = NaN;
    let publications = 0;
    let runStart = 0;
    let runBytes = 0;
    this.writing = true;
    for (let i = 0; i < count; i++) {
      const item = items[i];
      if (!('control' in item)) {
        publications++;
        if (Number.isNaN(firstPublishedAt)) firstPublishedAt = item.publishedAt;
        if (item.binary || item.frame!.length >= OWN_FRAME_BYTES) {
          this.collectJoined(items, runStart, i);
          outgoing[outgoingLength++] = wireOf(item);
          runStart = i + 1;
          runBytes = 0;
          continue;
        }
      }
      runBytes += item.frame!.length + 1;
      if (runBytes >= MAX_JOINED_BYTES) {
        this.collectJoined(items, runStart, i + 1);
        runStart = i + 1;
        runBytes = 0;
      }
    }
    this.collectJoined(items, runStart, count);
    this.writeOutgoing();
    this.writing = false;
    // The array becomes the spare with what it held: the pass's batch cache may still compare
    // against it. releaseFlushed() clears it (capacity kept) after the pass or before reuse.
    if (items.length > KEEP_QUEUE_CAPACITY) this.spare = [];
    else {
      this.spare = items;
      this.spareUsed = count;
    }
    if (publications > 0) this.host.onWrite(this, firstPublishedAt, publications);
  }

  /** Bytes waiting in the socket's own buffer (what ws's bufferedAmount reads, without the getter chain). */
  bufferedBytes(): number {
    return this.socket ? this.socket.writableLength : this.ws.bufferedAmount;
  }

  /** Clears what the spare array still holds from its last flush (no allocation; idempotent). */
  releaseFlushed(): void {
    if (this.spareUsed === 0) return;
    this.spare.fill(undefined, 0, this.spareUsed);
    this.spareUsed = 0;
  }

  /** Adds the short text frames items[from, to), joined into one WebSocket frame, to what this flush writes. */
  private collectJoined(items: Outbound[], from: number, to: number): void {
    const n = to - from;
    if (n <= 0) return;
    if (n === 1) {
      const item = items[from];
      outgoing[outgoingLength++] = 'control' in item ? textFrame(item.frame) : wireOf(item);
      return;
    }
    // Clients subscribed to the same channels usually have identical batches: join once, reuse.
    let joined = this.host.sharedBatch(items, from, to);
    if (!joined) {
      joined = joinedTextFrame(items, from, to);
      this.host.rememberBatch(items, from, to, joined);
    }
    outgoing[outgoingLength++] = joined;
  }

  /**
   * Writes what flush() collected straight to the TCP socket, in one write. Why not ws.send: the
   * profile of the hub benchmark shows its framing, cork/uncork and writev bookkeeping per client
   * per write as the largest cost after the syscall itself. Safe because compression is off, so
   * ws's own sender (pings, close frames) also writes synchronously and order is kept;
   * bufferedAmount still reads the socket's buffer.
   */
  private writeOutgoing(): void {
    const socket = this.socket;
    const n = outgoingLength;
    try {
      if (this.ws.readyState !== OPEN || !socket) {
        this.host.onSendError(this, new Error('WebSocket is not open'));
        return;
      }
      if (n === 1) socket.write(outgoing[0]!);
      else {
        // Corked writes leave as one writev when uncorked: one syscall, the buffers not copied.
        socket.cork();
        try {
          for (let i = 0; i < n; i++) socket.write(outgoing[i]!);
        } finally {
          socket.uncork();
        }
      }
    } catch (err) {
      this.host.onSendError(this, err as Error);
    } finally {
      // Shared by every session: never left holding one session's buffers (slots cleared, capacity kept).
      if (n === 1) outgoing[0] = undefined;
      else if (n > KEEP_QUEUE_CAPACITY) outgoing.length = 0;
      else outgoing.fill(undefined, 0, n);
      outgoingLength = 0;
    }
  }

  /**
   * The queue is over its bounds and its socket backed up. Past the hard cap the policy applies at
   * once (memory per client stays bounded whatever the timing); below it the queue holds and a
   * judgement window starts, which the flush scheduler's blocked-socket watch closes ({@link judge}).
   * Why not at once, as it once was: a client that reads as fast as it is allowed to can still
   * look stalled for a few hundred ms when the server is (a starved event loop; a dropped loopback
   * segment, whose retransmission waits out TCP's RTO while the queue fills), and was dropped.
   */
  private overBounds(policy: SlowConsumerPolicyName): void {
    this.judgedPolicy = policy;
    if (this.queueLength > this.limits.hardMessages || this.queueBytes > this.limits.hardBytes) this.relieve(policy, 'hard_cap');
    else if (this.judgedSince >= 0) return;
    else if (this.limits.judgeWindowMs === 0) this.relieve(policy, 'not_keeping_up');
    else {
      this.judgedSince = performance.now();
      this.judgedBacklog = this.backlogBytes();
    }
  }

  /**
   * Closes the judgement window once it has run (called by the blocked-socket watch, `now` from
   * performance.now()). Judged by rate, not by progress: a client whose backlog (queue plus socket
   * buffer) did not shrink over the window drained less than it was sent, so it cannot keep up,
   * however steadily it reads; one that shrank it gets another window. Flushes move bytes from
   * the queue to the socket buffer, so they leave the backlog as it was.
   */
  judge(now: number): void {
    if (this.judgedSince < 0 || now - this.judgedSince < this.limits.judgeWindowMs) return;
    const backlog = this.backlogBytes();
    if (backlog >= this.judgedBacklog) this.relieve(this.judgedPolicy, 'not_keeping_up');
    else {
      this.judgedSince = now;
      this.judgedBacklog = backlog;
    }
  }

  /** Bytes waiting for this client: its queue and its socket's buffer. */
  backlogBytes(): number {
    return this.queueBytes + this.bufferedBytes();
  }

  private withinBounds(): boolean {
    return this.queueLength <= this.limits.queueMessages && this.queueBytes <= this.limits.queueBytes;
  }

  /**
   * Applies the slow-consumer policy (./slow-consumer.ts) and ends the judgement.
   * drop-oldest: drop the oldest publications (to half the bounds) and tell the client which
   * offsets it missed. conflate: keep the newest publication per (channel, key), then drop-oldest
   * if that was not enough. disconnect: 4008.
   */
  private relieve(policy: SlowConsumerPolicyName, reason: SlowConsumerReason): void {
    this.judgedSince = -1;
    if (policy === 'disconnect') {
      this.host.onSlowConsumer(this, 'disconnect', 1, reason);
      this.replaceQueue([]);
      this.closeWith(4008, 'slow consumer');
      return;
    }
    if (policy === 'conflate') {
      const before = this.queueLength;
      this.replaceQueue(conflated(this.queuedItems()));
      if (this.queueLength < before) this.host.onSlowConsumer(this, 'conflate', before - this.queueLength, reason);
      if (this.queueLength <= this.limits.queueMessages / 2 && this.queueBytes <= this.limits.queueBytes / 2) return;
    }
    const { kept, dropped } = droppedOldest(this.queuedItems(), this.queueBytes, this.limits.queueMessages / 2, this.limits.queueBytes / 2);
    this.replaceQueue(kept);
    if (dropped > 0) this.host.onSlowConsumer(this, 'drop', dropped, reason);
  }

  /** A copy of what is queued, in order (the slow-consumer paths only; the hot path never copies). */
  private queuedItems(): Outbound[] {
    return this.queue.slice(0, this.queueLength) as Outbound[];
  }

  private replaceQueue(items: Outbound[]): void {
    this.queue = items;
    this.queueLength = items.length;
    let bytes = 0;
    for (const item of items) bytes += item.frame!.length;
    this.queueBytes = bytes;
  }

  /** Sends what is queued, then closes with `code`. */
  closeWith(code: number, reason: string): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    try {
      this.ws.close(code, reason);
    } catch {
      this.ws.terminate();
    }
  }

  markClosed(): void {
    this.closed = true;
    this.queue = [];
    this.queueLength = 0;
    this.spare = [];
    this.spareUsed = 0;
    this.queueBytes = 0;
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
  }
}
