/**
 * @module hub/client-session
 * One WebSocket connection: its identity, its subscriptions and its bounded outbound queue.
 *
 * Why the queue looks like this: the hub hands every subscriber the same encoded frame (a
 * HubMessage), so enqueuing is a pointer push. The queue is drained once per event-loop turn by
 * the flush scheduler's pass (./flush.ts); several text frames waiting for one client leave in ONE WebSocket frame,
 * joined by "\n" — one socket write per client per turn instead of one per message. When the
 * socket itself is backed up the queue holds, and its size (messages, and bytes including the
 * socket's own buffer) is what triggers the namespace's slow-consumer policy.
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
import { frameOf, type HubMessage } from './engines/engine.js';
import { encodeEvent } from './frame-encoding.js';

/** A reply or notice that must reach the client in order and is never dropped. */
export interface ControlFrame {
  control: true;
  frame: Buffer;
}

/** What waits in a session's queue: a shared publication, or a reply or notice for this client only. */
export type Outbound = HubMessage | ControlFrame;

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

export interface SessionLimits {
  queueMessages: number;
  queueBytes: number;
  /** Above this many bytes in the socket's buffer, the hub stops writing and lets the queue hold. */
  socketHighWater: number;
}

/**
 * What a session needs from the hub to leave its queue: implemented by the flush scheduler
 * (./flush.ts), which decides when sessions write and shares identical batches between them.
 */
export interface SessionHost {
  scheduleFlush(session: ClientSession): void;
  watchBlocked(session: ClientSession): void;
  onSlowConsumer(session: ClientSession, action: 'drop' | 'conflate' | 'disconnect', count: number): void;
  onWrite(session: ClientSession, firstPublishedAt: number, messages: number): void;
  onSendError(session: ClientSession, err: Error): void;
  /** The WebSocket frame already built this flush pass for the same publications items[from, to), if any. */
  sharedBatch(items: Outbound[], from: number, to: number): Buffer | undefined;
  rememberBatch(items: Outbound[], from: number, to: number, frame: Buffer): void;
}

const NEWLINE = Buffer.from('\n');
const MAX_BATCH_BYTES = 256 * 1024;
/** A queue array that grew past this many slots in a burst is let go after its flush, not kept. */
const KEEP_QUEUE_CAPACITY = 1024;
/** WebSocket readyState OPEN. */
const OPEN = 1;

/**
 * One unmasked, final text frame (RFC 6455 §5.2) holding `payload`, in a single buffer. Built
 * once per batch and flush pass, then written as-is to every client with that batch: the
 * per-client cost is one socket write, not a framing pass and a two-buffer writev.
 */
export function textFrame(payload: Buffer): Buffer {
  const len = payload.length;
  const header = len < 126 ? 2 : len < 65536 ? 4 : 10;
  const out = Buffer.allocUnsafe(header + len);
  out[0] = 0x81;
  if (len < 126) out[1] = len;
  else if (len < 65536) {
    out[1] = 126;
    out.writeUInt16BE(len, 2);
  } else {
    out[1] = 127;
    out.writeUInt32BE(Math.floor(len / 2 ** 32), 2);
    out.writeUInt32BE(len >>> 0, 6);
  }
  payload.copy(out, header);
  return out;
}

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
  /** The other array of the pair: empty, ready to become `queue` at the next flush. */
  private spare: (Outbound | undefined)[] = [];
  private queueBytes = 0;
  /** True while flush() writes `spare`'s former partner: the pair must not be swapped meanwhile. */
  private writing = false;
  private expiryTimer?: NodeJS.Timeout;

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
      // taking data, write now. The policy applies only when the socket itself is backed up.
      if (this.ws.bufferedAmount <= this.limits.socketHighWater) {
        this.flush();
        if (this.queueLength === 0) return;
      }
      this.relieve(policy);
      if (this.closed) return;
    }
    this.host.scheduleFlush(this);
  }

  /** Writes everything queued, batching consecutive text frames into one WebSocket frame. */
  flush(): void {
    this.flushScheduled = false;
    // Never while this session's own write loop runs (its arrays are in use): after it, instead.
    if (this.writing) {
      this.host.scheduleFlush(this);
      return;
    }
    if (this.closed || this.queueLength === 0) return;
    if (this.ws.bufferedAmount > this.limits.socketHighWater) {
      this.blocked = true;
      this.host.watchBlocked(this);
      return;
    }
    this.blocked = false;
    const items = this.queue as Outbound[];
    const count = this.queueLength;
    this.queue = this.spare;
    this.queueLength = 0;
    this.queueBytes = 0;
    let firstPublishedAt = NaN;
    let publications = 0;
    let batchStart = 0;
    let batchBytes = 0;
    this.writing = true;
    for (let i = 0; i < count; i++) {
      const item = items[i];
      if (!('control' in item)) {
        publications++;
        if (Number.isNaN(firstPublishedAt)) firstPublishedAt = item.publishedAt;
        if (item.binary) {
          this.writeText(items, batchStart, i);
          this.writeBinary(item.frame!);
          batchStart = i + 1;
          batchBytes = 0;
          continue;
        }
      }
      batchBytes += item.frame!.length + 1;
      if (batchBytes >= MAX_BATCH_BYTES) {
        this.writeText(items, batchStart, i + 1);
        batchStart = i + 1;
        batchBytes = 0;
      }
    }
    this.writeText(items, batchStart, count);
    this.writing = false;
    // Hand the array back empty, capacity kept: the next flush swaps it in (no allocation).
    items.fill(undefined as unknown as Outbound, 0, count);
    this.spare = items.length > KEEP_QUEUE_CAPACITY ? [] : items;
    if (publications > 0) this.host.onWrite(this, firstPublishedAt, publications);
  }

  private writeText(items: Outbound[], from: number, to: number): void {
    const n = to - from;
    if (n <= 0) return;
    // Clients subscribed to the same channels usually have identical batches: join and frame once, reuse.
    let framed = this.host.sharedBatch(items, from, to);
    if (!framed) {
      let joined: Buffer;
      if (n === 1) joined = items[from].frame!;
      else {
        const parts: Buffer[] = new Array(n * 2 - 1);
        let length = n - 1;
        for (let i = 0; i < n; i++) {
          const f = items[from + i].frame!;
          parts[i * 2] = f;
          if (i < n - 1) parts[i * 2 + 1] = NEWLINE;
          length += f.length;
        }
        joined = Buffer.concat(parts, length);
      }
      framed = textFrame(joined);
      this.host.rememberBatch(items, from, to, framed);
    }
    this.writeFramed(framed);
  }

  /**
   * Writes a complete text frame straight to the TCP socket. Why not ws.send: the profile of the
   * hub benchmark shows its framing, cork/uncork and writev bookkeeping per client per write as
   * the largest cost after the syscall itself. Safe because compression is off, so ws's own
   * sender (pings, close frames, binary sends) also writes synchronously and order is kept;
   * bufferedAmount still reads the socket's buffer.
   */
  private writeFramed(framed: Buffer): void {
    const socket = (this.ws as unknown as { _socket: Socket | null })._socket;
    if (this.ws.readyState !== OPEN || !socket) {
      this.host.onSendError(this, new Error('WebSocket is not open'));
      return;
    }
    socket.write(framed);
  }

  private writeBinary(frame: Buffer): void {
    try {
      this.ws.send(frame, { binary: true, compress: false, fin: true });
    } catch (err) {
      this.host.onSendError(this, err as Error);
    }
  }

  /**
   * Applies the slow-consumer policy once the queue is over its bounds.
   * drop-oldest: drop the oldest publications (to half the bound) and tell the client which
   * offsets it missed, so the SDK resubscribes from history. conflate: keep only the newest
   * publication per (channel, key), then drop-oldest if that was not enough. disconnect: 4008.
   */
  private relieve(policy: SlowConsumerPolicyName): void {
    if (policy === 'disconnect') {
      this.host.onSlowConsumer(this, 'disconnect', 1);
      this.replaceQueue([]);
      this.closeWith(4008, 'slow consumer');
      return;
    }
    if (policy === 'conflate') {
      const queued = this.queuedItems();
      const before = queued.length;
      const seen = new Set<string>();
      const kept: Outbound[] = [];
      for (let i = queued.length - 1; i >= 0; i--) {
        const item = queued[i];
        if (!('control' in item) && item.key !== undefined) {
          const k = `${item.channel}\u0000${item.key}`;
          if (seen.has(k)) continue;
          seen.add(k);
        }
        kept.push(item);
      }
      kept.reverse();
      this.replaceQueue(kept);
      const conflated = before - kept.length;
      if (conflated > 0) this.host.onSlowConsumer(this, 'conflate', conflated);
      if (!this.overHalf()) return;
    }
    this.dropOldest();
  }

  private overHalf(): boolean {
    return this.queueLength > this.limits.queueMessages / 2 || this.queueBytes > this.limits.queueBytes / 2;
  }

  private dropOldest(): void {
    const gaps = new Map<string, { from: number; to: number }>();
    const kept: Outbound[] = [];
    let dropped = 0;
    let bytes = this.queueBytes;
    let count = this.queueLength;
    const targetMessages = this.limits.queueMessages / 2;
    const targetBytes = this.limits.queueBytes / 2;
    for (const item of this.queuedItems()) {
      if (!('control' in item) && (count > targetMessages || bytes > targetBytes)) {
        const gap = gaps.get(item.channel);
        if (gap) gap.to = item.offset;
        else gaps.set(item.channel, { from: item.offset, to: item.offset });
        bytes -= item.frame!.length;
        count--;
        dropped++;
        continue;
      }
      kept.push(item);
    }
    const notices: Outbound[] = [];
    for (const [channel, gap] of gaps) notices.push({ control: true, frame: encodeEvent({ channel, event: 'gap', from: gap.from, to: gap.to }) });
    this.replaceQueue([...notices, ...kept]);
    if (dropped > 0) this.host.onSlowConsumer(this, 'drop', dropped);
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
    this.queueBytes = 0;
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
  }
}
