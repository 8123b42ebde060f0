/**
 * @module events/event-log
 * The durable event-log transport: an append-only, trimmed log of events per stream, read
 * through consumer groups with at-least-once delivery.
 *
 * Why: a single hub process can fan out from memory, but once several hub nodes share traffic
 * (or a node restarts mid-broadcast) events must outlive the process that produced them and
 * every node must see every event exactly in order. The contract is deliberately shaped after
 * Redis Streams (XADD MAXLEN ~, XGROUP CREATE MKSTREAM, XREADGROUP BLOCK, XACK, XAUTOCLAIM,
 * XTRIM, XLEN, XINFO GROUPS, XRANGE) so that the in-memory implementation used in development
 * and tests (`MemoryEventLog` in `./memory.ts`) and a Redis Streams implementation can be
 * swapped without the hub noticing.
 *
 * Delivery is at-least-once: an entry read through a group stays *pending* until acked, and a
 * pending entry whose reader went quiet is handed to another consumer by {@link EventLog.claimStale}.
 * Consumers must therefore be idempotent (dedupe by entry id when it matters).
 *
 * Errors mirror Redis replies so callers can handle both implementations alike: using a group
 * that does not exist rejects with an `Error` whose message starts with `NOGROUP` (see
 * {@link isNoGroupError}); an invalid id rejects with a message starting with `ERR`.
 */

/** One entry of a stream as returned to a reader. */
export interface LogEntry {
  /**
   * Redis-format id `<ms>-<seq>`: the append time in milliseconds and a sequence number within
   * that millisecond. Ids increase strictly monotonically per stream (even if the clock stalls
   * or steps backwards) and are never reused.
   */
  id: string;
  /** The field/value pairs given to {@link EventLog.append}. Treat as read-only. */
  fields: Record<string, string>;
  /**
   * How many times this entry has been delivered to the group: 1 on the first
   * {@link EventLog.readGroup}, +1 on every {@link EventLog.claimStale}. Entries returned by
   * {@link EventLog.range}, which is not a group read, report 0.
   */
  deliveries: number;
}

export interface AppendOptions {
  /**
   * Keep about this many newest entries after appending, like `XADD MAXLEN ~ n`. Trimming is
   * approximate: an implementation may keep somewhat more than `maxLen` entries (Redis trims
   * whole radix-tree nodes), never fewer than `min(maxLen, length)`. When omitted the
   * implementation's default bound applies (the memory log is always bounded).
   */
  maxLen?: number;
}

export interface ReadGroupOptions {
  /** Maximum entries to return (`COUNT`). Defaults to {@link DEFAULT_READ_COUNT}. */
  count?: number;
  /**
   * When no new entry is available, wait up to this many milliseconds for one (`BLOCK`).
   * Omitted: never wait, resolve `[]` at once. `0`: wait with no time limit (until an append or
   * {@link EventLog.close}), like `BLOCK 0`.
   */
  blockMs?: number;
  /**
   * Ends the wait early, resolving `[]`, when it aborts: how a consumer waiting with no time
   * limit on the in-process log is stopped. Only the in-process log (`kind` 'memory') honours
   * it; a blocked `XREADGROUP` cannot be cut short, so Redis' wait ends at `blockMs`.
   */
  signal?: AbortSignal;
}

/** One consumer group of a stream, as reported by `XINFO GROUPS`. */
export interface GroupInfo {
  name: string;
  /** Consumers the group has seen (a consumer exists once it read or claimed). */
  consumers: number;
  /** Entries delivered to the group and not yet acked (the pending entries list). */
  pending: number;
  /** The id of the newest entry delivered to the group, `0-0` before any. */
  lastDeliveredId: string;
  /**
   * Entries in the stream not yet delivered to the group, or `null` when the implementation
   * cannot tell (Redis reports nil after some trims/deletions). The memory log always knows.
   */
  lag: number | null;
}

/** One consumer of a group, as reported by `XINFO CONSUMERS`. */
export interface ConsumerInfo {
  name: string;
  /** Entries pending for this consumer. */
  pending: number;
  /**
   * Milliseconds since the consumer last read or claimed (Redis' `idle`). A live consumer
   * blocked in {@link EventLog.readGroup} reads again every `blockMs`, so its idle time stays low
   * (on Redis, where idle groups are swept; on the in-process log a node's consumer waits with
   * no time limit while the stream is quiet, see events/event-consumer).
   */
  idleMs: number;
}

/** `COUNT` used by {@link EventLog.readGroup} when none is given. */
export const DEFAULT_READ_COUNT = 100;
/** `COUNT` used by {@link EventLog.claimStale} when none is given (same as XAUTOCLAIM's). */
export const DEFAULT_CLAIM_COUNT = 100;

/**
 * A set of named streams, each an append-only log read through consumer groups.
 *
 * A stream springs into existence on its first {@link append} or {@link ensureGroup}. Reading
 * operations on a stream that does not exist behave as on an empty one ({@link length} 0,
 * {@link range} and {@link groups} `[]`, {@link trim} and {@link ack} 0); {@link readGroup}
 * and {@link claimStale} reject with `NOGROUP` when the group does not exist.
 *
 * After {@link close} every method rejects, except `close` itself, which is idempotent.
 */
export interface EventLog {
  readonly kind: 'memory' | 'redis';

  /**
   * Appends an entry (`XADD stream MAXLEN ~ n * field value ...`) and resolves with its id.
   * `fields` must hold at least one pair (Redis cannot store an empty entry); it is copied, so
   * mutating it afterwards does not change the log. Readers blocked in {@link readGroup} on
   * this stream are woken at once.
   */
  append(stream: string, fields: Record<string, string>, opts?: AppendOptions): Promise<string>;

  /**
   * Creates consumer group `group` on `stream` unless it already exists, creating the stream
   * too when missing (`XGROUP CREATE stream group startId MKSTREAM`, ignoring `BUSYGROUP`).
   * Idempotent: calling it again for an existing group changes nothing, not even its position.
   *
   * `startId` (default `'$'`) positions the group: `'$'` delivers only entries appended after
   * this call; `'0'` delivers the whole stream as currently retained; any other id
   * (`<ms>-<seq>` or `<ms>`) delivers entries with an id greater than it.
   */
  ensureGroup(stream: string, group: string, startId?: '$' | '0' | string): Promise<void>;

  /**
   * Reads entries the group has never delivered to anyone, oldest first
   * (`XREADGROUP GROUP group consumer COUNT n BLOCK ms STREAMS stream >`). Each returned entry
   * is now pending for `consumer` with `deliveries: 1` and stays pending until {@link ack}ed
   * (or is trimmed away); a pending entry is never returned by `readGroup` again, only by
   * {@link claimStale}. Different consumers of one group therefore split the entries between
   * them, while every group sees every entry.
   *
   * When nothing is available and `opts.blockMs` is set, waits for an append and resolves as
   * soon as one brings an entry for this group (several blocked consumers of one group are
   * served first-come first-served; one that gets nothing keeps waiting), or resolves `[]`
   * when `blockMs` passes or the log is closed. Rejects with `NOGROUP` if the group does not
   * exist.
   */
  readGroup(stream: string, group: string, consumer: string, opts?: ReadGroupOptions): Promise<LogEntry[]>;

  /**
   * Acknowledges entries (`XACK`), removing them from the group's pending list. Resolves with
   * the number of ids that were actually pending; unknown or already-acked ids are ignored.
   */
  ack(stream: string, group: string, ids: string[]): Promise<number>;

  /**
   * Takes over pending entries whose last delivery was at least `minIdleMs` ago, oldest id
   * first, up to `count` (default {@link DEFAULT_CLAIM_COUNT}) — like
   * `XAUTOCLAIM stream group consumer minIdleMs 0 COUNT count`. Each claimed entry becomes
   * pending for `consumer` (whoever held it before, including `consumer` itself), its idle time
   * restarts, and its `deliveries` grows by one. Entries that were trimmed away are never
   * returned. Rejects with `NOGROUP` if the group does not exist.
   */
  claimStale(stream: string, group: string, consumer: string, minIdleMs: number, count?: number): Promise<LogEntry[]>;

  /**
   * Trims the stream to about `maxLen` newest entries (`XTRIM stream MAXLEN ~ maxLen`; see
   * {@link AppendOptions.maxLen} for what "about" allows) and resolves with the number of
   * entries removed. Trimmed entries are dropped from groups' pending lists in the memory log;
   * in Redis they linger there until the next XAUTOCLAIM sweeps them, so `pending` may differ
   * briefly, but neither implementation ever returns a trimmed entry.
   */
  trim(stream: string, maxLen: number): Promise<number>;

  /** Number of entries currently retained (`XLEN`); 0 for a missing stream. */
  length(stream: string): Promise<number>;

  /** The stream's consumer groups (`XINFO GROUPS`), in creation order; `[]` for a missing stream. */
  groups(stream: string): Promise<GroupInfo[]>;

  /**
   * The consumers of a group (`XINFO CONSUMERS stream group`), `[]` while none has read yet.
   * Rejects with `NOGROUP` when the group (or the stream) does not exist.
   */
  consumers(stream: string, group: string): Promise<ConsumerInfo[]>;

  /**
   * Deletes a group with its pending list (`XGROUP DESTROY`); resolves true when it existed.
   * The stream's entries and other groups are untouched; a reader of the deleted group gets
   * `NOGROUP` on its next read.
   */
  deleteGroup(stream: string, group: string): Promise<boolean>;

  /**
   * Reads retained entries oldest first without touching any group (`XRANGE`). Without
   * `startId` the range starts at the beginning of the stream (`-`); with it, only entries with
   * an id strictly greater than `startId` are returned (Redis: `XRANGE stream (startId +`), so
   * the last id of one page is the `startId` of the next. `count` limits the result (default:
   * no limit). Entries report `deliveries: 0`.
   */
  range(stream: string, startId?: string, count?: number): Promise<LogEntry[]>;

  /**
   * Releases resources. Readers blocked in {@link readGroup} resolve `[]` at once; every later
   * call (other than `close`) rejects. Idempotent.
   */
  close(): Promise<void>;
}

const ID_RE = /^(\d+)(?:-(\d+))?$/;

/** Compares two non-negative decimal integers given as strings, of any size. */
function compareDecimal(a: string, b: string): number {
  let i = 0;
  while (i < a.length - 1 && a[i] === '0') i++;
  let j = 0;
  while (j < b.length - 1 && b[j] === '0') j++;
  const la = a.length - i;
  const lb = b.length - j;
  if (la !== lb) return la < lb ? -1 : 1;
  for (; i < a.length; i++, j++) {
    if (a[i] !== b[j]) return a[i] < b[j] ? -1 : 1;
  }
  return 0;
}

/**
 * Orders two stream ids `<ms>-<seq>` numerically (a missing `-<seq>` counts as `-0`): negative
 * when `a` is older, positive when newer, 0 when equal. Exact for full 64-bit ids, unlike
 * comparing strings (`'9-0' < '10-0'`) or converting to `number`. Throws on a malformed id.
 */
export function compareIds(a: string, b: string): number {
  const ma = ID_RE.exec(a);
  const mb = ID_RE.exec(b);
  if (!ma) throw new TypeError(`ERR Invalid stream ID specified as stream command argument: ${a}`);
  if (!mb) throw new TypeError(`ERR Invalid stream ID specified as stream command argument: ${b}`);
  return compareDecimal(ma[1], mb[1]) || compareDecimal(ma[2] ?? '0', mb[2] ?? '0');
}

/** True for the "group does not exist" rejection of either implementation (`NOGROUP ...`). */
export function isNoGroupError(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith('NOGROUP');
}
