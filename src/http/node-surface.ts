/**
 * @module http/node-surface
 * What every Fastify instance of a node serves, whichever it is: the full instance, or the one
 * that answers while the apps start (./starting-server.ts). The error shape, security headers,
 * rate limits (one counter per route for both instances, ./rate-limit-store.ts), the auth hook,
 * the operator and status routes, the hub's HTTP API (channels, sign-in, publish, events), the
 * browser pages and the built UIs; the API docs on the full instance. One function, so the two
 * instances cannot drift apart; the apps are the full instance's own (src/server.ts).
 */
import type { FastifyInstance } from 'fastify';
import helmet from '@fastify/helmet';
import rateLimit, { type FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { CoreConfig } from '../core/config.js';
import type { Registry } from '../core/metrics.js';
import type { Hub } from '../hub/hub.js';
import type { EventTransport } from '../events/publisher-factory.js';
import { httpAuth, type AppAuth } from '../auth/index.js';
import { registerAuthRoutes } from './auth-routes.js';
import { registerBrowserPages } from './browser-pages.js';
import { registerChannelRoutes } from './channel-routes.js';
import { registerCoreRoutes } from './core-routes.js';
import { installErrorHandler, rateLimitError } from './errors.js';
import { registerEventRoutes } from './event-routes.js';
import { hideInternalRoutes } from './internal-routes.js';
import type { AppSummary } from './landing-page.js';
import { registerPublishRoutes } from './publish-routes.js';
import { CONTENT_SECURITY_POLICY } from './security-headers.js';
import { registerWebFiles } from './web-files.js';

export interface NodeSurfaceDeps {
  hub: Hub;
  metrics: Registry;
  config: CoreConfig;
  /** The landing page and /api/v1/status read this list per request. */
  apps: AppSummary[];
  auth: AppAuth;
  events: EventTransport;
  /** Where the built UIs are (dist/web). */
  webRoot: string;
  /** One per node (./rate-limit-store.ts), given to every instance: a client is counted once. */
  rateLimitStore: FastifyRateLimitStoreCtor;
}

export interface NodeSurfaceOptions {
  /** The API docs: /docs and /openapi.json, built from every route registered after this call. */
  docs: boolean;
  /**
   * The instance that serves while the apps start: the apps not serving yet, for /readyz and the
   * status; that instance answers what it does not know itself (no catalogue not-found).
   */
  starting?: () => string[];
}

/** Registers what every instance of a node serves, in the order it must be registered. */
export async function registerNodeSurface(http: FastifyInstance, deps: NodeSurfaceDeps, options: NodeSurfaceOptions): Promise<void> {
  const { hub, config, auth, events } = deps;
  installErrorHandler(http, { notFound: options.starting === undefined });
  // Security headers on every response; the web UIs load scripts from files only.
  await http.register(helmet, { contentSecurityPolicy: { useDefaults: false, directives: CONTENT_SECURITY_POLICY }, crossOriginEmbedderPolicy: false });
  // Per-route limits only (login endpoints declare theirs); the studio adds its own global one.
  await http.register(rateLimit, { global: false, errorResponseBuilder: rateLimitError, store: deps.rateLimitStore });
  // Every route registered from here on declares its rule; the hook enforces it before validation.
  await http.register(httpAuth, { jwtSecret: config.jwtSecret, apiKey: config.apiKey! });
  if (options.docs) {
    await http.register(swagger, {
      openapi: {
        info: { title: 'Airwaves API', version: '1.0.0', description: 'HTTP API of the Airwaves real-time platform' },
        components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' } } },
      },
    });
    hideInternalRoutes(http);
  }
  registerCoreRoutes(http, { hub, metrics: deps.metrics, apps: deps.apps, config, starting: options.starting });
  registerBrowserPages(http);
  // The hub's own HTTP surface: the hub runs before the apps, so both instances answer it.
  registerChannelRoutes(http, { hub });
  registerAuthRoutes(http, { config, jwtSecret: config.jwtSecret, apiKey: config.apiKey!, auth });
  registerPublishRoutes(http, { hub });
  registerEventRoutes(http, { hub, config, events });
  // Built UIs: dist/web/<app>/index.html at /<app>/ and Vite's shared, hashed files at /assets/.
  // Plugins' own routes (API docs, static UIs) are public: they serve files, not data.
  await registerWebFiles(http, deps.webRoot, options.docs ? (scope) => scope.register(swaggerUi, { routePrefix: '/docs' }) as unknown as Promise<void> : undefined);
  if (options.docs) http.get('/openapi.json', { config: { auth: 'public' }, schema: { hide: true } }, async () => http.swagger());
}
