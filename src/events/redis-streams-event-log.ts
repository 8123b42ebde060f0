/**
 * @module events/redis-streams-event-log
 * The {@link EventLog} on Redis Streams: the durable log a cluster runs on. Each method is the
 * Redis command the interface was modelled on (see ./event-log.ts), so the semantics follow
 * Redis itself; where Redis reports less than the interface promises, it is made up here
 * (XAUTOCLAIM does not return delivery counts, so they are read with XPENDING in the same
 * round trip).
 *
 * Blocking reads (XREADGROUP … BLOCK) hold a connection for their whole wait, so they run on
 * their own connections from a small pool; everything else shares one connection (not
 * auto-pipelined: see docs/cluster.md). Commands fail fast while Redis is away (no offline queue): callers decide whether
 * to retry or fall back.
 */
import { Redis, type RedisOptions } from 'ioredis';
import { redisCommandDuration, redisCommandOptions, redisTarget, type SentinelConfig } from '../core/redis-options.js';
import { closeRedisConnections, redisAbandonedCommands } from '../core/redis-close.js';
import type { Logger } from '../core/logger.js';
import type { prom, Registry } from '../core/metrics.js';
import { DEAD_LETTER_MAX_LEN, TRIM_DEAD_LETTER_STREAM, compareIds, nextId, trimmedDeadLetter, trimmedUnackedCounter } from './trim-guard.js';
import { DEFAULT_CLAIM_COUNT, DEFAULT_READ_COUNT, type AppendOptions, type ConsumerInfo, type EventLog, type GroupInfo, type LogEntry, type ReadGroupOptions } from './event-log.js';

export interface RedisStreamsEventLogOptions {
  url: string;
  /** Redis Sentinels: `url`'s host names the master group (docs/cluster.md, "Redis Sentinel"). */
  sentinels?: SentinelConfig;
  logger?: Logger;
  metrics?: Registry;
  /** MAXLEN ~ applied when an append gives none. Default 100_000 (the memory log's bound). */
  defaultMaxLen?: number;
  /** Name shown in CLIENT LIST. */
  connectionName?: string;
}

type RawEntry = [string, string[] | null];

function checkInt(name: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) throw new RangeError(`${name} must be an integer >= ${min}, got ${value}`);
}

function toFields(flat: string[]): Record<string, string> {
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]] = flat[i + 1];
  return fields;
}

export class RedisStreamsEventLog implements EventLog {
  readonly kind = 'redis' as const;
  private readonly redis: Redis;
  private readonly options: RedisOptions;
  private readonly defaultMaxLen: number;
  private readonly idleBlockers: Redis[] = [];
  private readonly busyBlockers = new Set<Redis>();
  private readonly latency?: prom.Histogram<'op'>;
  private connecting?: Promise<void>;
  private closed = false;
  private readonly trimmedUnacked: prom.Counter<'stream'>;
  /** Appends since the last guarded trim, per stream, and the trims in flight. */
  private readonly sinceTrim = new Map<string, number>();
  private readonly trimming = new Map<string, Promise<number>>();

  constructor(private readonly opts: RedisStreamsEventLogOptions) {
    this.defaultMaxLen = opts.defaultMaxLen ?? 100_000;
    checkInt('defaultMaxLen', this.defaultMaxLen, 1);
    this.trimmedUnacked = trimmedUnackedCounter(opts.metrics);
    this.options = redisTarget(opts.url, redisCommandOptions(opts.connectionName ?? 'airwaves-events'), opts.sentinels);
    this.redis = this.newConnection();
    if (opts.metrics) this.latency = redisCommandDuration(opts.metrics);
  }

  private newConnection(): Redis {
    const conn = new Redis(this.opts.url, this.options);
    conn.on('error', (err: Error) => this.opts.logger?.debug({ err: err.message }, 'event log redis error'));
    return conn;
  }

  /** Connects the shared connection (once); later reconnects are ioredis' business. */
  private async ready(): Promise<Redis> {
    if (this.closed) throw new Error('event log is closed');
    if (this.redis.status === 'wait') this.connecting ??= this.redis.connect().finally(() => (this.connecting = undefined));
    if (this.connecting) await this.connecting;
    return this.redis;
  }

  private timed<T>(op: string, run: Promise<T>): Promise<T> {
    if (!this.latency) return run;
    const started = performance.now();
    return run.then((v) => {
      this.latency!.observe({ op }, (performance.now() - started) / 1000);
      return v;
    });
  }

  async append(stream: string, fields: Record<string, string>, opts: AppendOptions = {}): Promise<string> {
    const maxLen = opts.maxLen ?? this.defaultMaxLen;
    checkInt('maxLen', maxLen, 0);
    const args: string[] = [];
    for (const [k, v] of Object.entries(fields)) {
      if (typeof v !== 'string') throw new TypeError(`field ${k} must be a string`);
      args.push(k, v);
    }
    if (args.length === 0) throw new RangeError('ERR wrong number of arguments for XADD: an entry needs at least one field');
    const redis = await this.ready();
    if (stream === TRIM_DEAD_LETTER_STREAM) return (await this.timed('xadd', redis.xadd(stream, 'MAXLEN', '~', maxLen, '*', ...args))) as string;
    // No MAXLEN on the append: it would drop unacknowledged entries unseen. The guarded trim runs
    // every few appends instead (a tenth of maxLen, at most 100), so a stream overshoots its
    // bound by that much at most.
    const id = (await this.timed('xadd', redis.xadd(stream, '*', ...args))) as string;
    const since = (this.sinceTrim.get(stream) ?? 0) + 1;
    if (since >= Math.min(100, Math.max(1, Math.floor(maxLen / 10))) && !this.trimming.has(stream)) {
      this.sinceTrim.set(stream, 0);
      const run = this.trim(stream, maxLen)
        .catch((err: Error) => {
          this.opts.logger?.warn({ err: err.message, stream }, 'event stream trim failed; retried on a later append');
          return 0;
        })
        .finally(() => this.trimming.delete(stream));
      this.trimming.set(stream, run);
    } else this.sinceTrim.set(stream, since);
    return id;
  }

  async ensureGroup(stream: string, group: string, startId: '$' | '0' | string = '$'): Promise<void> {
    const redis = await this.ready();
    try {
      await redis.xgroup('CREATE', stream, group, startId, 'MKSTREAM');
    } catch (err) {
      if (!(err as Error).message.startsWith('BUSYGROUP')) throw err;
    }
  }

  async readGroup(stream: string, group: string, consumer: string, opts: ReadGroupOptions = {}): Promise<LogEntry[]> {
    const count = opts.count ?? DEFAULT_READ_COUNT;
    checkInt('count', count, 1);
    if (opts.blockMs !== undefined) checkInt('blockMs', opts.blockMs, 0);
    const args: (string | number)[] = ['GROUP', group, consumer, 'COUNT', count];
    if (opts.blockMs === undefined) {
      const redis = await this.ready();
      return this.parseRead(await redis.call('XREADGROUP', ...args, 'STREAMS', stream, '>'));
    }
    const conn = await this.takeBlocker();
    try {
      return this.parseRead(await conn.call('XREADGROUP', ...args, 'BLOCK', opts.blockMs, 'STREAMS', stream, '>'));
    } catch (err) {
      if (this.closed) return [];
      throw err;
    } finally {
      this.releaseBlocker(conn);
    }
  }

  private parseRead(reply: unknown): LogEntry[] {
    if (!reply) return [];
    const [[, entries]] = reply as [string, RawEntry[]][];
    return entries.filter((e) => e[1] !== null).map(([id, flat]) => ({ id, fields: toFields(flat!), deliveries: 1 }));
  }

  private async takeBlocker(): Promise<Redis> {
    if (this.closed) throw new Error('event log is closed');
    let conn = this.idleBlockers.pop();
    if (!conn) {
      conn = this.newConnection();
      this.busyBlockers.add(conn);
      try {
        await conn.connect();
      } catch (err) {
        this.busyBlockers.delete(conn);
        conn.disconnect();
        throw err;
      }
      return conn;
    }
    this.busyBlockers.add(conn);
    return conn;
  }

  private releaseBlocker(conn: Redis): void {
    this.busyBlockers.delete(conn);
    if (this.closed || conn.status !== 'ready' || this.idleBlockers.length >= 8) conn.disconnect();
    else this.idleBlockers.push(conn);
  }

  async ack(stream: string, group: string, ids: string[]): Promise<number> {
    if (ids.length === 0) return 0;
    const redis = await this.ready();
    return this.timed('xack', redis.xack(stream, group, ...ids));
  }

  async claimStale(stream: string, group: string, consumer: string, minIdleMs: number, count: number = DEFAULT_CLAIM_COUNT): Promise<LogEntry[]> {
    checkInt('minIdleMs', minIdleMs, 0);
    checkInt('count', count, 1);
    const redis = await this.ready();
    const out: LogEntry[] = [];
    let cursor = '0-0';
    // XAUTOCLAIM scans the pending list in pages; follow the cursor until `count` or the end.
    do {
      const [next, entries] = (await redis.call('XAUTOCLAIM', stream, group, consumer, minIdleMs, cursor, 'COUNT', count - out.length)) as [string, RawEntry[], string[]?];
      for (const [id, flat] of entries) if (flat !== null) out.push({ id, fields: toFields(flat), deliveries: 0 });
      cursor = next;
    } while (cursor !== '0-0' && out.length < count);
    if (out.length === 0) return out;
    // Delivery counts of what was just claimed (claiming incremented them).
    const pending = (await redis.call('XPENDING', stream, group, out[0].id, out[out.length - 1].id, out.length + 1000, consumer)) as [string, string, number, number][];
    const counts = new Map(pending.map(([id, , , n]) => [id, n]));
    for (const e of out) e.deliveries = counts.get(e.id) ?? 1;
    return out;
  }

  /**
   * Trims to about `maxLen` entries without losing one unseen: the entries to drop are read
   * first, each one a group has not acknowledged (pending in it, or past its last-delivered id)
   * is copied to the dead-letter stream and counted, then the stream is trimmed exactly up to
   * them (XTRIM MINID) and the copied entries are acknowledged so no pending list keeps a ghost.
   */
  async trim(stream: string, maxLen: number): Promise<number> {
    checkInt('maxLen', maxLen, 0);
    const redis = await this.ready();
    if (stream === TRIM_DEAD_LETTER_STREAM) return redis.xtrim(stream, 'MAXLEN', '~', maxLen);
    const excess = (await redis.xlen(stream)) - maxLen;
    if (excess <= 0) return 0;
    const doomed = (await redis.call('XRANGE', stream, '-', '+', 'COUNT', Math.min(excess, 10_000))) as RawEntry[];
    if (!doomed.length) return 0;
    const last = doomed[doomed.length - 1][0];
    const groups = await this.groups(stream);
    const unacked = new Map<string, string[]>();
    const pendingByGroup = new Map<string, string[]>();
    for (const g of groups) {
      const pending = (await redis.call('XPENDING', stream, g.name, '-', last, doomed.length)) as [string, string, number, number][];
      const pendingIds = new Set(pending.map(([id]) => id));
      pendingByGroup.set(g.name, [...pendingIds]);
      for (const [id] of doomed) {
        if (pendingIds.has(id) || compareIds(id, g.lastDeliveredId) > 0) unacked.set(id, [...(unacked.get(id) ?? []), g.name]);
      }
    }
    for (const [id, flat] of doomed) {
      const by = unacked.get(id);
      if (!by) continue;
      await redis.xadd(TRIM_DEAD_LETTER_STREAM, 'MAXLEN', '~', DEAD_LETTER_MAX_LEN, '*', ...Object.entries(trimmedDeadLetter(stream, id, toFields(flat ?? []), by)).flat());
      this.trimmedUnacked.inc({ stream });
    }
    const removed = Number(await redis.call('XTRIM', stream, 'MINID', nextId(last)));
    for (const [group, ids] of pendingByGroup) if (ids.length) await redis.xack(stream, group, ...ids);
    return removed;
  }

  async length(stream: string): Promise<number> {
    const redis = await this.ready();
    return redis.xlen(stream);
  }

  async groups(stream: string): Promise<GroupInfo[]> {
    const redis = await this.ready();
    let reply: unknown[][];
    try {
      reply = (await redis.xinfo('GROUPS', stream)) as unknown[][];
    } catch (err) {
      if ((err as Error).message.includes('no such key')) return [];
      throw err;
    }
    return reply.map((flat) => {
      const f = new Map<string, unknown>();
      for (let i = 0; i + 1 < flat.length; i += 2) f.set(String(flat[i]), flat[i + 1]);
      const lag = f.get('lag');
      return {
        name: String(f.get('name')),
        consumers: Number(f.get('consumers')),
        pending: Number(f.get('pending')),
        lastDeliveredId: String(f.get('last-delivered-id')),
        lag: lag === null || lag === undefined ? null : Number(lag),
      };
    });
  }

  async consumers(stream: string, group: string): Promise<ConsumerInfo[]> {
    const redis = await this.ready();
    let reply: unknown[][];
    try {
      reply = (await redis.xinfo('CONSUMERS', stream, group)) as unknown[][];
    } catch (err) {
      // A missing stream is "ERR no such key"; the interface promises NOGROUP for both.
      if ((err as Error).message.includes('no such key')) throw new Error(`NOGROUP No such key '${stream}' or consumer group '${group}'`);
      throw err;
    }
    return reply.map((flat) => {
      const f = new Map<string, unknown>();
      for (let i = 0; i + 1 < flat.length; i += 2) f.set(String(flat[i]), flat[i + 1]);
      return { name: String(f.get('name')), pending: Number(f.get('pending')), idleMs: Number(f.get('idle')) };
    });
  }

  async deleteGroup(stream: string, group: string): Promise<boolean> {
    const redis = await this.ready();
    try {
      return Number(await redis.xgroup('DESTROY', stream, group)) === 1;
    } catch (err) {
      if ((err as Error).message.includes('requires the key to exist')) return false;
      throw err;
    }
  }

  async range(stream: string, startId?: string, count?: number): Promise<LogEntry[]> {
    if (count !== undefined) checkInt('count', count, 0);
    if (count === 0) return [];
    const redis = await this.ready();
    const args: (string | number)[] = [startId === undefined ? '-' : `(${startId}`, '+'];
    if (count !== undefined) args.push('COUNT', count);
    const entries = (await redis.call('XRANGE', stream, ...args)) as RawEntry[];
    return entries.map(([id, flat]) => ({ id, fields: toFields(flat ?? []), deliveries: 0 }));
  }

  /** Round trip to Redis; false while it is unreachable. */
  async ping(): Promise<boolean> {
    try {
      const redis = await this.ready();
      return (await redis.ping()) === 'PONG';
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const conn of [...this.busyBlockers, ...this.idleBlockers]) conn.disconnect();
    this.busyBlockers.clear();
    this.idleBlockers.length = 0;
    await closeRedisConnections({ events: this.redis }, this.opts.logger, this.opts.metrics ? redisAbandonedCommands(this.opts.metrics) : undefined);
  }
}
