/**
 * @module server
 * The composition root: reads configuration, builds the engine, the hub, the HTTP server and the
 * apps, and wires the lifecycle. Everything else lives in its own module.
 */
import { hostname } from 'node:os';
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance } from 'fastify';
import { loadConfig, type AirwavesConfig } from './config.js';
import { MemoryMonitor } from './core/memory-monitor.js';
import { createLogger, type Logger } from './core/logger.js';
import { createHubMetrics, createRegistry, type Registry } from './core/metrics.js';
import { Hub } from './hub/hub.js';
import type { HubEngine } from './hub/engines/engine.js';
import type { PresenceStore } from './hub/engines/presence.js';
import { MemoryEngine } from './hub/engines/memory/memory-engine.js';
import { attachWebSocketServer } from './hub/ws-server.js';
import { enabledApps, loadApp } from './apps/catalog.js';
import { apiPrefix, type AirwavesApp } from './apps/app.js';
import { createAppAuth, resolveSecrets } from './auth/index.js';
import { registerNodeSurface, type NodeSurfaceDeps } from './http/node-surface.js';
import { sharedRateLimitStore } from './http/rate-limit-store.js';
import { HandoverServer, createStartingServer } from './http/starting-server.js';
import { createEventTransport } from './events/publisher-factory.js';
import type { Database } from './db/database.js';

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
  const engines = urls.map((url) => new RedisEngine({ url, sentinels: config.redisSentinels, nodeId, logger, metrics, metaTtlMs: config.redisChannelTtlMs, dedupeTtlMs: config.redisDedupeTtlMs, waitReplicas: config.redisWaitReplicas, waitTimeoutMs: config.redisWaitTimeoutMs }));
  return engines.length === 1 ? engines[0] : new ShardedEngine(urls, engines);
}

async function createPresence(config: AirwavesConfig, logger: Logger, nodeId: string): Promise<PresenceStore | undefined> {
  if (!config.redisUrl) return undefined; // the hub keeps it in memory
  const { RedisPresence } = await import('./hub/engines/redis/redis-presence.js');
  const { ShardedPresence, redisShardUrls } = await import('./hub/engines/redis/shards.js');
  const urls = redisShardUrls(config.redisUrl);
  const stores = urls.map((url) => new RedisPresence({ url, sentinels: config.redisSentinels, nodeId, logger, ttlMs: config.presenceTtlMs }));
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
  const events = createEventTransport({ config, hub, nodeId, logger, metrics, selfUrl: () => self.server?.url ?? '' });
  await events.start();

  const handover = options.serveWhileStarting ? new HandoverServer() : undefined;
  const http = Fastify({
    ...(handover ? { serverFactory: handover.fullFactory } : {}),
    // Request lines only at debug: under load they would drown everything else.
    loggerInstance: logger.child({ module: 'http' }, { level: ['debug', 'trace'].includes(config.logLevel) ? config.logLevel : 'warn' }),
    bodyLimit: 8 * 1024 * 1024,
    // An app's registration opens the database and runs its migrations: on a busy or CPU-limited
    // machine that takes longer than Fastify's 10 s default, and the node would exit at start.
    // A start that truly hangs is the orchestrator's to end (the startup probe, docs/deploy.md).
    pluginTimeout: 120_000,
  }) as unknown as FastifyInstance;
  const auth = createAppAuth({ jwtSecret: config.jwtSecret, demo: config.demo, loginRatePerMinute: config.loginRatePerMinute });
  const closers: (() => Promise<void> | void)[] = [];
  // Process memory and GC pauses, whichever apps run (the radio soak and the memory alerts read them).
  const memory = new MemoryMonitor({ registry: metrics, logger, intervalMs: 10_000 }).start();
  closers.push(() => memory.stop());
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
  // Only the enabled apps are imported: a hub-only server never loads an app's module graph.
  // Serving while starting, apps are imported behind the open port (their modules pull in Kysely
  // and more); until then the landing page names them. Otherwise they are imported now.
  const appNames: string[] = options.apps?.map((a) => a.name) ?? enabledApps(config.apps);
  const appList: AirwavesApp[] = options.apps ?? (handover ? appNames.map((name) => ({ name, title: name, description: 'starting…', register: async () => {} })) : await Promise.all(enabledApps(config.apps).map(loadApp)));
  let imported: Promise<AirwavesApp[]> | undefined;
  const appModules = () => (imported ??= options.apps || !handover ? Promise.resolve([...appList]) : Promise.all(enabledApps(config.apps).map(loadApp)));
  const web = webRoot();
  if (!existsSync(web)) logger.info({ web }, 'web UIs not built yet (npm run build); they are served as soon as they exist');
  // What every instance serves (the one serving while the apps start too), with one rate-limit state.
  const surface: NodeSurfaceDeps = { hub, metrics, config, apps: appList, auth, events, webRoot: web, rateLimitStore: sharedRateLimitStore() };
  await registerNodeSurface(http, surface, { docs: true });

  // Each app in its own scope under /api/v1/<app> (known once its module is loaded): its routes
  // are relative, its hooks stay inside.
  for (const index of appNames.keys()) {
    const registering = http.register(async (scope) => {
      const app = (await appModules())[index]!;
      appList[index] = app; // the landing page and /api/v1/status read the list per request
      await scope.register(
        async (appScope) => {
          await app.register({ http: appScope, hub, config, auth, logger: logger.child({ app: app.name }), metrics, events: events.publisher, database: getDatabase, onClose: (fn) => closers.push(fn) });
        },
        { prefix: apiPrefix(app) },
      );
    });
    // Serving while starting: the apps load when the full instance readies, after the port opens.
    if (!handover) await registering;
  }
  const starting = handover ? await createStartingServer({ handover, surface, starting: () => (appsServing ? [] : appNames), logger }) : undefined;
  let appsServing = !handover;
  let appsStarted: Promise<void> = Promise.resolve();

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
      await (starting ?? http).listen({ port: config.port, host: config.host! });
      const addr = http.server.address();
      const port = typeof addr === 'object' && addr ? addr.port : config.port;
      const host = config.host === undefined || config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
      server.url = `http://${host}:${port}`;
      if (database) (await database).lock?.update({ url: server.url });
      logger.info({ url: server.url, engine: hub.engineName, node: nodeId, apps: appNames }, 'airwaves listening');
      if (handover) {
        const since = performance.now();
        // Next turn: the caller's own start-up (the CLI's first-start notice and signal handlers) comes first.
        appsStarted = new Promise<void>((resolve) => setImmediate(resolve)).then(() => http.ready()).then(() => {
          handover.handOver();
          appsServing = true;
          logger.info({ ms: Math.round(performance.now() - since), apps: appNames }, 'apps started');
        });
        appsStarted.catch(() => undefined); // the caller decides (the CLI exits)
      }
      return server.url;
    },
    close() {
      closing ??= (async () => {
        // Stop accepting HTTP and upgrades first, then tell WebSocket clients to reconnect elsewhere.
        const startingClosed = starting?.close();
        // Apps still starting finish first: closing the hub and the database under a migration
        // leaves PGlite spinning, with the event loop (and the CLI's forced exit) blocked.
        await appsStarted.catch(() => undefined);
        const httpClosed = Promise.all([startingClosed, http.close()]);
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
