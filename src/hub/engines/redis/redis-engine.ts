/**
 * @module hub/engines/redis/redis-engine
 * The hub engine for a cluster (modelled on Centrifugo's Redis engine): offsets, epochs and
 * history live in Redis, and publications travel between nodes through Redis pub/sub.
 *
 * Why one Lua script per publish (./lua/publish.lua): the offset increment, the idempotency
 * check, the history append and the PUBLISH must happen atomically, otherwise two nodes
 * publishing to one channel could PUBLISH in a different order than their offsets.
 *
 * Keys (hash-tagged by channel so a Redis Cluster keeps one channel on one shard):
 *   aw:{<channel>}:m        hash {t: top offset, e: epoch}, TTL metaTtlMs (refreshed on publish,
 *                           on every history read, and periodically while any node listens)
 *   aw:{<channel>}:h        list of wire messages (./wire.ts), newest first, trimmed to historySize
 *   aw:{<channel>}:i:<key>  ack of an idempotent publish ("<offset> <epoch> <ts>"), TTL dedupeTtlMs
 *   aw:p:<channel>          the pub/sub channel (publications, and presence notices: ./wire.ts)
 *
 * Per listened channel one ChannelSync (./channel-sync.ts) puts pub/sub, own replies, gap fills
 * and the subscribe's read in one order; the hub sees each channel's messages once, in offset
 * order, and learns of a skip (proven gone) or an epoch change from the message that follows it.
 * Presence notices on the same pub/sub go through a PresenceFeed (./presence-feed.ts), which
 * replays the ones missed while the subscriber connection was down.
 */
import { redisCommandDuration, redisCommandOptions, redisSubscriberOptions, type SentinelConfig } from '../../../core/redis-options.js';
import { closeRedisConnections, redisAbandonedCommands } from '../../../core/redis-close.js';
import { AirwavesError, Errors, isAirwavesError } from '../../../core/errors.js';
import type { Logger } from '../../../core/logger.js';
import { prom, sharedMetric, type Registry } from '../../../core/metrics.js';
import type { ChannelRetention, EngineNotices, HistorySlice, HubEngine, HubMessage, MessageSink, PublishAck, PublishPayload } from '../engine.js';
import { newEpoch } from '../engine.js';
import { ChannelSync, type SyncEvent } from './channel-sync.js';
import { channelKeys, decodeWire, presenceLogKey, presenceNoticeOf, presenceSeqKey, publishedAtOf, pubSubChannelOf } from './wire.js';
import { PRESENCE_LOG_SIZE, PresenceFeed } from './presence-feed.js';
import { engineScripts } from './scripts.js';
import { redisConnection, type RedisConnection } from './connections.js';

export { decodeWire, encodeWire } from './wire.js';

export interface RedisEngineOptions {
  url: string;
  /** Redis Sentinels: `url`'s host names the master group, and the engine follows its failovers. */
  sentinels?: SentinelConfig;
  /** Seeds of a Redis Cluster (instead of `url`; AIRWAVES_REDIS_CLUSTER). No `waitReplicas` then. */
  clusterSeeds?: readonly string[];
  /** Replicas that must confirm a publish (Redis WAIT) before it is acknowledged. Default 0. */
  waitReplicas?: number;
  /** How long a publish waits for them. Default 1 s. */
  waitTimeoutMs?: number;
  nodeId: string;
  logger: Logger;
  metrics?: Registry;
  /** How long a channel's offset and epoch outlive the last publish, read or listening node. Default 24 h. */
  metaTtlMs?: number;
  /** How long an idempotency key is remembered. Default 10 min. */
  dedupeTtlMs?: number;
  /** How long a subscribe waits for Redis to confirm the node's SUBSCRIBE. Default 3 s. */
  subscribeTimeoutMs?: number;
  /** Messages held per channel while its history is being read. Default 10,000. */
  holdLimit?: number;
}

/** Bytes of the pub/sub channel's prefix (`aw:p:`). */
const PUB_PREFIX_BYTES = pubSubChannelOf('').length;
/** Most messages read to fill one gap; a larger gap is beyond any namespace's history anyway. */
const MAX_GAP_FILL = 10_000;

type ScriptedRedis = RedisConnection & {
  awPublish(meta: string, hist: string, idem: string, ...argv: (string | Buffer | number)[]): Promise<string>;
  awHistoryBuffer(meta: string, hist: string, after: number, limit: number, epoch: string, metaTtl: number): Promise<[number, Buffer, Buffer[]]>;
  awRestart(meta: string, hist: string, seenEpoch: string, newEpoch: string, metaTtl: number): Promise<number>;
};

interface Listened {
  sync: ChannelSync;
  subscribed: Promise<unknown>;
}

const metaKey = (channel: string) => channelKeys(channel).meta;
const histKey = (channel: string) => channelKeys(channel).history;
const idemKey = (channel: string, key: string) => channelKeys(channel).idempotency(key);

function unavailable(err: unknown): AirwavesError {
  if (isAirwavesError(err)) return err;
  return new AirwavesError(Errors.engineUnavailable, `Redis engine unavailable: ${(err as Error).message}`);
}

export class RedisEngine implements HubEngine {
  readonly name = 'redis' as const;
  private readonly cmd: ScriptedRedis;
  private readonly sub: RedisConnection;
  private readonly log: Logger;
  private readonly metaTtlMs: number;
  private readonly dedupeTtlMs: number;
  private sink: MessageSink = () => {};
  private notices?: EngineNotices;
  private readonly listening = new Map<string, Listened>();
  private readonly retention = new Map<string, ChannelRetention>();
  private readonly presenceFeed: PresenceFeed;
  private readonly latency?: prom.Histogram<'op'>;
  private readonly syncEvents?: prom.Counter<'event'>;
  private sweepTimer?: NodeJS.Timeout;
  private touchTimer?: NodeJS.Timeout;
  private wasDown = false;
  private closed = false;

  constructor(private readonly options: RedisEngineOptions) {
    this.log = options.logger.child({ module: 'redis-engine', node: options.nodeId });
    this.metaTtlMs = options.metaTtlMs ?? 24 * 3600_000;
    this.dedupeTtlMs = options.dedupeTtlMs ?? 10 * 60_000;
    const name = `airwaves-${options.nodeId}`;
    // Publishes fail fast while Redis is away; in-flight ones fail on disconnect rather than being
    // resent blindly (a resent publish could be applied twice).
    this.cmd = redisConnection(options, redisCommandOptions(name)) as ScriptedRedis;
    // The engine resubscribes itself on 'ready' (below) rather than through ioredis' automatic
    // re-SUBSCRIBE, which has no rejection handler: a close() racing a reconnect (a Sentinel
    // failover makes those common) would raise an unhandled "Connection is closed.".
    this.sub = redisConnection(options, { ...redisSubscriberOptions(name), autoResubscribe: false });
    const scripts = engineScripts();
    this.cmd.defineCommand('awPublish', { numberOfKeys: 3, lua: scripts.publish });
    this.cmd.defineCommand('awHistory', { numberOfKeys: 2, lua: scripts.history });
    this.cmd.defineCommand('awRestart', { numberOfKeys: 2, lua: scripts.restart });
    const roles: [string, RedisConnection][] = [['command', this.cmd], ['subscriber', this.sub]];
    for (const [role, conn] of roles) {
      conn.on('error', (err: Error) => this.log.debug({ err: err.message, role }, 'redis connection error'));
      conn.on('close', () => {
        if (!this.closed && !this.wasDown) {
          this.wasDown = true;
          this.log.warn({ role }, 'redis connection lost; reconnecting');
        }
      });
    }
    this.presenceFeed = new PresenceFeed({
      nodeId: options.nodeId,
      tell: (channel, n) => this.notices?.presence(channel, n.event, n.info),
      readSeq: (channel) => this.cmd.get(presenceSeqKey(channel)),
      readLog: (channel) => this.cmd.lrangeBuffer(presenceLogKey(channel), 0, PRESENCE_LOG_SIZE - 1),
      count: (event, n = 1) => this.syncEvents?.inc({ event }, n),
      warn: (message, err) => this.log.warn({ err: (err as Error).message }, message),
    });
    this.sub.on('ready', () => {
      if (this.wasDown) this.log.info('redis connection restored');
      this.wasDown = false;
      for (const [channel, listened] of this.listening) this.subscribe(channel, listened);
      void this.recoverAfterResubscribe();
    });
    if (options.metrics) {
      this.latency = redisCommandDuration(options.metrics);
      // Shared by the engines of a sharded setup (one per Redis).
      this.syncEvents = sharedMetric(
        options.metrics,
        'redis_engine_sync_events_total',
        (registers) =>
          new prom.Counter({
            name: 'redis_engine_sync_events_total',
            help: 'Per-channel ordering events: fill (history read), fill_failed, skipped (offsets proven gone), duplicate, held_dropped, epoch_change, fork (Redis lost delivered messages; new epoch), unreplicated (publish not confirmed by the replicas), presence_recovered (presence notices told from the log after a reconnect), presence_gap (more missed than the log keeps)',
            labelNames: ['event'] as const,
            registers,
          }),
      );
    }
  }

  async start(sink: MessageSink, notices?: EngineNotices): Promise<void> {
    this.sink = sink;
    this.notices = notices;
    this.sub.on('messageBuffer', (channel: Buffer, message: Buffer) => this.onPubSub(channel, message));
    // Keep the epoch of every listened channel alive (and notice one that changed or a message
    // this node never heard of) even when nobody publishes.
    const every = Math.max(1000, Math.min(60_000, this.metaTtlMs / 4));
    this.touchTimer = setInterval(() => this.touchListened(), every);
    this.touchTimer.unref();
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
    const published = this.cmd.awPublish(
      metaKey(channel),
      histKey(channel),
      idem === undefined ? metaKey(channel) : idemKey(channel, idem),
      pubSubChannelOf(channel),
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
    );
    // WAIT right behind the script on the same connection: it returns once the replicas hold
    // everything this connection wrote, the publish included (scripts cannot call WAIT).
    const waitFor = this.options.waitReplicas ?? 0;
    const waitMs = this.options.waitTimeoutMs ?? 1000;
    const replicated = waitFor > 0 ? this.cmd.wait(waitFor, waitMs) : Promise.resolve(0);
    return Promise.all([published, replicated]).then(
      ([reply, replicas]) => {
        this.latency?.observe({ op: 'publish' }, (performance.now() - started) / 1000);
        // "offset epoch ts"; ts is the first publisher's (a repeat gets the stored reply).
        const [offset, epoch, ts] = reply.split(' ');
        const ack = { offset: Number(offset), epoch };
        if (eachNode) this.deliverOwnPublish(channel, payload, ack, ts === undefined ? Date.now() : Number(ts));
        if (replicas < waitFor) {
          this.syncEvents?.inc({ event: 'unreplicated' });
          // Published (subscribers may have it) but not acknowledged: a failover now could lose
          // it. A retry with the same idempotency key does not publish it twice.
          throw new AirwavesError(Errors.engineUnavailable, `published at offset ${offset} but confirmed by ${replicas} of ${waitFor} Redis replicas within ${waitMs} ms; not acknowledged`);
        }
        return ack;
      },
      (err: unknown) => {
        throw unavailable(err);
      },
    );
  }

  async history(channel: string, afterOffset: number, limit: number, retention: ChannelRetention): Promise<HistorySlice> {
    this.retention.set(channel, retention);
    // While Redis is away a subscribe or history read fails at once with engine_unavailable
    // (the client retries), rather than waiting on a connection that may not come back soon.
    if (this.cmd.status !== 'ready') throw new AirwavesError(Errors.engineUnavailable, `Redis engine unavailable (connection ${this.cmd.status})`);
    // A subscribe joins the channel before reading history; wait until Redis confirmed the
    // SUBSCRIBE so nothing published between the read and the subscription can slip through.
    const listened = this.listening.get(channel);
    if (listened) await this.withinSubscribeTime(channel, listened.subscribed).catch((err: unknown) => Promise.reject(unavailable(err)));
    const slice = await this.read(channel, afterOffset, retention.historySize > 0 ? limit : 0, retention.historyTtlMs);
    // The subscribe's read sets a new channel's position (and tells a live one of a new epoch).
    if (listened && this.listening.get(channel) === listened) listened.sync.position(slice);
    return slice;
  }

  listen(channel: string, on: boolean): Promise<void> {
    const pubChannel = pubSubChannelOf(channel);
    if (on) {
      if (this.listening.has(channel)) return Promise.resolve();
      const listened: Listened = { sync: this.newSync(channel), subscribed: Promise.resolve() };
      this.listening.set(channel, listened);
      this.subscribe(channel, listened);
      this.presenceFeed.listen(channel, listened.subscribed);
      return listened.subscribed.then(
        () => undefined,
        () => undefined,
      );
    }
    const listened = this.listening.get(channel);
    if (!listened) return Promise.resolve();
    listened.sync.close();
    this.presenceFeed.forget(channel);
    this.listening.delete(channel);
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
    if (this.touchTimer) clearInterval(this.touchTimer);
    for (const l of this.listening.values()) l.sync.close();
    this.listening.clear();
    // Bounded: during an outage the subscriber's QUIT would wait behind queued (UN)SUBSCRIBEs.
    const abandoned = this.options.metrics ? redisAbandonedCommands(this.options.metrics) : undefined;
    await closeRedisConnections({ 'engine-command': this.cmd, 'engine-subscriber': this.sub }, this.log, abandoned);
  }

  // ---------------------------------------------------------------- reads

  private async read(channel: string, afterOffset: number, limit: number, historyTtlMs: number): Promise<HistorySlice> {
    const started = performance.now();
    let reply: [number, Buffer, Buffer[]];
    try {
      reply = await this.cmd.awHistoryBuffer(metaKey(channel), histKey(channel), afterOffset, limit, newEpoch(), Math.max(this.metaTtlMs, historyTtlMs));
    } catch (err) {
      throw unavailable(err);
    }
    this.latency?.observe({ op: 'history' }, (performance.now() - started) / 1000);
    const [top, epochBuf, items] = reply;
    const oldestAllowed = historyTtlMs > 0 ? Date.now() - historyTtlMs : -Infinity;
    const messages: HubMessage[] = [];
    for (let i = items.length - 1; i >= 0; i--) {
      const m = decodeWire(channel, items[i]);
      if (m.offset > afterOffset && m.ts >= oldestAllowed) messages.push(m);
    }
    const first = messages[0];
    const complete = afterOffset >= top || (first !== undefined && first.offset === afterOffset + 1);
    return { epoch: epochBuf.toString(), top, messages, complete };
  }

  /**
   * SUBSCRIBEs a listened channel. A SUBSCRIBE that fails (its connection closed under it) is
   * not redone by ioredis, which resubscribes only what Redis confirmed: without a retry the
   * channel would stay listened but deaf. Reads wait for the confirmation and fail with it.
   */
  private subscribe(channel: string, listened: Listened, delayMs = 0): void {
    const attempt = this.sub.subscribe(pubSubChannelOf(channel));
    listened.subscribed = attempt;
    attempt.catch((err: Error) => {
      if (this.closed || this.listening.get(channel) !== listened) return;
      this.log.warn({ err: err.message, channel }, 'subscribe failed; retrying');
      const next = Math.min(Math.max(100, delayMs * 2), 2000);
      setTimeout(() => {
        if (!this.closed && this.listening.get(channel) === listened) this.subscribe(channel, listened, next);
      }, next).unref();
    });
  }

  /** A subscribe must not hang while Redis is away (the SUBSCRIBE waits in ioredis' queue). */
  private async withinSubscribeTime(channel: string, subscribed: Promise<unknown>): Promise<void> {
    const limitMs = this.options.subscribeTimeoutMs ?? 3000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new AirwavesError(Errors.engineUnavailable, `Redis did not confirm the subscription to "${channel}" within ${limitMs} ms`)), limitMs);
    });
    try {
      await Promise.race([subscribed, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private newSync(channel: string): ChannelSync {
    return new ChannelSync(
      channel,
      {
        // Fills read everything the channel keeps (no TTL filter: an expired message is gone either way).
        read: (after) => this.read(channel, after, Math.max(1, Math.min(MAX_GAP_FILL, this.retention.get(channel)?.historySize ?? MAX_GAP_FILL)), 0),
        deliver: (m) => this.sink(m),
        epochChanged: (epoch) => this.notices?.epochChanged(channel, epoch),
        restart: (epoch) =>
          this.cmd.awRestart(metaKey(channel), histKey(channel), epoch, newEpoch(), Math.max(this.metaTtlMs, this.retention.get(channel)?.historyTtlMs ?? 0)),
        count: (event: SyncEvent, n = 1) => this.syncEvents?.inc({ event }, n),
        warn: (message, err) => this.log.warn({ err: (err as Error).message, channel }, message),
      },
      this.options.holdLimit ?? 10_000,
    );
  }

  // ---------------------------------------------------------------- delivery

  /** A message this node published with eachNodePublishes, to its own listeners, in the channel's one order. */
  private deliverOwnPublish(channel: string, payload: PublishPayload, ack: PublishAck, ts: number): void {
    const listened = this.listening.get(channel);
    if (!listened) return;
    const message: HubMessage = { channel, offset: ack.offset, epoch: ack.epoch, ts, key: payload.key || undefined, publishedAt: publishedAtOf(ts) };
    if (payload.binary) message.binary = payload.binary;
    else message.json = payload.json ?? 'null';
    listened.sync.offer(message);
  }

  private onPubSub(pubChannel: Buffer, buf: Buffer): void {
    const channel = pubChannel.toString('utf8', PUB_PREFIX_BYTES);
    const listened = this.listening.get(channel);
    if (!listened) return;
    let message: HubMessage;
    try {
      const notice = presenceNoticeOf(buf);
      if (notice) {
        this.presenceFeed.offer(channel, notice);
        return;
      }
      message = decodeWire(channel, buf);
    } catch (err) {
      this.log.error({ err: (err as Error).message, channel }, 'dropping malformed pub/sub message');
      return;
    }
    listened.sync.offer(message);
  }

  /**
   * After a reconnect, messages published while this node's subscription was down are only in
   * history: every listened channel reads from its position, including those that had no
   * message yet. A PING on the subscriber connection returns after the re-SUBSCRIBEs sent
   * before it, so a read started then misses nothing.
   */
  private async recoverAfterResubscribe(): Promise<void> {
    if (this.closed || this.listening.size === 0) return;
    try {
      // A Cluster's PING goes to any node, not to its subscriber connection: wait for the
      // re-SUBSCRIBEs themselves.
      if (this.options.clusterSeeds?.length) await Promise.all([...this.listening.values()].map((l) => l.subscribed));
      else await this.sub.ping();
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, 'post-reconnect ping failed; retrying');
      this.sweepTimer = setTimeout(() => void this.recoverAfterResubscribe(), 250);
      this.sweepTimer.unref();
      return;
    }
    for (const l of this.listening.values()) l.sync.recover();
    for (const channel of this.listening.keys()) void this.presenceFeed.recover(channel);
  }

  /** Refreshes the epoch keys of listened channels; a channel whose epoch or top moved without this node hearing of it recovers. */
  private touchListened(): void {
    if (this.closed || this.cmd.status !== 'ready') return;
    for (const [channel, l] of this.listening) {
      if (l.sync.status !== 'live') continue;
      const expected = l.sync.next;
      this.read(channel, Number.MAX_SAFE_INTEGER, 0, 0).then(
        (slice) => {
          if (this.listening.get(channel) !== l || l.sync.status !== 'live') return;
          // Another epoch, a message this node never heard of, or a top below what it delivered (a fork).
          if (slice.epoch !== l.sync.epoch || (slice.top >= expected && l.sync.next === expected) || slice.top < l.sync.next - 1) l.sync.recover();
        },
        () => {
          /* Redis away: the reconnect recovers every channel */
        },
      );
    }
  }
}
