/**
 * @module server
 * The composition root: reads configuration, builds the engine, the hub, the HTTP server and the
 * apps, and wires the lifecycle. Everything else lives in its own module.
 */
import type { IncomingMessage } from 'node:http';
import { hostname } from 'node:os';
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { loadConfig, type AirwavesConfig } from './config.js';
import { sentinelsOf } from './core/config.js';
import { LoopLagMonitor, isQuietRequest } from './core/loop-lag.js';
import { MemoryMonitor } from './core/memory-monitor.js';
import { createLogger, type Logger } from './core/logger.js';
import { createHubMetrics, createRegistry, type Registry } from './core/metrics.js';
import { Hub } from './hub/hub.js';
import type { HubEngine } from './hub/engines/engine.js';
import type { PresenceStore } from './hub/engines/presence.js';
import { MemoryEngine } from './hub/engines/memory/memory-engine.js';
import { attachWebSocketServer } from './hub/ws-server.js';
import { appManifests, loadApp } from './apps/catalog.js';
import { apiPrefix, apiSegmentOf, type AirwavesApp, type AppManifest } from './apps/app.js';
import type { AppName } from './core/config.js';
import { createAppAuth, resolveSecrets } from './auth/index.js';
import { registerAuthRoutes } from './http/auth-routes.js';
import { registerCoreRoutes } from './http/core-routes.js';
import { registerPublishRoutes } from './http/publish-routes.js';
import { registerEventRoutes } from './http/event-routes.js';
import { registerBrowserPages } from './http/browser-pages.js';
import { registerWebFiles } from './http/web-files.js';
import { HandoverServer, installStartingNotFound, mergeOpenApi } from './http/starting-server.js';
import { createHttpInstance, schemaWarmupOf } from './http/instance.js';
import { registerChannelRoutes } from './http/channel-routes.js';
import { createEventTransport } from './events/publisher-factory.js';
import type { Database } from './db/database.js';

/**
 * Connections the kernel queues before `accept`. Node's default (511) is full when a few thousand
 * viewers join within a second (a stream going live, a link shared): the kernel drops each SYN
 * past it and the client's TCP retries 1 s, then 3 s later (live10: 988 of 1,500 probe connections
 * waited > 900 ms at 511, none at 4,096; docs/live.md). The kernel caps it at net.core.somaxconn.
 */
export const LISTEN_BACKLOG = 4096;

/** From every app started to the background compile of the routes' schemas: the start's own probes come first. */
const SCHEMA_WARMUP_DELAY_MS = 1000;

export interface ServerOptions {
  config?: Partial<AirwavesConfig>;
  env?: NodeJS.ProcessEnv;
  apps?: AirwavesApp[];
  logger?: Logger;
  /**
   * Open the port as soon as the hub runs, before the apps have started (the CLI does): health,
   * readiness, metrics, the landing page and the UIs answer at once, each app's routes 503
   * `app_starting` until every app is in (http/starting-server). Without it, `listen()` waits
   * for everything, as tests want.
   */
  serveWhileStarting?: boolean;
  /** Ms from every app started to the background compile of the routes' schemas (default 1 s); null: never (a test of first-use compiling). */
  schemaWarmupDelayMs?: number | null;
}

export interface AirwavesServer {
  config: AirwavesConfig;
  http: FastifyInstance;
  hub: Hub;
  metrics: Registry;
  logger: Logger;
  /** Base URL once listening, e.g. http://127.0.0.1:8080 */
  url: string;
  /** Set on the first start: the secrets file this start generated (the admin key is in it and in config.apiKey). */
  generatedSecrets: string | null;
  listen(): Promise<string>;
  /** Resolves once every app serves (at once without `serveWhileStarting`); rejects if one failed to start. */
  appsStarted: Promise<void>;
  close(): Promise<void>;
}

async function createEngine(config: AirwavesConfig, logger: Logger, nodeId: string, metrics: Registry): Promise<HubEngine> {
  if (!config.redisUrl) return new MemoryEngine();
  const { RedisEngine } = await import('./hub/engines/redis/redis-engine.js');
  const { ShardedEngine, redisShardUrls } = await import('./hub/engines/redis/shards.js');
  const urls = redisShardUrls(config.redisUrl);
  const settings = { sentinels: sentinelsOf(config), nodeId, logger, metrics, metaTtlMs: config.redisChannelTtlMs, dedupeTtlMs: config.redisDedupeTtlMs, waitReplicas: config.redisWaitReplicas, waitTimeoutMs: config.redisWaitTimeoutMs };
  // A Redis Cluster: the URLs are its seeds, and one engine spans it (the cluster shards by slot).
  if (config.redisCluster) return new RedisEngine({ ...settings, url: urls[0], clusterSeeds: urls });
  const engines = urls.map((url) => new RedisEngine({ ...settings, url }));
  return engines.length === 1 ? engines[0] : new ShardedEngine(urls, engines);
}

async function createPresence(config: AirwavesConfig, logger: Logger, nodeId: string): Promise<PresenceStore | undefined> {
  if (!config.redisUrl) return undefined; // the hub keeps it in memory
  const { RedisPresence } = await import('./hub/engines/redis/redis-presence.js');
  const { ShardedPresence, redisShardUrls } = await import('./hub/engines/redis/shards.js');
  const urls = redisShardUrls(config.redisUrl);
  if (config.redisCluster) return new RedisPresence({ url: urls[0], clusterSeeds: urls, nodeId, logger, ttlMs: config.presenceTtlMs });
  const stores = urls.map((url) => new RedisPresence({ url, sentinels: sentinelsOf(config), nodeId, logger, ttlMs: config.presenceTtlMs }));
  return stores.length === 1 ? stores[0] : new ShardedPresence(urls, stores);
}

/**
 * Where `npm run build` puts the web UIs (dist/web), whether running from src/ or dist/src/. It
 * may not exist yet: files are looked up per request. Never src/../web, which holds the sources.
 */
export function webRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return basename(dirname(here)) === 'dist' ? join(here, '../web') : join(here, '../dist/web');
}

export async function createServer(options: ServerOptions = {}): Promise<AirwavesServer> {
  const loaded = loadConfig(options.env ?? process.env, options.config ?? {});
  // No public default secret: what is not configured is generated into the data directory once.
  const secrets = resolveSecrets({ jwtSecret: loaded.jwtSecret || undefined, apiKey: loaded.apiKey, dataDir: loaded.dataDir });
  const config: AirwavesConfig = {
    ...loaded,
    jwtSecret: secrets.jwtSecret,
    apiKey: secrets.apiKey,
    // Demo mode hands out demo identities: it stays on this machine unless told otherwise.
    host: loaded.host ?? (loaded.demo ? '127.0.0.1' : '0.0.0.0'),
  };
  const logger = options.logger ?? createLogger(config.logLevel);
  const nodeId = config.nodeId ?? `${hostname()}-${config.port}`;
  const metrics = createRegistry();
  const hubMetrics = createHubMetrics(metrics);
  const engine = await createEngine(config, logger, nodeId, metrics);
  const presence = await createPresence(config, logger, nodeId);
  const hub = new Hub({ config, engine, metrics: hubMetrics, logger, nodeId, presence });
  await hub.start();
  // The HTTP fallback publisher needs this node's own URL, known only once it listens.
  const self: { server?: AirwavesServer } = {};
  const events = await createEventTransport({ config, hub, nodeId, logger, metrics, selfUrl: () => self.server?.url ?? '' });
  await events.start();

  const handover = options.serveWhileStarting ? new HandoverServer() : undefined;
  const instanceOptions = { logger, logLevel: config.logLevel, jwtSecret: config.jwtSecret, apiKey: config.apiKey!, pluginTimeoutMs: config.appStartTimeoutMs };
  // The core routes; serving while starting, each app gets an instance of its own (below).
  const http = await createHttpInstance({ ...instanceOptions, serverFactory: handover?.coreFactory, notFound: false });
  const auth = createAppAuth({ jwtSecret: config.jwtSecret, demo: config.demo, loginRatePerMinute: config.loginRatePerMinute });
  const closers: (() => Promise<void> | void)[] = [];
  // Process memory and GC pauses, whichever apps run (the radio soak and the memory alerts read them).
  const memory = new MemoryMonitor({ registry: metrics, logger, intervalMs: 10_000 }).start();
  closers.push(() => memory.stop());
  // Event-loop lag, sampled while a client is connected or a request (not a probe) came lately.
  const loopLag = new LoopLagMonitor({ registry: metrics, busy: () => hub.connectionCount > 0 });
  http.server.on('request', (req: IncomingMessage) => {
    if (!isQuietRequest(req.url)) loopLag.touch();
  });
  http.server.on('upgrade', () => loopLag.touch());
  closers.push(() => loopLag.stop());
  let database: Promise<Database> | undefined;
  // Opened on the first app's call only: a hub-only server never pays for PGlite. Its cost is logged once.
  const getDatabase = () =>
    (database ??= (async () => {
      const started = performance.now();
      // Imported here: Kysely, pg and PGlite are a large share of the modules a start loads.
      const { openDatabase } = await import('./db/database.js');
      const db = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
      logger.info({ ms: Math.round(performance.now() - started), engine: config.databaseUrl ? 'postgresql' : 'pglite' }, 'database ready');
      // Tools that find the directory locked (studio:seed) reach this server through the lock file.
      if (self.server?.url) db.lock?.update({ url: self.server.url });
      return db;
    })());
  // What is known of each enabled app before its module loads (src/apps/<app>/manifest.ts). Only
  // the enabled apps are imported: a hub-only server never loads an app's module graph; serving
  // while starting, they are imported behind the open port (their modules pull in Kysely and more).
  const manifests: AppManifest[] = options.apps ?? appManifests(config.apps);
  // The landing page and /api/v1/status read this list per request: manifests until loaded.
  const appList: AppManifest[] = [...manifests];
  const loadAppAt = async (index: number): Promise<AirwavesApp> => (appList[index] = options.apps?.[index] ?? (await loadApp(manifests[index]!.name as AppName)));
  // Their hub namespaces are reserved at once: an early subscriber is told to retry, not that they do not exist.
  for (const m of manifests) hub.namespaces.reserve(m.name, m.namespaces ?? []);
  const serving = new Set<string>(handover ? [] : manifests.map((m) => m.name));
  const startingApps = () => manifests.filter((m) => !serving.has(m.name));
  registerCoreRoutes(http, { hub, metrics, apps: appList, config, starting: () => startingApps().map((m) => m.name) });
  registerBrowserPages(http);
  registerChannelRoutes(http, { hub });
  registerAuthRoutes(http, { config, jwtSecret: config.jwtSecret, apiKey: config.apiKey!, auth });
  registerPublishRoutes(http, { hub });
  registerEventRoutes(http, { hub, config, events });
  installStartingNotFound(http, () => startingApps().map((m) => ({ name: m.name, segment: apiSegmentOf(m) })));

  // The OpenAPI document: the core's routes and every app's that serves.
  const appInstances = new Map<string, FastifyInstance>(); // serving while starting: app name → its instance
  const openApi = () => (handover ? mergeOpenApi(http.swagger(), [...appInstances].filter(([name]) => serving.has(name)).map(([, i]) => i.swagger())) : http.swagger());
  // Built UIs: dist/web/<app>/index.html at /<app>/ and Vite's shared, hashed files at /assets/.
  const web = webRoot();
  if (!existsSync(web)) logger.info({ web }, 'web UIs not built yet (npm run build); they are served as soon as they exist');
  // The UIs' files and the API docs' UI (public: files, not data), served once first asked for.
  registerWebFiles(http, { root: web, openApi });
  http.get('/openapi.json', { config: { auth: 'public' }, schema: { hide: true } }, async () => openApi());

  /** Mounts app `index` in its own scope under /api/v1/<app> (its routes are relative, its hooks stay inside). */
  const mountApp = async (instance: FastifyInstance, index: number): Promise<void> => {
    await instance.register(async (scope) => {
      const app = await loadAppAt(index);
      await scope.register(
        async (appScope) => {
          await app.register({ http: appScope, hub, config, auth, logger: logger.child({ app: app.name }), metrics, events: events.publisher, database: getDatabase, onClose: (fn) => closers.push(fn) });
          const missing = hub.namespaces.reservedBy(app.name);
          if (missing.length) throw new Error(`${app.name} declared hub namespaces it did not register: ${missing.join(', ')} (its manifest)`);
        },
        { prefix: apiPrefix(app) },
      );
    });
  };
  if (!handover) for (const index of manifests.keys()) await mountApp(http, index);

  /**
   * Serving while starting: every app at once, each in its own instance, handed over as soon as it
   * is ready. What they share is serialized where it must be (the database opens once, migrations
   * run one at a time: db/database).
   */
  const startApp = async (index: number): Promise<void> => {
    const since = performance.now();
    const manifest = manifests[index]!;
    const instance = await createHttpInstance({ ...instanceOptions, serverFactory: handover!.appFactory(apiSegmentOf(manifest)) });
    appInstances.set(manifest.name, instance);
    await mountApp(instance, index);
    await instance.ready();
    handover!.handOver(apiSegmentOf(manifest));
    serving.add(manifest.name);
    logger.info({ app: manifest.name, ms: Math.round(performance.now() - since) }, 'app serves');
  };
  let appStarts: Promise<void>[] = [];
  let appsStarted: Promise<void> = Promise.resolve();
  let schemaWarmupTimer: NodeJS.Timeout | undefined;
  const warmups = () => [http, ...appInstances.values()].map(schemaWarmupOf);
  const warmSchemas = async (): Promise<void> => {
    const since = performance.now();
    const routes = warmups().reduce((n, w) => n + w.pending, 0);
    for (const warmup of warmups()) await warmup.run();
    logger.debug({ routes, ms: Math.round(performance.now() - since) }, 'route schemas compiled');
  };

  const wss = attachWebSocketServer(http.server, hub, config, logger);
  let closing: Promise<void> | undefined;

  const server: AirwavesServer = {
    config,
    http,
    hub,
    metrics,
    logger,
    url: '',
    generatedSecrets: secrets.generatedInto,
    get appsStarted() {
      return appsStarted;
    },
    async listen() {
      await http.listen({ port: config.port, host: config.host!, backlog: LISTEN_BACKLOG });
      const addr = http.server.address();
      const port = typeof addr === 'object' && addr ? addr.port : config.port;
      const host = config.host === undefined || config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
      server.url = `http://${host}:${port}`;
      if (database) (await database).lock?.update({ url: server.url });
      logger.info({ url: server.url, engine: hub.engineName, node: nodeId, apps: manifests.map((m) => m.name) }, 'airwaves listening');
      if (handover) {
        const since = performance.now();
        // Next turn: the caller's own start-up (the CLI's first-start notice and signal handlers) comes first.
        await new Promise<void>((resolve) => setImmediate(resolve));
        appStarts = manifests.map((_, index) => startApp(index));
        appsStarted = Promise.all(appStarts).then(() => logger.info({ ms: Math.round(performance.now() - since), apps: manifests.map((m) => m.name) }, 'apps started'));
        appsStarted.catch(() => undefined); // the caller decides (the CLI exits)
      }
      // Every app in, a second for the start's own probes: then the routes' schemas compile in the
      // background, so no first request waits for Ajv (http/lazy-schema-compilers).
      const warmupDelayMs = options.schemaWarmupDelayMs === undefined ? SCHEMA_WARMUP_DELAY_MS : options.schemaWarmupDelayMs;
      if (warmupDelayMs !== null) appsStarted.then(() => (schemaWarmupTimer = setTimeout(warmSchemas, warmupDelayMs).unref()), () => undefined);
      return server.url;
    },
    close() {
      closing ??= (async () => {
        // Stop accepting HTTP and upgrades first, then tell WebSocket clients to reconnect elsewhere.
        clearTimeout(schemaWarmupTimer);
        for (const warmup of warmups()) warmup.stop();
        const coreClosed = http.close();
        // Apps still starting finish first: closing the hub and the database under a migration
        // leaves PGlite spinning, with the event loop (and the CLI's forced exit) blocked.
        await Promise.allSettled(appStarts);
        const httpClosed = Promise.all([coreClosed, ...[...appInstances.values()].map((i) => i.close())]);
        await events.close();
        await hub.shutdown();
        wss.close();
        for (const fn of closers.reverse()) await fn();
        if (database) await (await database).close();
        await httpClosed;
      })();
      return closing;
    },
  };
  self.server = server;
  return server;
}
