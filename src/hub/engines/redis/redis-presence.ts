/**
 * @module hub/engines/redis/redis-presence
 * Presence for a cluster (as Centrifugo keeps it): per channel a Redis hash of the clients
 * present (client id → entry) and a sorted set of their expiry times. Each node records its own
 * clients when they join, removes them when they leave, and refreshes their expiry every
 * `heartbeatMs`; a list drops the entries whose expiry passed first. A node that dies stops
 * refreshing, so its clients disappear from every node's list within `ttlMs`.
 *
 * Joins and leaves are announced on the channel's pub/sub (by the same scripts, atomically with
 * the change), where every node listening to the channel hears them through its engine and tells
 * its subscribers; so is an entry taken out because it expired (a killed node's clients leave
 * within `ttlMs` plus one heartbeat of any node on the channel).
 *
 * Every notice is also numbered and kept in a short log (lua/presence-announce.lua, the last
 * PRESENCE_LOG_SIZE per channel): a node whose subscriber connection was down reads the notices
 * it missed from there once it is back (redis-engine.ts, "presence recovery").
 *
 * Keys (hash-tagged like the engine's): aw:{<channel>}:pr (hash), aw:{<channel>}:pe (sorted set),
 * aw:{<channel>}:pq (notice sequence), aw:{<channel>}:pn (notice log, a list, newest first).
 */
import { redisCommandOptions, type SentinelConfig } from '../../../core/redis-options.js';
import { REDIS_QUIT_GRACE_MS, closeRedisConnections } from '../../../core/redis-close.js';
import { AirwavesError, Errors } from '../../../core/errors.js';
import type { Logger } from '../../../core/logger.js';
import type { PresenceEntry } from '../../../protocol/index.js';
import type { PresenceStore } from '../presence.js';
import { presenceScripts } from './scripts.js';
import { redisConnection, type RedisConnection } from './connections.js';
import { channelKeys, pubSubChannelOf } from './wire.js';
import { PRESENCE_LOG_SIZE } from './presence-feed.js';

export interface RedisPresenceOptions {
  url: string;
  /** Redis Sentinels: `url`'s host names the master group. */
  sentinels?: SentinelConfig;
  /** Seeds of a Redis Cluster (instead of `url`). */
  clusterSeeds?: readonly string[];
  nodeId: string;
  logger: Logger;
  /** How long an entry outlives its node's last refresh. Default 15 s. */
  ttlMs?: number;
  /** How often a node refreshes its clients' entries. Default ttlMs / 3. */
  heartbeatMs?: number;
}

type Keys = [hash: string, zset: string, seq: string, log: string];

type PresenceRedis = RedisConnection & {
  awPresenceAdd(...keysThenArgv: [...Keys, ...(string | number)[]]): Promise<number>;
  awPresenceLeave(...keysThenArgv: [...Keys, ...(string | number)[]]): Promise<number>;
  awPresenceList(...keysThenArgv: [...Keys, now: number, pubChannel: string, ttl: number, logSize: number]): Promise<string[]>;
};

interface StoredEntry extends PresenceEntry {
  /** When the client joined (ms), for the list's order. */
  at: number;
}

const keysOf = (channel: string): Keys => channelKeys(channel).presence;

export class RedisPresence implements PresenceStore {
  private readonly redis: PresenceRedis;
  private readonly log: Logger;
  private readonly ttlMs: number;
  private readonly nodeId: string;
  /** This node's clients per channel: what the heartbeat refreshes. */
  private readonly local = new Map<string, Map<string, StoredEntry>>();
  private readonly timer: NodeJS.Timeout;
  /** How long a channel's presence keys outlive the last refresh of any entry. */
  private get keyTtlMs(): number {
    return this.ttlMs * 2;
  }

  constructor(options: RedisPresenceOptions) {
    this.log = options.logger.child({ module: 'redis-presence', node: options.nodeId });
    this.ttlMs = options.ttlMs ?? 15_000;
    this.nodeId = options.nodeId;
    this.redis = redisConnection(options, { ...redisCommandOptions(`airwaves-presence-${options.nodeId}`), lazyConnect: false }) as PresenceRedis;
    this.redis.on('error', (err: Error) => this.log.debug({ err: err.message }, 'redis connection error'));
    const scripts = presenceScripts();
    this.redis.defineCommand('awPresenceAdd', { numberOfKeys: 4, lua: scripts.add });
    this.redis.defineCommand('awPresenceLeave', { numberOfKeys: 4, lua: scripts.leave });
    this.redis.defineCommand('awPresenceList', { numberOfKeys: 4, lua: scripts.list });
    this.timer = setInterval(() => this.heartbeat(), options.heartbeatMs ?? Math.max(100, Math.floor(this.ttlMs / 3)));
    this.timer.unref();
  }

  join(channel: string, entry: PresenceEntry): void {
    let clients = this.local.get(channel);
    if (!clients) this.local.set(channel, (clients = new Map()));
    const stored: StoredEntry = { ...entry, at: Date.now() };
    clients.set(entry.client, stored);
    // While Redis is away the next heartbeat records it (and announces it then).
    this.add(channel, [stored], true).catch((err: Error) => this.log.debug({ err: err.message, channel }, 'presence join not recorded yet'));
  }

  leave(channel: string, client: string): boolean {
    const clients = this.local.get(channel);
    if (!clients?.delete(client)) return false;
    if (clients.size === 0) this.local.delete(channel);
    this.remove(channel, [client]).catch((err: Error) => this.log.debug({ err: err.message, channel }, 'presence leave not recorded; the entry expires'));
    return true;
  }

  async list(channel: string): Promise<PresenceEntry[]> {
    let flat: string[];
    try {
      flat = await this.redis.awPresenceList(...keysOf(channel), Date.now(), pubSubChannelOf(channel), this.keyTtlMs, PRESENCE_LOG_SIZE);
    } catch (err) {
      throw new AirwavesError(Errors.engineUnavailable, `presence unavailable: ${(err as Error).message}`);
    }
    const entries: StoredEntry[] = [];
    for (let i = 1; i < flat.length; i += 2) {
      try {
        entries.push(JSON.parse(flat[i]) as StoredEntry);
      } catch {
        this.log.warn({ channel, client: flat[i - 1] }, 'skipping a malformed presence entry');
      }
    }
    entries.sort((a, b) => a.at - b.at);
    return entries.map(({ client, user }) => ({ client, user }));
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    // A graceful stop takes its clients out at once (a crash leaves them to expire).
    const leaving = [...this.local].map(([channel, clients]) => this.remove(channel, [...clients.keys()]).catch(() => undefined));
    this.local.clear();
    // Bounded like the close itself: a Redis that does not answer leaves them to expire.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(leaving), new Promise((resolve) => (timer = setTimeout(resolve, REDIS_QUIT_GRACE_MS)))]);
    clearTimeout(timer);
    await closeRedisConnections({ presence: this.redis }, this.log);
  }

  /** Records entries; `announce`: as joins of this node (a heartbeat announces only re-added ones). */
  private add(channel: string, entries: StoredEntry[], announce = false): Promise<number> {
    const now = Date.now();
    const argv: (string | number)[] = [now + this.ttlMs, this.keyTtlMs, now, pubSubChannelOf(channel), announce ? this.nodeId : '', PRESENCE_LOG_SIZE];
    for (const e of entries) argv.push(e.client, JSON.stringify(e));
    return this.redis.awPresenceAdd(...keysOf(channel), ...argv);
  }

  private remove(channel: string, clients: string[]): Promise<number> {
    return this.redis.awPresenceLeave(...keysOf(channel), pubSubChannelOf(channel), this.nodeId, this.keyTtlMs, PRESENCE_LOG_SIZE, ...clients);
  }

  private heartbeat(): void {
    if (this.redis.status !== 'ready') return;
    for (const [channel, clients] of this.local) {
      this.add(channel, [...clients.values()]).catch((err: Error) => this.log.debug({ err: err.message, channel }, 'presence heartbeat failed'));
    }
  }
}
