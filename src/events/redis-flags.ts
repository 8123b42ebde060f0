/**
 * @module events/redis-flags
 * Cluster-wide event-transport rollout flags in Redis. A runtime change is stored in the hash
 * `aw:event-transport:flags` (only the flags someone set, plus a version) and announced on the
 * channel `aw:event-transport:flags:changed`; every node rereads the hash when told, and again
 * whenever its subscriber reconnects, so a node that missed a message while Redis was away
 * still converges. Only the set flags are stored so each node's configured defaults still fill
 * in the rest. Changes carry a version and a node applies only newer ones, so notifications that
 * arrive late or twice cannot roll flags back.
 */
import { Redis } from 'ioredis';
import { redisCommandOptions, redisSubscriberOptions, redisTarget, type SentinelConfig } from '../core/redis-options.js';
import { AirwavesError, Errors } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { EventTransportFlags } from './flags.js';

export const FLAGS_KEY = 'aw:event-transport:flags';
export const FLAGS_CHANNEL = 'aw:event-transport:flags:changed';

const FLAG_NAMES = ['useRedisStreams', 'redisPercentage', 'fallbackToHttp', 'dualWrite'] as const;
const FLAG_LIST = FLAG_NAMES.map((n) => `'${n}'`).join(', ');

export interface StoredFlags {
  /** The flags set at runtime somewhere in the cluster (the rest come from each node's config). */
  flags: Partial<EventTransportFlags>;
  /** 0 when nothing was ever stored. */
  version: number;
  updatedBy: string | null;
  updatedAt: string | null;
}

// One script so the write, the version bump and the notification cannot interleave with another
// node's change: the published version always matches the hash it describes.
// ARGV[4] = "clear" first removes every stored flag (each node falls back to its configuration).
const SAVE_LUA = `
if ARGV[4] == 'clear' then redis.call('HDEL', KEYS[1], ${FLAG_LIST}) end
for i = 5, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
local v = redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('HSET', KEYS[1], 'updatedBy', ARGV[2], 'updatedAt', ARGV[3])
redis.call('PUBLISH', ARGV[1], v)
return redis.call('HGETALL', KEYS[1])
`;

type ScriptedRedis = Redis & { awSaveFlags(key: string, channel: string, node: string, at: string, mode: 'patch' | 'clear', ...pairs: string[]): Promise<string[]> };

export interface RedisFlagStoreOptions {
  url: string;
  /** Redis Sentinels: `url`'s host names the master group (docs/cluster.md, "Redis Sentinel"). */
  sentinels?: SentinelConfig;
  nodeId: string;
  logger: Logger;
  /** Called with every stored state newer than the last one delivered. */
  onChange: (stored: StoredFlags) => void;
  /** How long start() waits for Redis before carrying on with configured flags. */
  timeoutMs?: number;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer from Redis within ${ms} ms`)), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

export class RedisFlagStore {
  private readonly cmd: ScriptedRedis;
  private readonly sub: Redis;
  private readonly log: Logger;
  private readonly timeoutMs: number;
  private appliedVersion = -1;
  private closed = false;
  private refreshPending = false;

  constructor(private readonly options: RedisFlagStoreOptions) {
    this.log = options.logger.child({ module: 'event-transport-flags' });
    this.timeoutMs = options.timeoutMs ?? 2000;
    const name = `airwaves-flags-${options.nodeId}`;
    // A flag write fails fast while Redis is away rather than landing minutes later.
    this.cmd = new Redis(options.url, redisTarget(options.url, redisCommandOptions(name), options.sentinels)) as ScriptedRedis;
    this.cmd.defineCommand('awSaveFlags', { numberOfKeys: 1, lua: SAVE_LUA });
    // The store resubscribes itself on 'ready' rather than through ioredis' automatic
    // re-SUBSCRIBE, which has no rejection handler: a close() racing a reconnect turned it into
    // an unhandled "Connection is closed." rejection.
    this.sub = new Redis(options.url, redisTarget(options.url, { ...redisSubscriberOptions(name), autoResubscribe: false }, options.sentinels));
    for (const conn of [this.cmd, this.sub]) conn.on('error', (err: Error) => this.log.debug({ err: err.message }, 'flag store redis error'));
    this.sub.on('message', (channel: string) => {
      if (channel === FLAGS_CHANNEL) void this.refresh();
    });
    // After a reconnect a change may have been announced while this node was not listening.
    this.sub.on('ready', () => {
      if (this.appliedVersion >= 0) void this.resubscribe();
    });
  }

  /**
   * Connects, subscribes and reads the stored flags. Returns null when Redis does not answer in
   * time: the node then runs on its configured flags and catches up once the subscriber connects.
   */
  async start(): Promise<StoredFlags | null> {
    try {
      await withTimeout(Promise.all([this.cmd.connect(), this.sub.connect()]), this.timeoutMs, 'connecting the flag store');
      await withTimeout(this.sub.subscribe(FLAGS_CHANNEL), this.timeoutMs, 'subscribing to flag changes');
      const stored = await withTimeout(this.load(), this.timeoutMs, 'reading stored flags');
      this.deliver(stored);
      return stored;
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'could not read event transport flags from Redis; using configured flags until Redis answers');
      // Whatever failed, the subscriber keeps retrying; its 'ready' handler needs a baseline.
      this.appliedVersion = Math.max(this.appliedVersion, 0);
      void this.sub.subscribe(FLAGS_CHANNEL).catch(() => {});
      return null;
    }
  }

  async load(): Promise<StoredFlags> {
    return this.parse(await this.cmd.hgetall(FLAGS_KEY));
  }

  /** Stores a patch for the whole cluster and announces it; resolves with the new stored state. */
  save(patch: Partial<EventTransportFlags>): Promise<StoredFlags> {
    return this.write('patch', Object.entries(patch).flatMap(([k, v]) => [k, String(v)]));
  }

  /**
   * Removes every stored flag, under a new version like any change, so each node returns to its
   * own configured flags; resolves with the (empty) stored state.
   */
  clear(): Promise<StoredFlags> {
    return this.write('clear', []);
  }

  private async write(mode: 'patch' | 'clear', pairs: string[]): Promise<StoredFlags> {
    let raw: string[];
    try {
      raw = await withTimeout(this.cmd.awSaveFlags(FLAGS_KEY, FLAGS_CHANNEL, this.options.nodeId, new Date().toISOString(), mode, ...pairs), this.timeoutMs, 'storing flags');
    } catch (err) {
      throw new AirwavesError(Errors.engineUnavailable, `could not store event transport flags in Redis (no node changed): ${(err as Error).message}`);
    }
    const fields: Record<string, string> = {};
    for (let i = 0; i + 1 < raw.length; i += 2) fields[raw[i]] = raw[i + 1];
    const stored = this.parse(fields);
    this.deliver(stored);
    return stored;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.cmd.disconnect();
    this.sub.disconnect();
  }

  private async resubscribe(): Promise<void> {
    if (this.closed) return;
    try {
      await this.sub.subscribe(FLAGS_CHANNEL);
    } catch (err) {
      // The connection dropped again (or is closing): its next 'ready' tries again.
      this.log.debug({ err: (err as Error).message }, 'could not resubscribe to flag changes');
      return;
    }
    await this.refresh();
  }

  private async refresh(): Promise<void> {
    if (this.closed) return;
    try {
      this.deliver(await this.load());
    } catch (err) {
      // The subscriber can be back before the command connection: retry once that one is ready.
      this.log.warn({ err: (err as Error).message }, 'could not reread event transport flags; retrying when Redis answers');
      if (!this.refreshPending) {
        this.refreshPending = true;
        this.cmd.once('ready', () => {
          this.refreshPending = false;
          void this.refresh();
        });
      }
    }
  }

  private deliver(stored: StoredFlags): void {
    if (this.closed || stored.version <= this.appliedVersion) return;
    this.appliedVersion = stored.version;
    this.options.onChange(stored);
  }

  /** A field another version wrote badly is skipped with a warning, never applied half-parsed. */
  private parse(fields: Record<string, string>): StoredFlags {
    const flags: Partial<EventTransportFlags> = {};
    for (const name of FLAG_NAMES) {
      const value = fields[name];
      if (value === undefined) continue;
      if (name === 'redisPercentage') {
        const n = Number(value);
        if (Number.isInteger(n) && n >= 0 && n <= 100) flags.redisPercentage = n;
        else this.log.warn({ flag: name, value }, 'ignoring a stored flag with a bad value');
      } else if (value === 'true' || value === 'false') flags[name] = value === 'true';
      else this.log.warn({ flag: name, value }, 'ignoring a stored flag with a bad value');
    }
    const version = Number(fields.version ?? 0);
    return { flags, version: Number.isInteger(version) ? version : 0, updatedBy: fields.updatedBy ?? null, updatedAt: fields.updatedAt ?? null };
  }
}
