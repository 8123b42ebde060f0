/**
 * @module events/memory-event-log
 * The in-process {@link EventLog}: what a single node, development and the tests run on. It
 * keeps the exact semantics of the Redis Streams implementation (see ./event-log.ts) but lives
 * in memory, so it is bounded: every stream keeps at most `defaultMaxLen` entries (or the
 * `maxLen` of the append), trimming the oldest, and trimmed entries leave the pending lists too.
 *
 * Layout: a stream is an id-ordered array with a moving head (trimming advances the head and
 * the array is compacted once the dead prefix outgrows the live part, so trimming is amortised
 * O(1)); a group remembers its last delivered id, so a read is a binary search plus a slice. A
 * group's pending list is a Map in insertion order, which is id order because entries are
 * delivered oldest first and claiming updates in place. Blocked readers are parked per stream
 * and served synchronously by append: no polling. A reader may wait with no time limit
 * (`blockMs` 0) and be released by its AbortSignal (the node's consumer does, see event-consumer).
 */
import {
  DEFAULT_CLAIM_COUNT,
  DEFAULT_READ_COUNT,
  type AppendOptions,
  type ConsumerInfo,
  type EventLog,
  type GroupInfo,
  type LogEntry,
  type ReadGroupOptions,
} from './event-log.js';
import type { Registry, prom } from '../core/metrics.js';
import { DEAD_LETTER_MAX_LEN, TRIM_DEAD_LETTER_STREAM, trimmedDeadLetter, trimmedUnackedCounter } from './trim-guard.js';

export interface MemoryEventLogOptions {
  /** Entries kept per stream when an append gives no `maxLen`. Default 100_000. */
  defaultMaxLen?: number;
  /**
   * Clock in epoch milliseconds, used for entry ids and pending idle times (default
   * `Date.now`). `blockMs` timeouts always use real timers.
   */
  now?: () => number;
  /** Registry for `events_trimmed_unacked_total` (trim-guard.ts). */
  metrics?: Registry;
}

interface StoredEntry {
  readonly id: string;
  readonly ms: number;
  readonly seq: number;
  readonly fields: Readonly<Record<string, string>>;
}

interface PendingEntry {
  readonly ms: number;
  readonly seq: number;
  consumer: string;
  deliveredAt: number;
  deliveries: number;
}

interface Group {
  readonly name: string;
  lastMs: number;
  lastSeq: number;
  /** Consumer -> when it last read or claimed (its idle time is measured from there). */
  readonly consumers: Map<string, number>;
  /** id -> pending state, in id order. */
  readonly pending: Map<string, PendingEntry>;
}

interface Waiter {
  readonly group: Group;
  readonly consumer: string;
  readonly count: number;
  readonly resolve: (entries: LogEntry[]) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
  readonly signal?: AbortSignal;
  onAbort?: () => void;
}

interface Stream {
  /** entries[head..] are live; entries[..head) are trimmed and await compaction. */
  entries: StoredEntry[];
  head: number;
  /** The last id ever generated, which later ids must exceed even after trimming. */
  lastMs: number;
  lastSeq: number;
  readonly groups: Map<string, Group>;
  readonly waiters: Set<Waiter>;
}

/** Don't bother compacting dead prefixes shorter than this. */
const COMPACT_MIN = 1024;

const ID_RE = /^(\d+)(?:-(\d+))?$/;

function parseId(id: string): { ms: number; seq: number } {
  const m = ID_RE.exec(id);
  if (!m) throw new Error(`ERR Invalid stream ID specified as stream command argument: ${id}`);
  return { ms: Number(m[1]), seq: m[2] === undefined ? 0 : Number(m[2]) };
}

function checkInt(name: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) throw new RangeError(`${name} must be an integer >= ${min}, got ${value}`);
}

function noGroup(stream: string, group: string, command: string): Error {
  return new Error(`NOGROUP No such key '${stream}' or consumer group '${group}' in ${command}`);
}

export class MemoryEventLog implements EventLog {
  readonly kind = 'memory' as const;
  private readonly defaultMaxLen: number;
  private readonly now: () => number;
  private readonly streams = new Map<string, Stream>();
  private closed = false;
  private readonly trimmedUnacked: prom.Counter<'stream'>;

  constructor(opts: MemoryEventLogOptions = {}) {
    this.trimmedUnacked = trimmedUnackedCounter(opts.metrics);
    this.defaultMaxLen = opts.defaultMaxLen ?? 100_000;
    checkInt('defaultMaxLen', this.defaultMaxLen, 1);
    this.now = opts.now ?? Date.now;
  }

  async append(stream: string, fields: Record<string, string>, opts: AppendOptions = {}): Promise<string> {
    this.assertOpen();
    const maxLen = opts.maxLen ?? this.defaultMaxLen;
    checkInt('maxLen', maxLen, 0);
    const copy: Record<string, string> = {};
    let n = 0;
    for (const [k, v] of Object.entries(fields)) {
      if (typeof v !== 'string') throw new TypeError(`field ${k} must be a string`);
      copy[k] = v;
      n++;
    }
    if (n === 0) throw new RangeError('ERR wrong number of arguments for XADD: an entry needs at least one field');

    const s = this.stream(stream);
    let ms = Math.floor(this.now());
    let seq = 0;
    if (!(ms > s.lastMs)) {
      // Same millisecond, or the clock stepped back: keep the last ms, bump the sequence.
      ms = s.lastMs;
      seq = s.lastSeq + 1;
    }
    s.lastMs = ms;
    s.lastSeq = seq;
    const id = `${ms}-${seq}`;
    s.entries.push({ id, ms, seq, fields: Object.freeze(copy) });
    this.trimTo(s, maxLen);
    if (s.waiters.size > 0) this.serveWaiters(s);
    return id;
  }

  async ensureGroup(stream: string, group: string, startId: '$' | '0' | string = '$'): Promise<void> {
    this.assertOpen();
    const pos = startId === '$' ? undefined : parseId(startId);
    const s = this.stream(stream);
    if (s.groups.has(group)) return;
    s.groups.set(group, {
      name: group,
      lastMs: pos ? pos.ms : s.lastMs,
      lastSeq: pos ? pos.seq : s.lastSeq,
      consumers: new Map(),
      pending: new Map(),
    });
  }

  async readGroup(stream: string, group: string, consumer: string, opts: ReadGroupOptions = {}): Promise<LogEntry[]> {
    this.assertOpen();
    const count = opts.count ?? DEFAULT_READ_COUNT;
    checkInt('count', count, 1);
    if (opts.blockMs !== undefined) checkInt('blockMs', opts.blockMs, 0);
    const s = this.streams.get(stream);
    const g = s?.groups.get(group);
    if (!s || !g) throw noGroup(stream, group, 'XREADGROUP');
    g.consumers.set(consumer, this.now());

    const got = this.deliver(s, g, consumer, count);
    if (got.length > 0 || opts.blockMs === undefined) return got;

    const blockMs = opts.blockMs;
    const signal = opts.signal;
    if (signal?.aborted) return [];
    return new Promise<LogEntry[]>((resolve) => {
      const waiter: Waiter = { group: g, consumer, count, resolve, timer: undefined, signal };
      const giveUp = () => {
        s.waiters.delete(waiter);
        this.settle(waiter, []);
      };
      if (blockMs > 0) waiter.timer = setTimeout(giveUp, blockMs);
      if (signal) {
        waiter.onAbort = giveUp;
        signal.addEventListener('abort', giveUp, { once: true });
      }
      s.waiters.add(waiter);
    });
  }

  /** Resolves a parked reader once, dropping its timer and its abort listener. */
  private settle(w: Waiter, entries: LogEntry[]): void {
    if (w.timer !== undefined) clearTimeout(w.timer);
    if (w.onAbort) w.signal?.removeEventListener('abort', w.onAbort);
    w.resolve(entries);
  }

  async ack(stream: string, group: string, ids: string[]): Promise<number> {
    this.assertOpen();
    const g = this.streams.get(stream)?.groups.get(group);
    if (!g) return 0;
    let acked = 0;
    for (const id of ids) if (g.pending.delete(id)) acked++;
    return acked;
  }

  async claimStale(stream: string, group: string, consumer: string, minIdleMs: number, count: number = DEFAULT_CLAIM_COUNT): Promise<LogEntry[]> {
    this.assertOpen();
    checkInt('minIdleMs', minIdleMs, 0);
    checkInt('count', count, 1);
    const s = this.streams.get(stream);
    const g = s?.groups.get(group);
    if (!s || !g) throw noGroup(stream, group, 'XAUTOCLAIM');
    g.consumers.set(consumer, this.now());

    const now = this.now();
    const out: LogEntry[] = [];
    for (const [id, p] of g.pending) {
      if (out.length >= count) break;
      if (now - p.deliveredAt < minIdleMs) continue;
      const entry = this.find(s, p.ms, p.seq);
      if (!entry) {
        // Cannot happen (trimming purges pending lists), but never hand out a ghost.
        g.pending.delete(id);
        continue;
      }
      p.consumer = consumer;
      p.deliveredAt = now;
      p.deliveries++;
      out.push({ id, fields: entry.fields, deliveries: p.deliveries });
    }
    return out;
  }

  async trim(stream: string, maxLen: number): Promise<number> {
    this.assertOpen();
    checkInt('maxLen', maxLen, 0);
    const s = this.streams.get(stream);
    return s ? this.trimTo(s, maxLen) : 0;
  }

  async length(stream: string): Promise<number> {
    this.assertOpen();
    const s = this.streams.get(stream);
    return s ? s.entries.length - s.head : 0;
  }

  async groups(stream: string): Promise<GroupInfo[]> {
    this.assertOpen();
    const s = this.streams.get(stream);
    if (!s) return [];
    return [...s.groups.values()].map((g) => ({
      name: g.name,
      consumers: g.consumers.size,
      pending: g.pending.size,
      lastDeliveredId: `${g.lastMs}-${g.lastSeq}`,
      lag: s.entries.length - this.upperBound(s, g.lastMs, g.lastSeq),
    }));
  }

  async consumers(stream: string, group: string): Promise<ConsumerInfo[]> {
    this.assertOpen();
    const g = this.streams.get(stream)?.groups.get(group);
    if (!g) throw noGroup(stream, group, 'XINFO');
    const now = this.now();
    return [...g.consumers].map(([name, seen]) => ({ name, pending: [...g.pending.values()].filter((p) => p.consumer === name).length, idleMs: Math.max(0, now - seen) }));
  }

  async deleteGroup(stream: string, group: string): Promise<boolean> {
    this.assertOpen();
    const s = this.streams.get(stream);
    const g = s?.groups.get(group);
    if (!s || !g) return false;
    s.groups.delete(group);
    for (const w of s.waiters) {
      if (w.group !== g) continue;
      s.waiters.delete(w);
      this.settle(w, []);
    }
    return true;
  }

  async range(stream: string, startId?: string, count?: number): Promise<LogEntry[]> {
    this.assertOpen();
    if (count !== undefined) checkInt('count', count, 0);
    const pos = startId === undefined ? undefined : parseId(startId);
    const s = this.streams.get(stream);
    if (!s) return [];
    const from = pos ? this.upperBound(s, pos.ms, pos.seq) : s.head;
    const to = count === undefined ? s.entries.length : Math.min(s.entries.length, from + count);
    const out: LogEntry[] = [];
    for (let i = from; i < to; i++) out.push({ id: s.entries[i].id, fields: s.entries[i].fields, deliveries: 0 });
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.streams.values()) {
      for (const w of s.waiters) this.settle(w, []);
      s.waiters.clear();
    }
    this.streams.clear();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('event log is closed');
  }

  private stream(name: string): Stream {
    let s = this.streams.get(name);
    if (!s) {
      s = { entries: [], head: 0, lastMs: 0, lastSeq: 0, groups: new Map(), waiters: new Set() };
      this.streams.set(name, s);
    }
    return s;
  }

  /** Index of the first live entry with an id greater than `ms-seq` (entries.length if none). */
  private upperBound(s: Stream, ms: number, seq: number): number {
    let lo = s.head;
    let hi = s.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const e = s.entries[mid];
      if (e.ms < ms || (e.ms === ms && e.seq <= seq)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private find(s: Stream, ms: number, seq: number): StoredEntry | undefined {
    const i = this.upperBound(s, ms, seq) - 1;
    return i >= s.head && s.entries[i].ms === ms && s.entries[i].seq === seq ? s.entries[i] : undefined;
  }

  /** Hands up to `count` never-delivered entries to `consumer`, marking them pending. */
  private deliver(s: Stream, g: Group, consumer: string, count: number): LogEntry[] {
    const from = this.upperBound(s, g.lastMs, g.lastSeq);
    const to = Math.min(s.entries.length, from + count);
    if (from >= to) return [];
    const now = this.now();
    const out: LogEntry[] = [];
    for (let i = from; i < to; i++) {
      const e = s.entries[i];
      g.pending.set(e.id, { ms: e.ms, seq: e.seq, consumer, deliveredAt: now, deliveries: 1 });
      out.push({ id: e.id, fields: e.fields, deliveries: 1 });
    }
    const last = s.entries[to - 1];
    g.lastMs = last.ms;
    g.lastSeq = last.seq;
    return out;
  }

  /** Wakes blocked readers first-come first-served; those that get nothing keep waiting. */
  private serveWaiters(s: Stream): void {
    for (const w of s.waiters) {
      const got = this.deliver(s, w.group, w.consumer, w.count);
      if (got.length === 0) continue;
      s.waiters.delete(w);
      this.settle(w, got);
    }
  }

  /**
   * Before entries[head..newHead) go: each one a group has not acknowledged (pending in it, or
   * past its last-delivered id) is copied to the dead-letter stream and counted (trim-guard.ts).
   */
  private deadLetterUnacked(s: Stream, newHead: number): void {
    if (s.groups.size === 0) return;
    const name = [...this.streams].find(([, v]) => v === s)![0];
    for (let i = s.head; i < newHead; i++) {
      const e = s.entries[i];
      const groups: string[] = [];
      for (const g of s.groups.values()) {
        const undelivered = e.ms > g.lastMs || (e.ms === g.lastMs && e.seq > g.lastSeq);
        if (undelivered || g.pending.has(e.id)) groups.push(g.name);
      }
      if (!groups.length) continue;
      this.trimmedUnacked.inc({ stream: name });
      this.append(TRIM_DEAD_LETTER_STREAM, trimmedDeadLetter(name, e.id, e.fields, groups), { maxLen: DEAD_LETTER_MAX_LEN }).catch(() => {});
    }
  }

  /** Drops the oldest entries beyond `maxLen`, purging them from pending lists; returns how many. */
  private trimTo(s: Stream, maxLen: number): number {
    const removed = s.entries.length - s.head - maxLen;
    if (removed <= 0) return 0;
    const newHead = s.head + removed;
    const lastGone = s.entries[newHead - 1];
    if (s !== this.streams.get(TRIM_DEAD_LETTER_STREAM)) this.deadLetterUnacked(s, newHead);
    for (const g of s.groups.values()) {
      // Pending lists are in id order: everything up to the last trimmed id sits at the front.
      for (const [id, p] of g.pending) {
        if (p.ms > lastGone.ms || (p.ms === lastGone.ms && p.seq > lastGone.seq)) break;
        g.pending.delete(id);
      }
    }
    s.head = newHead;
    if (s.head >= COMPACT_MIN && s.head >= s.entries.length - s.head) {
      s.entries = s.entries.slice(s.head);
      s.head = 0;
    }
    return removed;
  }
}
