/**
 * @module server
 * The composition root: reads configuration, builds the engine, the hub, the HTTP server and the
 * apps, and wires the lifecycle. Everything else lives in its own module.
 */
import { hostname } from 'node:os';
import { existsSync } from 'node:fs';
import { basename, dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import fastifyStatic from '@fastify/static';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import { loadConfig, type AirwavesConfig } from './config.js';
import { MemoryMonitor } from './core/memory-monitor.js';
import { createLogger, type Logger } from './core/logger.js';
import { createHubMetrics, createRegistry, type Registry } from './core/metrics.js';
import { Hub } from './hub/hub.js';
import type { HubEngine } from './hub/engines/engine.js';
import type { PresenceStore } from './hub/engines/presence.js';
import { MemoryEngine } from './hub/engines/memory/memory-engine.js';
import { attachWebSocketServer } from './hub/ws-server.js';
import { loadApps } from './apps/catalog.js';
import { apiPrefix, type AirwavesApp } from './apps/app.js';
import { createAppAuth, httpAuth, resolveSecrets } from './auth/index.js';
import { registerAuthRoutes } from './http/auth-routes.js';
import { registerCoreRoutes } from './http/core-routes.js';
import { installErrorHandler } from './http/errors.js';
import { CONTENT_SECURITY_POLICY } from './http/security-headers.js';
import { registerPublishRoutes } from './http/publish-routes.js';
import { registerEventRoutes } from './http/event-routes.js';
import { registerBrowserPages } from './http/browser-pages.js';
import { hideInternalRoutes } from './http/internal-routes.js';
import { registerChannelRoutes } from './http/channel-routes.js';
import { createEventTransport } from './events/publisher-factory.js';
import { openDatabase, type Database } from './db/database.js';

export interface ServerOptions {
  config?: Partial<AirwavesConfig>;
  env?: NodeJS.ProcessEnv;
  apps?: AirwavesApp[];
  logger?: Logger;
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

  const http = Fastify({
    // Request lines only at debug: under load they would drown everything else.
    loggerInstance: logger.child({ module: 'http' }, { level: ['debug', 'trace'].includes(config.logLevel) ? config.logLevel : 'warn' }),
    bodyLimit: 8 * 1024 * 1024,
    // An app's registration opens the database and runs its migrations: on a busy or CPU-limited
    // machine that takes longer than Fastify's 10 s default, and the node would exit at start.
    // A start that truly hangs is the orchestrator's to end (the startup probe, docs/deploy.md).
    pluginTimeout: 120_000,
  }) as unknown as FastifyInstance;
  installErrorHandler(http);
  // Security headers on every response; the web UIs load scripts from files only.
  await http.register(helmet, { contentSecurityPolicy: { useDefaults: false, directives: CONTENT_SECURITY_POLICY }, crossOriginEmbedderPolicy: false });
  // Per-route limits only (login endpoints declare theirs); the studio adds its own global one.
  await http.register(rateLimit, {
    global: false,
    errorResponseBuilder: (_req, c) => ({ statusCode: 429, error: 'rate_limited', message: `too many requests: ${c.max} per minute; retry in ${Math.ceil(c.ttl / 1000)} s` }),
  });
  // Every route registered from here on declares its rule; the hook enforces it before validation.
  await http.register(httpAuth, { jwtSecret: config.jwtSecret, apiKey: config.apiKey! });
  const auth = createAppAuth({ jwtSecret: config.jwtSecret, demo: config.demo, loginRatePerMinute: config.loginRatePerMinute });
  await http.register(swagger, {
    openapi: {
      info: { title: 'Airwaves API', version: '1.0.0', description: 'HTTP API of the Airwaves real-time platform' },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' } } },
    },
  });
  const closers: (() => Promise<void> | void)[] = [];
  // Process memory and GC pauses, whichever apps run (the radio soak and the memory alerts read them).
  const memory = new MemoryMonitor({ registry: metrics, logger, intervalMs: 10_000 }).start();
  closers.push(() => memory.stop());
  let database: Promise<Database> | undefined;
  // Opened on the first app's call only: a hub-only server never pays for PGlite. Its cost is logged once.
  const getDatabase = () =>
    (database ??= (async () => {
      const started = performance.now();
      const db = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
      logger.info({ ms: Math.round(performance.now() - started), engine: config.databaseUrl ? 'postgresql' : 'pglite' }, 'database ready');
      return db;
    })());
  // Only the enabled apps are imported: a hub-only server never loads an app's module graph.
  const appList = options.apps ?? (await loadApps(config.apps));
  hideInternalRoutes(http);
  registerCoreRoutes(http, { hub, metrics, apps: appList, config });
  registerBrowserPages(http);
  registerChannelRoutes(http, { hub });
  registerAuthRoutes(http, { config, jwtSecret: config.jwtSecret, apiKey: config.apiKey!, auth });
  registerPublishRoutes(http, { hub });
  registerEventRoutes(http, { hub, config, events });

  // Built UIs: dist/web/<app>/index.html at /<app>/ and Vite's shared, hashed files at /assets/.
  // Looked up per request, so a UI built while the server runs is served at once.
  const web = webRoot();
  if (!existsSync(web)) logger.info({ web }, 'web UIs not built yet (npm run build); they are served as soon as they exist');
  // Plugins' own routes (API docs, static UIs) are public: they serve files, not data.
  await http.register(async (publicScope) => {
    publicScope.addHook('onRoute', (route) => {
      route.config = { ...route.config, auth: route.config?.auth ?? 'public' };
    });
    await publicScope.register(swaggerUi, { routePrefix: '/docs' });
    await publicScope.register(fastifyStatic, {
      root: web,
      suppressWarning: true,
      prefix: '/',
      wildcard: true,
      redirect: true,
      index: ['index.html'],
      decorateReply: false,
      setHeaders: (reply, file) => {
        if (file.includes(`${sep}assets${sep}`)) reply.header('cache-control', 'public, max-age=31536000, immutable');
      },
    });
  });

  // Each app in its own scope under /api/v1/<app>: its routes are relative, its hooks stay inside.
  for (const app of appList) {
    await http.register(
      async (scope) => {
        await app.register({ http: scope, hub, config, auth, logger: logger.child({ app: app.name }), metrics, events: events.publisher, database: getDatabase, onClose: (fn) => closers.push(fn) });
      },
      { prefix: apiPrefix(app) },
    );
  }
  http.get('/openapi.json', { config: { auth: 'public' }, schema: { hide: true } }, async () => http.swagger());

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
    async listen() {
      await http.listen({ port: config.port, host: config.host! });
      const addr = http.server.address();
      const port = typeof addr === 'object' && addr ? addr.port : config.port;
      const host = config.host === undefined || config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
      server.url = `http://${host}:${port}`;
      // Tools that find the directory locked (studio:seed) reach this server through the lock file.
      if (database) (await database).lock?.update({ url: server.url });
      logger.info({ url: server.url, engine: hub.engineName, node: nodeId, apps: appList.map((a) => a.name) }, 'airwaves listening');
      return server.url;
    },
    close() {
      closing ??= (async () => {
        // Stop accepting HTTP and upgrades first, then tell WebSocket clients to reconnect elsewhere.
        const httpClosed = http.close();
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
