/**
 * @module hub/engines/redis/redis-engine
 * The hub engine for a cluster (modelled on Centrifugo's Redis engine): offsets, epochs and
 * history live in Redis, and publications travel between nodes through Redis pub/sub.
 *
 * Why one Lua script per publish: the offset increment, the idempotency check, the history
 * append and the PUBLISH must happen atomically, otherwise two nodes publishing to one channel
 * could PUBLISH in a different order than their offsets. Inside one script Redis runs nothing
 * else, so the PUBLISH order is the offset order on every subscriber connection.
 *
 * Keys (hash-tagged by channel so a Redis Cluster keeps one channel on one shard):
 *   aw:{<channel>}:m        hash {t: top offset, e: epoch}, TTL metaTtlMs (refreshed on publish)
 *   aw:{<channel>}:h        list of wire messages, newest first, trimmed to historySize, TTL historyTtl
 *   aw:{<channel>}:i:<key>  ack of an idempotent publish ("<offset> <epoch>"), TTL dedupeTtlMs
 *   aw:p:<channel>          the pub/sub channel
 *
 * Wire message (pub/sub and history alike): `<offset>|<epoch>|<ts>|<j|b>|<keyBytes>|<key><payload>`
 * — a text header that Lua can build by concatenation and a payload that stays raw bytes, so
 * binary namespaces cost no base64 and JSON is never parsed on the way through.
 *
 * Each node keeps, per listened channel, the last offset it delivered. A pub/sub message that
 * skips offsets (the subscriber connection dropped and came back, or Redis was restarted) makes
 * the node read the gap from history before going on, so local subscribers still get every
 * message once and in order.
 */
import { Redis } from 'ioredis';
import { redisCommandDuration, redisCommandOptions, redisSubscriberOptions } from '../../../core/redis-options.js';
import { AirwavesError, Errors, isAirwavesError } from '../../../core/errors.js';
import type { Logger } from '../../../core/logger.js';
import { prom, type Registry } from '../../../core/metrics.js';
import type { ChannelRetention, HistorySlice, HubEngine, HubMessage, MessageSink, PublishAck, PublishPayload } from '../engine.js';
import { newEpoch } from '../engine.js';

export interface RedisEngineOptions {
  url: string;
  nodeId: string;
  logger: Logger;
  metrics?: Registry;
  /** How long a channel's offset and epoch outlive its last publish. Default 24 h. */
  metaTtlMs?: number;
  /** How long an idempotency key is remembered. Default 10 min. */
  dedupeTtlMs?: number;
}

const PUB_PREFIX = 'aw:p:';
/** Most messages read to fill one gap; a larger gap is beyond any namespace's history anyway. */
const MAX_GAP_FILL = 10_000;
const BAR = 0x7c;

const PUBLISH_LUA = `
local meta, hist, idem = KEYS[1], KEYS[2], KEYS[3]
local idemTtl = tonumber(ARGV[10])
if idemTtl > 0 then
  local prev = redis.call('GET', idem)
  if prev then return prev end
end
local top = redis.call('HINCRBY', meta, 't', 1)
local epoch = redis.call('HGET', meta, 'e')
if not epoch then
  epoch = ARGV[8]
  redis.call('HSET', meta, 'e', epoch)
  if top == 1 then redis.call('DEL', hist) end
end
redis.call('PEXPIRE', meta, ARGV[7])
local key = ARGV[3]
local msg = top .. '|' .. epoch .. '|' .. ARGV[9] .. '|' .. ARGV[2] .. '|' .. #key .. '|' .. key .. ARGV[4]
local size = tonumber(ARGV[5])
if size > 0 then
  redis.call('LPUSH', hist, msg)
  redis.call('LTRIM', hist, 0, size - 1)
  local ttl = tonumber(ARGV[6])
  if ttl > 0 then redis.call('PEXPIRE', hist, ttl) end
end
if ARGV[11] ~= '1' then redis.call('PUBLISH', ARGV[1], msg) end
local ack = top .. ' ' .. epoch .. ' ' .. ARGV[9]
if idemTtl > 0 then redis.call('SET', idem, ack, 'PX', idemTtl) end
return ack
`;

/** Reads top, epoch (creating it like a publish would) and the newest `n` messages after `after`. */
const HISTORY_LUA = `
local meta, hist = KEYS[1], KEYS[2]
local after, limit = tonumber(ARGV[1]), tonumber(ARGV[2])
local top = tonumber(redis.call('HGET', meta, 't') or '0')
local epoch = redis.call('HGET', meta, 'e')
if not epoch then
  epoch = ARGV[3]
  redis.call('HSET', meta, 'e', epoch)
  redis.call('PEXPIRE', meta, ARGV[4])
  if top == 0 then redis.call('DEL', hist) end
end
local n = top - after
if n > limit then n = limit end
local items = {}
if n > 0 then items = redis.call('LRANGE', hist, 0, n - 1) end
return {top, epoch, items}
`;

interface ScriptedRedis extends Redis {
  awPublish(meta: string, hist: string, idem: string, ...argv: (string | Buffer | number)[]): Promise<string>;
  awHistoryBuffer(meta: string, hist: string, after: number, limit: number, epoch: string, metaTtl: number): Promise<[number, Buffer, Buffer[]]>;
}

interface ListenState {
  /** Last offset handed to the sink; -1 before the first message. */
  last: number;
  epoch: string;
  filling: boolean;
  buffer: HubMessage[];
  subscribed: Promise<unknown>;
}

const metaKey = (channel: string) => `aw:{${channel}}:m`;
const histKey = (channel: string) => `aw:{${channel}}:h`;
const idemKey = (channel: string, key: string) => `aw:{${channel}}:i:${key}`;

/** Encodes a wire message exactly as the publish script does (used by tests and tools). */
export function encodeWire(offset: number, epoch: string, ts: number, payload: PublishPayload): Buffer {
  const key = payload.key ?? '';
  const head = Buffer.from(`${offset}|${epoch}|${ts}|${payload.binary ? 'b' : 'j'}|${Buffer.byteLength(key)}|${key}`);
  const body = payload.binary ? Buffer.from(payload.binary) : Buffer.from(payload.json ?? 'null');
  return Buffer.concat([head, body]);
}

/**
 * Wall-clock estimate of a publish moment (`ts`, ms since epoch, maybe another node's) on this
 * node's monotonic clock, so the hub's delivery-latency histogram covers cross-node hops too.
 */
const publishedAtOf = (ts: number) => performance.now() - (Date.now() - ts);

/** Decodes a wire message; the payload of a binary message is a view into `buf` (no copy). */
export function decodeWire(channel: string, buf: Buffer): HubMessage {
  const fields: string[] = [];
  let pos = 0;
  for (let i = 0; i < 5; i++) {
    const bar = buf.indexOf(BAR, pos);
    if (bar < 0) throw new Error(`malformed wire message on ${channel}`);
    fields.push(buf.toString('latin1', pos, bar));
    pos = bar + 1;
  }
  const keyBytes = Number(fields[4]);
  const key = keyBytes > 0 ? buf.toString('utf8', pos, pos + keyBytes) : undefined;
  pos += keyBytes;
  const ts = Number(fields[2]);
  const message: HubMessage = {
    channel,
    offset: Number(fields[0]),
    epoch: fields[1],
    ts,
    key,
    // Wall-clock estimate of the publish moment on this node's monotonic clock, so the hub's
    // delivery-latency histogram covers cross-node hops too (millisecond resolution).
    publishedAt: publishedAtOf(ts),
  };
  if (fields[3] === 'b') message.binary = buf.subarray(pos);
  else message.json = buf.toString('utf8', pos);
  return message;
}

function unavailable(err: unknown): AirwavesError {
  if (isAirwavesError(err)) return err;
  return new AirwavesError(Errors.engineUnavailable, `Redis engine unavailable: ${(err as Error).message}`);
}

export class RedisEngine implements HubEngine {
  readonly name = 'redis' as const;
  private readonly cmd: ScriptedRedis;
  private readonly sub: Redis;
  private readonly log: Logger;
  private readonly metaTtlMs: number;
  private readonly dedupeTtlMs: number;
  private sink: MessageSink = () => {};
  private readonly listening = new Map<string, ListenState>();
  private readonly retention = new Map<string, ChannelRetention>();
  private readonly latency?: prom.Histogram<'op'>;
  private readonly gapFills?: prom.Counter;
  private sweepTimer?: NodeJS.Timeout;
  private wasDown = false;
  private closed = false;

  constructor(private readonly options: RedisEngineOptions) {
    this.log = options.logger.child({ module: 'redis-engine', node: options.nodeId });
    this.metaTtlMs = options.metaTtlMs ?? 24 * 3600_000;
    this.dedupeTtlMs = options.dedupeTtlMs ?? 10 * 60_000;
    const name = `airwaves-${options.nodeId}`;
    // Publishes fail fast while Redis is away; in-flight ones fail on disconnect rather than being
    // resent blindly (a resent publish could be applied twice).
    this.cmd = new Redis(options.url, redisCommandOptions(name)) as ScriptedRedis;
    this.sub = new Redis(options.url, redisSubscriberOptions(name));
    this.cmd.defineCommand('awPublish', { numberOfKeys: 3, lua: PUBLISH_LUA });
    this.cmd.defineCommand('awHistory', { numberOfKeys: 2, lua: HISTORY_LUA });
    for (const [role, conn] of [['command', this.cmd], ['subscriber', this.sub]] as const) {
      conn.on('error', (err: Error) => this.log.debug({ err: err.message, role }, 'redis connection error'));
      conn.on('close', () => {
        if (!this.closed && !this.wasDown) {
          this.wasDown = true;
          this.log.warn({ role }, 'redis connection lost; reconnecting');
        }
      });
    }
    this.sub.on('ready', () => {
      if (this.wasDown) this.log.info('redis connection restored');
      this.wasDown = false;
      void this.sweepAfterResubscribe();
    });
    if (options.metrics) {
      this.latency = redisCommandDuration(options.metrics);
      this.gapFills = new prom.Counter({ name: 'redis_engine_gap_fills_total', help: 'Offset gaps on pub/sub filled from Redis history', registers: [options.metrics] });
    }
  }

  async start(sink: MessageSink): Promise<void> {
    this.sink = sink;
    this.sub.on('messageBuffer', (channel: Buffer, message: Buffer) => this.onPubSub(channel, message));
    // A node may start while Redis is away: it comes up not-ready and connects when Redis does.
    await Promise.all([this.cmd.connect(), this.sub.connect()]).catch((err: Error) =>
      this.log.warn({ err: err.message }, 'redis not reachable at start; retrying in the background'),
    );
  }

  publish(channel: string, payload: PublishPayload, retention: ChannelRetention): Promise<PublishAck> {
    this.retention.set(channel, retention);
    const started = performance.now();
    const idem = payload.idempotencyKey;
    // Not carried over pub/sub: every node publishes it, and delivers it from its own reply.
    const eachNode = payload.eachNodePublishes === true && idem !== undefined;
    const data = payload.binary ? Buffer.from(payload.binary.buffer, payload.binary.byteOffset, payload.binary.byteLength) : (payload.json ?? 'null');
    return this.cmd
      .awPublish(
        metaKey(channel),
        histKey(channel),
        idem === undefined ? metaKey(channel) : idemKey(channel, idem),
        PUB_PREFIX + channel,
        payload.binary ? 'b' : 'j',
        payload.key ?? '',
        data,
        retention.historySize,
        retention.historyTtlMs,
        Math.max(this.metaTtlMs, retention.historyTtlMs),
        newEpoch(),
        Date.now(),
        idem === undefined ? 0 : this.dedupeTtlMs,
        eachNode ? '1' : '0',
      )
      .then(
        (reply) => {
          this.latency?.observe({ op: 'publish' }, (performance.now() - started) / 1000);
          // "offset epoch ts"; ts is the first publisher's (a repeat gets the stored reply).
          const [offset, epoch, ts] = reply.split(' ');
          const ack = { offset: Number(offset), epoch };
          if (eachNode) this.deliverOwnPublish(channel, payload, ack, ts === undefined ? Date.now() : Number(ts));
          return ack;
        },
        (err: unknown) => {
          throw unavailable(err);
        },
      );
  }

  async history(channel: string, afterOffset: number, limit: number, retention: ChannelRetention): Promise<HistorySlice> {
    this.retention.set(channel, retention);
    // A subscribe joins the channel before reading history; wait until Redis confirmed the
    // SUBSCRIBE so nothing published between the read and the subscription can slip through.
    const state = this.listening.get(channel);
    if (state) await state.subscribed;
    const started = performance.now();
    let reply: [number, Buffer, Buffer[]];
    try {
      reply = await this.cmd.awHistoryBuffer(metaKey(channel), histKey(channel), afterOffset, retention.historySize > 0 ? limit : 0, newEpoch(), Math.max(this.metaTtlMs, retention.historyTtlMs));
    } catch (err) {
      throw unavailable(err);
    }
    this.latency?.observe({ op: 'history' }, (performance.now() - started) / 1000);
    const [top, epochBuf, items] = reply;
    const oldestAllowed = retention.historyTtlMs > 0 ? Date.now() - retention.historyTtlMs : -Infinity;
    const messages: HubMessage[] = [];
    for (let i = items.length - 1; i >= 0; i--) {
      const m = decodeWire(channel, items[i]);
      if (m.offset > afterOffset && m.ts >= oldestAllowed) messages.push(m);
    }
    const first = messages[0];
    const complete = afterOffset >= top || (first !== undefined && first.offset === afterOffset + 1);
    return { epoch: epochBuf.toString(), top, messages, complete };
  }

  listen(channel: string, on: boolean): Promise<void> {
    const pubChannel = PUB_PREFIX + channel;
    if (on) {
      if (this.listening.has(channel)) return Promise.resolve();
      const subscribed = this.sub.subscribe(pubChannel).catch((err: Error) => this.log.warn({ err: err.message, channel }, 'subscribe failed'));
      this.listening.set(channel, { last: -1, epoch: '', filling: false, buffer: [], subscribed });
      return subscribed.then(() => undefined);
    }
    if (!this.listening.delete(channel)) return Promise.resolve();
    this.retention.delete(channel);
    return this.sub.unsubscribe(pubChannel).then(
      () => undefined,
      (err: Error) => this.log.warn({ err: err.message, channel }, 'unsubscribe failed'),
    );
  }

  async ready(): Promise<boolean> {
    if (this.cmd.status !== 'ready' || this.sub.status !== 'ready') return false;
    try {
      return (await this.cmd.ping()) === 'PONG';
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.sweepTimer) clearTimeout(this.sweepTimer);
    this.listening.clear();
    await Promise.all([this.cmd.quit().catch(() => this.cmd.disconnect()), this.sub.quit().catch(() => this.sub.disconnect())]);
  }

  // ---------------------------------------------------------------- delivery

  /**
   * Delivers a message this node published with eachNodePublishes to its own listeners, through
   * the same ordering as pub/sub (a message published the usual way on the same channel in
   * between shows up as a gap, filled from history).
   */
  private deliverOwnPublish(channel: string, payload: PublishPayload, ack: PublishAck, ts: number): void {
    const state = this.listening.get(channel);
    if (!state) return;
    const message: HubMessage = {
      channel,
      offset: ack.offset,
      epoch: ack.epoch,
      ts,
      key: payload.key || undefined,
      publishedAt: publishedAtOf(ts),
    };
    if (payload.binary) message.binary = payload.binary;
    else message.json = payload.json ?? 'null';
    this.accept(channel, state, message);
  }

  private onPubSub(pubChannel: Buffer, buf: Buffer): void {
    const channel = pubChannel.toString('utf8', PUB_PREFIX.length);
    const state = this.listening.get(channel);
    if (!state) return;
    let message: HubMessage;
    try {
      message = decodeWire(channel, buf);
    } catch (err) {
      this.log.error({ err: (err as Error).message, channel }, 'dropping malformed pub/sub message');
      return;
    }
    this.accept(channel, state, message);
  }

  private accept(channel: string, state: ListenState, m: HubMessage): void {
    if (state.filling) {
      state.buffer.push(m);
      return;
    }
    if (state.last >= 0 && m.epoch === state.epoch) {
      if (m.offset <= state.last) return;
      if (m.offset > state.last + 1) {
        state.buffer.push(m);
        void this.fill(channel, state);
        return;
      }
    }
    state.last = m.offset;
    state.epoch = m.epoch;
    this.sink(m);
  }

  /** Reads what this node missed after `state.last` from history, then drains the buffer. */
  private async fill(channel: string, state: ListenState): Promise<boolean> {
    state.filling = true;
    let ok = true;
    this.gapFills?.inc();
    try {
      const retention = this.retention.get(channel) ?? { historySize: MAX_GAP_FILL, historyTtlMs: 0 };
      const slice = await this.history(channel, state.last, MAX_GAP_FILL, { historySize: Math.max(1, retention.historySize), historyTtlMs: 0 });
      if (this.listening.get(channel) !== state) return true;
      if (slice.epoch !== state.epoch && state.last >= 0) {
        // Redis lost the channel (new epoch): start over from what it has now (offsets start at 1).
        state.epoch = slice.epoch;
        state.last = 0;
      }
      for (const m of slice.messages) {
        if (m.offset > state.last) {
          state.last = m.offset;
          state.epoch = slice.epoch;
          this.sink(m);
        }
      }
    } catch (err) {
      ok = false;
      this.log.warn({ err: (err as Error).message, channel }, 'gap fill failed; delivering what arrived');
    } finally {
      state.filling = false;
      const buffered = state.buffer;
      state.buffer = [];
      // The channel was unlistened (and maybe listened again) meanwhile: this state is stale, and
      // whatever it buffered belongs to the new state, which receives it on its own.
      const stale = this.listening.get(channel) !== state;
      // What is still missing after a fill is gone from history: deliver the rest in order.
      for (const m of stale ? [] : buffered) {
        if (m.epoch !== state.epoch || m.offset > state.last) {
          state.last = m.offset;
          state.epoch = m.epoch;
          this.sink(m);
        }
      }
    }
    return ok;
  }

  /**
   * After a reconnect, messages published while this node's subscription was down arrived only
   * in history. A PING on the subscriber connection returns after ioredis' re-SUBSCRIBE, so a
   * fill started then misses nothing.
   */
  private async sweepAfterResubscribe(): Promise<void> {
    if (this.closed || this.listening.size === 0) return;
    try {
      await this.sub.ping();
      for (const [channel, state] of this.listening) {
        if (state.last >= 0 && !state.filling && !(await this.fill(channel, state))) throw new Error(`gap fill of ${channel} failed`);
      }
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, 'post-reconnect sweep failed; retrying');
      this.sweepTimer = setTimeout(() => void this.sweepAfterResubscribe(), 250);
      this.sweepTimer.unref();
    }
  }
}
