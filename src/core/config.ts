/**
 * @module core/config
 * One configuration object, each field with its doc, read from `AIRWAVES_*` environment variables
 * and an optional JSON file (`AIRWAVES_CONFIG`). Validation happens once at start; every bad field
 * is reported with the variable that set it and what was expected.
 * docs/configuration.md is generated from `CONFIG_FIELDS` (`npm run airwaves -- config-doc`).
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { weakSecretReason } from './public-secrets.js';

export const accessLevel = z.enum(['anonymous', 'authenticated', 'server']);
export type AccessLevel = z.infer<typeof accessLevel>;

export const slowConsumerPolicy = z.enum(['drop-oldest', 'conflate', 'disconnect']);
export type SlowConsumerPolicyName = z.infer<typeof slowConsumerPolicy>;

/** Options of one hub namespace, as apps register them and users declare them in config. */
export const namespaceConfigSchema = z.object({
  name: z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/, 'lowercase letters, digits, _ or -, starting with a letter'),
  historySize: z.number().int().min(0).max(1_000_000).default(100),
  historyTtlSeconds: z.number().int().min(0).default(300),
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

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
/** A secret or key: long enough and never a value that appears in the docs (refused with exit 78). */
const secret = z.string().superRefine((v, ctx) => {
  const reason = weakSecretReason(v);
  if (reason) ctx.addIssue({ code: 'custom', message: reason });
});
const bool = z.union([z.boolean(), z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1')]);

/** JSON text parsed, or the text itself (zod then names what was expected). */
function parseJsonOr(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The apps a server can host (src/apps/index.ts registers them; AIRWAVES_APPS picks among them). */
export const APP_NAMES = ['support', 'radio', 'studio', 'market', 'live'] as const;
export type AppName = (typeof APP_NAMES)[number];

/** Field → [environment variable, schema, doc]. The single source of configuration truth. */
export const CONFIG_FIELDS = {
  port: ['AIRWAVES_PORT', port.default(8080), 'TCP port of the HTTP and WebSocket server (0 picks a free port)'],
  host: ['AIRWAVES_HOST', z.string().min(1).optional(), 'interface to listen on (default 0.0.0.0, or 127.0.0.1 in demo mode)'],
  dataDir: ['AIRWAVES_DATA_DIR', z.string().min(1).default('./data'), 'where embedded engines keep their files (PGlite)'],
  logLevel: ['AIRWAVES_LOG_LEVEL', z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'), 'pino log level'],
  apiKey: ['AIRWAVES_API_KEY', secret.optional(), 'admin API key (server-side publish, admin routes, admin sign-in; at least 32 bytes); unset: generated on first start into <data dir>/secrets.json'],
  jwtSecret: ['AIRWAVES_JWT_SECRET', z.union([z.literal(''), secret]).default(''), 'HS256 secret for client tokens (at least 32 bytes); empty: generated on first start into <data dir>/secrets.json'],
  loginRatePerMinute: ['AIRWAVES_LOGIN_RATE', positiveInt.default(20), 'sign-in and demo-login requests per minute from one IP address'],
  demo: ['AIRWAVES_DEMO', bool.default(false), 'demo mode: demo logins for a first look; binds to 127.0.0.1 unless AIRWAVES_HOST is set'],
  allowAnonymous: ['AIRWAVES_ALLOW_ANONYMOUS', bool.default(true), 'accept connections without a token (namespaces still decide what anonymous clients may do)'],
  maxConnectionsPerIp: ['AIRWAVES_MAX_CONNECTIONS_PER_IP', positiveInt.default(10_000), 'WebSocket connections accepted from one IP address'],
  maxFrameBytes: ['AIRWAVES_MAX_FRAME_BYTES', positiveInt.default(1024 * 1024), 'largest inbound WebSocket frame; larger closes with 1009'],
  maxSubscriptionsPerClient: ['AIRWAVES_MAX_SUBSCRIPTIONS', positiveInt.default(1000), 'channels one connection may subscribe to'],
  publishRatePerSecond: ['AIRWAVES_PUBLISH_RATE', positiveInt.default(200), 'client publishes per second (token bucket refill; burst is twice this)'],
  publishBytesPerSecond: ['AIRWAVES_PUBLISH_BYTES_RATE', positiveInt.default(1024 * 1024), 'client publish bytes per second'],
  commandRatePerSecond: ['AIRWAVES_COMMAND_RATE', positiveInt.default(500), 'client commands of any kind per second'],
  outboundQueueMessages: ['AIRWAVES_OUTBOUND_QUEUE_MESSAGES', positiveInt.default(4096), 'messages queued for a client before its slow-consumer policy applies'],
  hubFlushSliceMs: ['AIRWAVES_HUB_FLUSH_SLICE_MS', z.coerce.number().min(0).max(1000).default(4), 'a flush pass that has written to sockets for this long (ms) yields to new publications and reads, and goes on in the next turn'],
  outboundQueueBytes: ['AIRWAVES_OUTBOUND_QUEUE_BYTES', positiveInt.default(4 * 1024 * 1024), 'bytes queued for one client before its slow-consumer policy applies (its socket buffer is capped apart, at half this up to 1 MB)'],
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
  ],
  namespaces: [
    'AIRWAVES_NAMESPACES',
    z.array(namespaceConfigSchema).prefault([{ name: 'chat', historySize: 500, presence: true }]),
    'extra hub namespaces for your own applications (JSON array; the default "chat" makes the README examples work, and setting this replaces it)',
  ],
  redisUrl: [
    'AIRWAVES_REDIS_URL',
    z
      .string()
      .refine((v) => v.split(',').every((u) => URL.canParse(u.trim())), 'one Redis URL, or several separated by commas')
      .optional(),
    'Redis URL: switches the hub engine and event log to Redis; several comma-separated URLs shard channels over them by consistent hash (the first also holds the event log and flags)',
  ],
  nodeId: ['AIRWAVES_NODE_ID', z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/).optional(), 'stable id of this node in a cluster (default: host name and port)'],
  databaseUrl: ['DATABASE_URL', z.string().optional(), 'PostgreSQL URL; unset uses embedded PGlite under the data directory'],
  presenceTtlMs: ['AIRWAVES_PRESENCE_TTL_MS', positiveInt.default(15_000), 'with Redis: how long a node\'s clients stay in presence lists after the node stops refreshing them (it refreshes every third of this)'],
  clusterLocalDatabase: ['AIRWAVES_CLUSTER_LOCAL_DATABASE', bool.default(false), 'with Redis: let each node keep its own embedded database (only for nodes whose apps keep no shared state, e.g. tests and benchmarks)'],
  radioEnabled: ['AIRWAVES_RADIO_ENABLED', bool.default(true), 'run the radio app\'s stations (each composes and synthesises while anyone listens)'],
  radioRestAfterMs: ['AIRWAVES_RADIO_REST_AFTER_MS', z.coerce.number().int().min(1000).default(30_000), 'a station nobody has listened to for this long stops composing and synthesising until a listener asks for it (ms)'],
  radioStations: [
    'AIRWAVES_RADIO_STATIONS',
    z
      .array(z.object({ id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'lowercase letters, digits and -'), seed: z.number().int().min(0).max(2 ** 31 - 1), mood: z.enum(['calm', 'dusk', 'drift']), title: z.string().max(80).optional() }))
      .min(1)
      .max(8)
      .refine((a) => new Set(a.map((s) => s.id)).size === a.length, 'station ids must be unique')
      .default([{ id: 'calm', seed: 7, mood: 'calm' }, { id: 'dusk', seed: 23, mood: 'dusk' }]),
    'radio stations (JSON array of {id, seed, mood: calm|dusk|drift, title?})',
  ],
  eventTransportUseRedisStreams: ['EVENT_TRANSPORT_USE_REDIS_STREAMS', bool.default(true), 'with Redis: publish durable events through Redis Streams (off: over HTTP to a hub node)'],
  eventTransportRedisPercentage: ['EVENT_TRANSPORT_REDIS_PERCENTAGE', z.coerce.number().int().min(0).max(100).default(100), 'share of rooms (0-100, stable per room) whose events use Redis Streams'],
  eventTransportFallbackToHttp: ['EVENT_TRANSPORT_FALLBACK_TO_HTTP', bool.default(true), 'publish events over HTTP while Redis Streams are unreachable'],
  eventTransportDualWrite: ['EVENT_TRANSPORT_DUAL_WRITE', bool.default(false), 'publish every event through both Redis Streams and HTTP (cut-over; the hub dedupes by event id)'],
  eventTransportHttpUrls: ['EVENT_TRANSPORT_HTTP_URLS', z.string().optional(), 'comma-separated hub node URLs for HTTP event publishing (default: this node)'],
  eventStreams: ['EVENT_TRANSPORT_STREAMS', z.record(z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/), z.number().int().min(1).max(100_000_000)).default({ chat: 10_000, ticket: 5_000, remote: 1_000 }), 'event families and the approximate MAXLEN of their streams (JSON object)'],
  eventMaxDeliveries: ['EVENT_TRANSPORT_MAX_DELIVERIES', positiveInt.default(5), 'deliveries of one event before it is moved to the dead-letter stream'],
  liveRtmpEnabled: ['AIRWAVES_LIVE_RTMP_ENABLED', bool.default(true), 'run the live app\'s embedded RTMP listener (off when nginx-rtmp does ingest)'],
  liveRtmpPort: ['AIRWAVES_LIVE_RTMP_PORT', port.default(1935), 'TCP port of the embedded RTMP listener (0 picks a free port)'],
  liveIngestUrl: ['AIRWAVES_LIVE_INGEST_URL', z.string().regex(/^rtmps?:\/\//, 'an rtmp:// URL').optional(), 'ingest URL shown to streamers, without the key (default rtmp://<host>:<RTMP port>/live)'],
  livePartTargetMs: ['AIRWAVES_LIVE_PART_MS', z.coerce.number().int().min(100).max(2000).default(250), 'LL-HLS part target duration (ms)'],
  liveSegmentTargetMs: ['AIRWAVES_LIVE_SEGMENT_MS', z.coerce.number().int().min(500).max(10_000).default(1000), 'shortest segment (ms); segments end at the first keyframe after it'],
  liveViewerTimeoutMs: ['AIRWAVES_LIVE_VIEWER_TIMEOUT_MS', z.coerce.number().int().min(1000).max(300_000).default(6000), 'an HLS/DASH viewer without WebSocket leaves the count after this long without a manifest request'],
  liveSampleIntervalMs: ['AIRWAVES_LIVE_SAMPLE_MS', z.coerce.number().int().min(250).max(60_000).default(5000), 'how often each live stream\'s viewers and ingest health are sampled into its history'],
  liveKeyFailuresPerMinute: ['AIRWAVES_LIVE_KEY_FAILURES_PER_MINUTE', positiveInt.default(10), 'bad stream keys one IP address may try per minute before its publishes are refused unchecked'],
  marketEnabled: ['AIRWAVES_MARKET_ENABLED', bool.default(true), 'run the market app\'s venue connections (and, with the simulator, the simulated venues)'],
  marketVenues: [
    'AIRWAVES_MARKET_VENUES',
    z
      .preprocess((v) => (typeof v === 'string' && v.trim().startsWith('{') ? parseJsonOr(v) : v), z.union([
        z.literal('simulator'),
        z
          .object({
            binance: z.object({ ws: z.string().url(), rest: z.string().url() }).optional(),
            coinbase: z.object({ ws: z.string().url() }).optional(),
            kraken: z.object({ ws: z.string().url() }).optional(),
          })
          .strict(),
      ]))
      .default('simulator'),
    'market venues: "simulator" (built in, no internet) or JSON {binance:{ws,rest}, coinbase:{ws}, kraken:{ws}} with the venues\' URLs',
  ],
  marketSymbols: ['AIRWAVES_MARKET_SYMBOLS', z.string().regex(/^[A-Z0-9]{2,10}-[A-Z0-9]{2,10}(,[A-Z0-9]{2,10}-[A-Z0-9]{2,10})*$/, 'comma-separated BASE-QUOTE symbols').default('BTC-USDT,ETH-USDT,SOL-USDT'), 'market symbols to keep books for (comma-separated, e.g. BTC-USDT,ETH-USDT)'],
  marketSimRate: ['AIRWAVES_MARKET_SIM_RATE', z.coerce.number().min(0).max(100_000).default(2), 'simulator book updates per second per venue and symbol (a calm demo feed by default: the idle server stays idle; raise it to load the pipeline)'],
  marketSimFaults: ['AIRWAVES_MARKET_SIM_FAULTS', z.record(z.string(), z.number().min(0).max(1)).optional(), 'simulator fault probabilities for every venue (JSON: gap, duplicate, reorder, staleSnapshot, checksumCorruption, disconnectPerSecond, burstPerSecond)'],
  marketPoolDebug: ['AIRWAVES_MARKET_POOL_DEBUG', bool.default(false), 'market object pools track stacks, fail loudly on double release and poison released objects'],
  llmBaseUrl: ['LLM_BASE_URL', z.string().url().optional(), 'OpenAI-compatible endpoint (POST <url>/v1/chat/completions) for studio generation; unset uses the built-in offline generator'],
  llmModel: ['LLM_MODEL', z.string().min(1).default('gpt-4o-mini'), 'model name sent to LLM_BASE_URL'],
  llmApiKey: ['LLM_API_KEY', z.string().optional(), 'bearer token sent to LLM_BASE_URL'],
} as const satisfies Record<string, readonly [string, z.ZodType, string]>;

type Fields = typeof CONFIG_FIELDS;
export type AirwavesConfig = { [K in keyof Fields]: z.output<Fields[K][1]> };

/** The first Redis URL of `AIRWAVES_REDIS_URL` (event log, flags: one place for the whole cluster). */
export function primaryRedisUrl(redisUrl: string): string {
  return redisUrl.split(',')[0].trim();
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/** Fields whose environment value is JSON rather than a scalar. */
const JSON_FIELDS = new Set<keyof Fields>(['namespaces', 'eventStreams', 'radioStations', 'marketSimFaults']);
/** Fields where an empty variable means "none" rather than "unset" (AIRWAVES_APPS= runs the hub alone). */
const EMPTY_MEANS_NONE = new Set<keyof Fields>(['apps']);
/** Fields whose value is never echoed in an error message. */
const SECRET_FIELDS = new Set<keyof Fields>(['apiKey', 'jwtSecret', 'llmApiKey']);

/**
 * Builds the configuration from `env` (default process.env) and the file named by
 * `AIRWAVES_CONFIG`; environment wins over file, explicit `overrides` win over both.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<AirwavesConfig> = {}): AirwavesConfig {
  const problems: string[] = [];
  let fileValues: Record<string, unknown> = {};
  const file = env.AIRWAVES_CONFIG;
  if (file) {
    try {
      fileValues = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
      if (typeof fileValues !== 'object' || fileValues === null || Array.isArray(fileValues)) {
        problems.push(`AIRWAVES_CONFIG (${file}): expected a JSON object`);
        fileValues = {};
      }
    } catch (err) {
      problems.push(`AIRWAVES_CONFIG (${file}): ${(err as Error).message}`);
    }
  }
  const known = new Set(Object.keys(CONFIG_FIELDS));
  for (const key of Object.keys(fileValues)) {
    if (!known.has(key)) problems.push(`AIRWAVES_CONFIG: unknown field "${key}"`);
  }

  const out: Record<string, unknown> = {};
  for (const [field, [envName, schema]] of Object.entries(CONFIG_FIELDS) as [keyof Fields, Fields[keyof Fields]][]) {
    let raw: unknown = undefined;
    let source = `${envName}`;
    if (field in overrides) {
      raw = (overrides as Record<string, unknown>)[field];
      source = `option ${field}`;
    } else if (env[envName] !== undefined && (env[envName] !== '' || EMPTY_MEANS_NONE.has(field))) {
      raw = env[envName];
      if (JSON_FIELDS.has(field)) {
        try {
          raw = JSON.parse(raw as string);
        } catch (err) {
          problems.push(`${envName}: expected JSON (${(err as Error).message})`);
          continue;
        }
      }
    } else if (field in fileValues) {
      raw = fileValues[field];
      source = `AIRWAVES_CONFIG field "${field}"`;
    }
    const parsed = (schema as z.ZodType).safeParse(raw);
    if (parsed.success) out[field] = parsed.data;
    else {
      for (const issue of parsed.error.issues) {
        const where = issue.path.length ? `${source} at ${issue.path.join('.')}` : source;
        problems.push(`${where}: ${issue.message}${raw !== undefined && typeof raw !== 'object' && !SECRET_FIELDS.has(field) ? ` (got "${String(raw)}")` : ''}`);
      }
    }
  }
  if (problems.length) throw new ConfigError(problems);
  return out as AirwavesConfig;
}

/**
 * What makes a configuration unfit to run as a cluster node (`airwaves serve` refuses to start
 * on any of these): the embedded database is one node's, so tickets written on one node would be
 * invisible on the others; and the HTTP fallback between nodes authenticates with the API key
 * every node shares, so without one every fallback publish would be refused.
 */
export function clusterProblems(config: AirwavesConfig): string[] {
  if (!config.redisUrl) return [];
  const problems: string[] = [];
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

/** The configuration reference as Markdown, generated from CONFIG_FIELDS so docs never drift. */
export function configReference(): string {
  const defaults = loadConfig({});
  const rows = Object.entries(CONFIG_FIELDS).map(([field, [envName, , doc]]) => {
    const value = (defaults as Record<string, unknown>)[field];
    const shown = value === undefined ? '—' : `\`${JSON.stringify(value)}\``;
    return `| \`${envName}\` | \`${field}\` | ${shown} | ${doc} |`;
  });
  return ['| variable | file field | default | meaning |', '|---|---|---|---|', ...rows].join('\n');
}
