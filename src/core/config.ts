/**
 * @module core/config
 * The core's settings: server, hub, auth, database and event log. Each field names its
 * environment variable, its schema with the default, and its meaning (core/settings reads them).
 * Apps declare their own settings beside them, in src/apps/<app>/settings.ts; the composition
 * root (src/config.ts) merges both into the one configuration table and the README reference
 * (`npm run docs:config`).
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { SentinelConfig } from './redis-options.js';
import { bool, port, positiveInt, secret, type SettingFields, type SettingsOf } from './settings.js';

export { ConfigError } from './settings.js';

export const accessLevel = z.enum(['anonymous', 'authenticated', 'server']);
export type AccessLevel = z.infer<typeof accessLevel>;

export const slowConsumerPolicy = z.enum(['drop-oldest', 'conflate', 'disconnect']);
export type SlowConsumerPolicyName = z.infer<typeof slowConsumerPolicy>;

/** Options of one hub namespace, as apps register them and users declare them in config. */
export const namespaceConfigSchema = z.object({
  name: z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/, 'lowercase letters, digits, _ or -, starting with a letter'),
  historySize: z.number().int().min(0).max(1_000_000).default(100),
  historyTtlSeconds: z.number().int().min(0).default(300),
  /**
   * Per-channel history depth by name suffix, overriding historySize (the longest matching suffix
   * wins): e.g. `{".bbo": 1}` for channels whose every message is a full state, so a resubscribe
   * needs only the newest one and the hub does not keep hundreds alive per channel.
   */
  historyBySuffix: z
    .record(z.string().min(1).max(64), z.number().int().min(0).max(1_000_000))
    .refine((r) => Object.keys(r).length <= 32, 'at most 32 suffixes')
    .optional(),
  /**
   * The memory engine keeps this namespace's history as bytes in one Buffer per channel rather
   * than as message objects: nothing per publication stays on the V8 heap for the GC to copy
   * (busy channels with deep history), at the cost of decoding on replay.
   */
  historyInBuffers: z.boolean().optional(),
  maxMessageBytes: z.number().int().min(1).max(16 * 1024 * 1024).default(64 * 1024),
  subscribe: accessLevel.default('anonymous'),
  publish: accessLevel.default('authenticated'),
  coalesceMs: z.number().int().min(0).max(10_000).default(0),
  slowConsumer: slowConsumerPolicy.default('drop-oldest'),
  presence: z.boolean().default(false),
  binary: z.boolean().default(false),
});
export type NamespaceConfig = z.infer<typeof namespaceConfigSchema>;
export type NamespaceConfigInput = z.input<typeof namespaceConfigSchema>;

/** The apps a server can host (src/apps/index.ts registers them; AIRWAVES_APPS picks among them). */
export const APP_NAMES = ['support', 'radio', 'studio', 'market', 'live'] as const;
export type AppName = (typeof APP_NAMES)[number];

/** The core's settings: field → [environment variable, schema with default, meaning, options]. */
export const CORE_SETTINGS = {
  port: ['AIRWAVES_PORT', port.default(8080), 'TCP port of the HTTP and WebSocket server (0 picks a free port)'],
  host: ['AIRWAVES_HOST', z.string().min(1).optional(), 'interface to listen on (default 0.0.0.0, or 127.0.0.1 in demo mode)'],
  dataDir: ['AIRWAVES_DATA_DIR', z.string().min(1).default('./data'), 'where embedded engines keep their files (PGlite)'],
  logLevel: ['AIRWAVES_LOG_LEVEL', z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'), 'pino log level'],
  apiKey: ['AIRWAVES_API_KEY', secret.optional(), 'admin API key (server-side publish, admin routes, admin sign-in; at least 32 bytes); unset: generated on first start into <data dir>/secrets.json', { secret: true }],
  jwtSecret: ['AIRWAVES_JWT_SECRET', z.union([z.literal(''), secret]).default(''), 'HS256 secret for client tokens (at least 32 bytes); empty: generated on first start into <data dir>/secrets.json', { secret: true }],
  loginRatePerMinute: ['AIRWAVES_LOGIN_RATE', positiveInt.default(20), 'sign-in and demo-login requests per minute from one IP address'],
  demo: ['AIRWAVES_DEMO', bool.default(false), 'demo mode: demo logins for a first look; binds to 127.0.0.1 unless AIRWAVES_HOST is set'],
  allowAnonymous: ['AIRWAVES_ALLOW_ANONYMOUS', bool.default(true), 'accept connections without a token (namespaces still decide what anonymous clients may do)'],
  maxConnectionsPerIp: ['AIRWAVES_MAX_CONNECTIONS_PER_IP', positiveInt.default(10_000), 'WebSocket connections accepted from one IP address'],
  maxFrameBytes: ['AIRWAVES_MAX_FRAME_BYTES', positiveInt.default(1024 * 1024), 'largest inbound WebSocket frame; larger closes with 1009'],
  maxSubscriptionsPerClient: ['AIRWAVES_MAX_SUBSCRIPTIONS', positiveInt.default(1000), 'channels one connection may subscribe to'],
  publishRatePerSecond: ['AIRWAVES_PUBLISH_RATE', positiveInt.default(200), 'client publishes per second (token bucket refill; burst is twice this)'],
  publishBytesPerSecond: ['AIRWAVES_PUBLISH_BYTES_RATE', positiveInt.default(1024 * 1024), 'client publish bytes per second'],
  commandRatePerSecond: ['AIRWAVES_COMMAND_RATE', positiveInt.default(500), 'client commands of any kind per second'],
  outboundQueueMessages: ['AIRWAVES_OUTBOUND_QUEUE_MESSAGES', positiveInt.default(4096), 'messages queued for a client before its slow-consumer judgement starts'],
  hubFlushSliceMs: ['AIRWAVES_HUB_FLUSH_SLICE_MS', z.coerce.number().min(0).max(1000).default(4), 'a flush pass that has written to sockets for this long (ms) yields to new publications and reads, and goes on in the next turn'],
  outboundQueueBytes: ['AIRWAVES_OUTBOUND_QUEUE_BYTES', positiveInt.default(4 * 1024 * 1024), 'bytes queued for one client before its slow-consumer judgement starts (its socket buffer is capped apart, at half this up to 1 MB)'],
  outboundQueueHardFactor: ['AIRWAVES_OUTBOUND_QUEUE_HARD_FACTOR', z.coerce.number().int().min(1).max(64).default(4), 'hard cap of a client\'s queue, in multiples of its bounds (messages and bytes): past it the slow-consumer policy applies at once, whatever the judgement window; 1 applies it at the bounds'],
  slowConsumerWindowMs: ['AIRWAVES_SLOW_CONSUMER_WINDOW_MS', z.coerce.number().int().min(0).max(60_000).default(2000), 'a client whose queue is over its bounds while its socket is backed up must shrink its backlog (queue plus socket buffer) within this window (ms), or its namespace\'s slow-consumer policy applies; longer than TCP\'s retransmission backoff, so a client the server (CPU, TCP) held back is not misjudged; 0 applies the policy at once'],
  appStartTimeoutMs: ['AIRWAVES_APP_START_TIMEOUT_MS', z.coerce.number().int().min(0).default(120_000), 'how long one app may take to register (open the database, run its migrations) before the start fails; 0 waits as long as it takes (a loaded or CPU-limited machine)'],
  shutdownDrainMs: ['AIRWAVES_SHUTDOWN_DRAIN_MS', z.coerce.number().int().min(0).default(5000), 'how long a graceful shutdown waits for clients to close'],
  apps: [
    'AIRWAVES_APPS',
    z
      .preprocess(
        (v) => (typeof v === 'string' ? v.split(',').map((x) => x.trim()).filter(Boolean) : v),
        z.array(z.enum(APP_NAMES)).refine((a) => new Set(a).size === a.length, 'each app once'),
      )
      .default([...APP_NAMES]),
    `apps to run (comma list of ${APP_NAMES.join(', ')}); empty: the hub alone; the database opens only for apps that need it`,
    { emptyMeansNone: true },
  ],
  namespaces: [
    'AIRWAVES_NAMESPACES',
    z.array(namespaceConfigSchema).prefault([{ name: 'chat', historySize: 500, presence: true }]),
    'extra hub namespaces for your own applications (JSON array; the default "chat" makes the README examples work, and setting this replaces it)',
    { json: true },
  ],
  redisUrl: [
    'AIRWAVES_REDIS_URL',
    z
      .string()
      .refine((v) => v.split(',').every((u) => URL.canParse(u.trim())), 'one Redis URL, or several separated by commas')
      .optional(),
    'Redis URL: switches the hub engine and event log to Redis; several comma-separated URLs shard channels over them by consistent hash (the first also holds the event log and flags)',
  ],
  redisCluster: [
    'AIRWAVES_REDIS_CLUSTER',
    bool.default(false),
    'with Redis: AIRWAVES_REDIS_URL names seed nodes of one Redis Cluster (redis://host:port,redis://host:port; any reachable master will do, the rest is discovered), not shards: each channel lives in the slot of its {channel} hash tag, publications travel by plain pub/sub over the cluster bus, and the event log stays in each node\'s memory (Redis Streams need a plain Redis). Not with Sentinels or AIRWAVES_REDIS_WAIT_REPLICAS',
  ],
  redisSentinels: [
    'AIRWAVES_REDIS_SENTINELS',
    z
      .unknown()
      .transform((v, ctx) => {
        try {
          return parseSentinels(v);
        } catch (err) {
          ctx.addIssue({ code: 'custom', message: `comma-separated host:port list of Redis Sentinels: ${(err as Error).message}` });
          return z.NEVER;
        }
      })
      .optional(),
    'Redis Sentinels (host:port,host:port): every Redis connection goes to the current master of the group named by the host of its AIRWAVES_REDIS_URL (redis://mymaster), and follows a failover',
  ],
  redisSentinelUsername: ['AIRWAVES_REDIS_SENTINEL_USERNAME', z.string().min(1).optional(), 'with Redis Sentinels: the ACL user the Sentinels require (their own, not the master\'s: that one goes in AIRWAVES_REDIS_URL)'],
  redisSentinelPassword: ['AIRWAVES_REDIS_SENTINEL_PASSWORD', z.string().min(1).optional(), 'with Redis Sentinels: the password the Sentinels require (sentinel requirepass); the master\'s goes in AIRWAVES_REDIS_URL (redis://:password@mymaster)', { secret: true }],
  redisSentinelTls: ['AIRWAVES_REDIS_SENTINEL_TLS', bool.default(false), 'with Redis Sentinels: connect to the Sentinels over TLS (a rediss:// AIRWAVES_REDIS_URL makes the master connections TLS too)'],
  redisTlsCaFile: ['AIRWAVES_REDIS_TLS_CA_FILE', z.string().min(1).optional(), 'with Redis Sentinels over TLS (or a rediss:// master behind them): PEM file of the certificate authority that signed the Sentinels\' (and a rediss:// master\'s) certificates; unset: the system\'s authorities'],
  redisChannelTtlMs: ['AIRWAVES_REDIS_CHANNEL_TTL_MS', z.coerce.number().int().min(3000).default(24 * 3600_000), 'with Redis: how long a channel\'s offset and epoch outlive its last publish, read or listening node (a listening node refreshes them every quarter of this, at most every second, at least every minute)'],
  redisDedupeTtlMs: ['AIRWAVES_REDIS_DEDUPE_TTL_MS', z.coerce.number().int().min(1000).default(10 * 60_000), 'with Redis: how long a publish\'s idempotency key (a durable event\'s id) is remembered; a copy arriving later, e.g. from a node returning with an older backlog, is published again under a new offset. Keep it above the longest node outage you ride out'],
  redisWaitReplicas: ['AIRWAVES_REDIS_WAIT_REPLICAS', z.coerce.number().int().min(0).max(16).default(0), 'with Redis: replicas that must confirm a hub publish (Redis WAIT) before it is acknowledged; 1 with Sentinel keeps every acknowledged publish through a failover'],
  redisWaitTimeoutMs: ['AIRWAVES_REDIS_WAIT_TIMEOUT_MS', positiveInt.default(1000), 'with AIRWAVES_REDIS_WAIT_REPLICAS: how long a publish waits for the replicas before it is refused with engine_unavailable'],
  nodeId: ['AIRWAVES_NODE_ID', z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/).optional(), 'stable id of this node in a cluster (default: host name and port)'],
  databaseUrl: ['DATABASE_URL', z.string().optional(), 'PostgreSQL URL; unset uses embedded PGlite under the data directory'],
  presenceTtlMs: ['AIRWAVES_PRESENCE_TTL_MS', positiveInt.default(15_000), 'with Redis: how long a node\'s clients stay in presence lists after the node stops refreshing them (it refreshes every third of this)'],
  clusterLocalDatabase: ['AIRWAVES_CLUSTER_LOCAL_DATABASE', bool.default(false), 'with Redis: let each node keep its own embedded database (only for nodes whose apps keep no shared state, e.g. tests and benchmarks)'],
  eventTransportUseRedisStreams: ['EVENT_TRANSPORT_USE_REDIS_STREAMS', bool.default(true), 'with Redis: publish durable events through Redis Streams (off: over HTTP to a hub node)'],
  eventTransportRedisPercentage: ['EVENT_TRANSPORT_REDIS_PERCENTAGE', z.coerce.number().int().min(0).max(100).default(100), 'share of rooms (0-100, stable per room) whose events use Redis Streams'],
  eventTransportFallbackToHttp: ['EVENT_TRANSPORT_FALLBACK_TO_HTTP', bool.default(true), 'publish events over HTTP while Redis Streams are unreachable'],
  eventTransportDualWrite: ['EVENT_TRANSPORT_DUAL_WRITE', bool.default(false), 'publish every event through both Redis Streams and HTTP (cut-over; the hub dedupes by event id)'],
  eventTransportHttpUrls: ['EVENT_TRANSPORT_HTTP_URLS', z.string().optional(), 'comma-separated hub node URLs for HTTP event publishing (default: this node)'],
  eventStreams: ['EVENT_TRANSPORT_STREAMS', z.record(z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/), z.number().int().min(1).max(100_000_000)).default({ chat: 10_000, ticket: 5_000, remote: 1_000 }), 'event families and the approximate MAXLEN of their streams (JSON object)', { json: true }],
  eventMaxDeliveries: ['EVENT_TRANSPORT_MAX_DELIVERIES', positiveInt.default(5), 'deliveries of one event before it is moved to the dead-letter stream'],
  eventOrphanGroupIdleMs: ['EVENT_TRANSPORT_ORPHAN_GROUP_IDLE_MS', z.coerce.number().int().min(2000).default(600_000), 'with Redis: a node\'s consumer group whose consumers have all been idle this long (the node is gone) is deleted by the other nodes'],
} as const satisfies SettingFields;

/** The core's part of the configuration (what the hub, http, auth, db and events layers read). */
export type CoreConfig = SettingsOf<typeof CORE_SETTINGS>;

/** Parses `host:port,host:port` (the Sentinels' list); throws naming the bad entry. */
export function parseSentinels(value: unknown): { host: string; port: number }[] {
  // A configuration file or a test may give the parsed form: each entry is checked the same way.
  const entries = Array.isArray(value)
    ? value.map((s: { host?: unknown; port?: unknown }) => (String(s?.host).includes(':') ? `[${String(s?.host)}]:${String(s?.port)}` : `${String(s?.host)}:${String(s?.port)}`))
    : typeof value === 'string'
      ? value.split(',').map((s) => s.trim()).filter(Boolean)
      : [];
  if (entries.length === 0) throw new Error('expected at least one host:port');
  return entries.map((entry) => {
    const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(entry);
    const port = m ? Number(m[2]) : NaN;
    if (!m || port < 1 || port > 65535) throw new Error(`"${entry}" is not host:port`);
    return { host: m[1].replace(/^\[|\]$/g, ''), port };
  });
}

/**
 * Where and how every Redis connection reaches the Sentinels (undefined without them). Reads the
 * CA file named by AIRWAVES_REDIS_TLS_CA_FILE; a file that cannot be read is an error naming it.
 */
export function sentinelsOf(config: CoreConfig): SentinelConfig | undefined {
  if (!config.redisSentinels?.length) return undefined;
  let ca: string | undefined;
  if (config.redisTlsCaFile) {
    try {
      ca = readFileSync(config.redisTlsCaFile, 'utf8');
    } catch (err) {
      throw new Error(`AIRWAVES_REDIS_TLS_CA_FILE: cannot read ${config.redisTlsCaFile}: ${(err as Error).message}`);
    }
  }
  return {
    addresses: config.redisSentinels,
    username: config.redisSentinelUsername,
    password: config.redisSentinelPassword,
    tls: config.redisSentinelTls,
    ca,
  };
}

/** The first Redis URL of `AIRWAVES_REDIS_URL` (event log, flags: one place for the whole cluster). */
export function primaryRedisUrl(redisUrl: string): string {
  return redisUrl.split(',')[0].trim();
}

/**
 * What makes a configuration unfit to run as a cluster node (`airwaves serve` refuses to start
 * on any of these): the embedded database is one node's, so tickets written on one node would be
 * invisible on the others; and the HTTP fallback between nodes authenticates with the API key
 * every node shares, so without one every fallback publish would be refused.
 */
export function clusterProblems(config: CoreConfig): string[] {
  if (!config.redisUrl) {
    if (config.redisCluster) return ['AIRWAVES_REDIS_CLUSTER is set but AIRWAVES_REDIS_URL is not: list seed nodes of the cluster (AIRWAVES_REDIS_URL=redis://host:7000,redis://host:7001)'];
    return config.redisSentinels
      ? ['AIRWAVES_REDIS_SENTINELS is set but AIRWAVES_REDIS_URL is not: name the Sentinel master group as the URL\'s host (AIRWAVES_REDIS_URL=redis://mymaster)']
      : [];
  }
  const problems: string[] = [];
  if (config.redisCluster && config.redisSentinels) problems.push('AIRWAVES_REDIS_CLUSTER and AIRWAVES_REDIS_SENTINELS are both set: a Redis Cluster fails over by itself; unset one');
  if (config.redisCluster && config.redisWaitReplicas > 0) problems.push('AIRWAVES_REDIS_WAIT_REPLICAS is not supported with AIRWAVES_REDIS_CLUSTER (WAIT must go to the channel\'s own master); set it to 0');
  if (!config.databaseUrl && !config.clusterLocalDatabase) {
    problems.push(
      'AIRWAVES_REDIS_URL is set but DATABASE_URL is not: every node of a cluster must use the same PostgreSQL database (DATABASE_URL=postgres://…); the embedded database is one node\'s own',
    );
  }
  if (!config.apiKey && config.eventTransportFallbackToHttp) {
    problems.push(
      'AIRWAVES_REDIS_URL is set but AIRWAVES_API_KEY is not: nodes authenticate the HTTP fallback between them with it; set the same key (16+ characters) on every node, or EVENT_TRANSPORT_FALLBACK_TO_HTTP=false',
    );
  }
  return problems;
}
