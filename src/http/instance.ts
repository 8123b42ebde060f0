/**
 * @module http/instance
 * The Fastify instance every part of the server answers from, built one way: our error shape,
 * security headers, per-route rate limits, the auth hook (every route declares who may use it),
 * /internal routes kept out of the API docs, and the OpenAPI document of its routes. The server
 * builds one for its core routes (and, without serving while starting, the apps too); serving
 * while starting, one more per app, so that each app serves as soon as it is in
 * (http/starting-server).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import Fastify, { type FastifyInstance, type FastifyServerFactory } from 'fastify';
import swagger from '@fastify/swagger';
import helmet from 'helmet';
import rateLimit from '@fastify/rate-limit';
import type { Logger } from '../core/logger.js';
import { httpAuth } from '../auth/index.js';
import { installErrorHandler, rateLimitError } from './errors.js';
import { CONTENT_SECURITY_POLICY } from './security-headers.js';
import { hideInternalRoutes } from './internal-routes.js';
import { SchemaWarmup, lazySchemaCompilers } from './lazy-schema-compilers.js';

export interface HttpInstanceOptions {
  logger: Logger;
  /** The server's log level: request lines are logged at debug and trace only. */
  logLevel: string;
  jwtSecret: string;
  apiKey: string;
  /** Shares one Node HTTP server between instances (http/starting-server). */
  serverFactory?: FastifyServerFactory;
  /** False: the caller sets the not-found answer itself (the core's knows which apps are starting). */
  notFound?: boolean;
  /** How long one plugin (an app's registration) may take; 0: no limit (AIRWAVES_APP_START_TIMEOUT_MS). */
  pluginTimeoutMs?: number;
}

/**
 * The security headers every response carries, as `[name, value, name, value, …]` (names in lower
 * case, as Node reports them): what helmet sets with our policy, recorded once when this module
 * loads. Every header is fixed (no per-request nonce), so one list serves every answer: Fastify's
 * onRequest hook sets it on each reply, and a door that answers ahead of Fastify (the live app's
 * playback front door) writes the same list, so both doors send the same headers from the first
 * request on. (helmet also removes X-Powered-By, which neither Node nor Fastify ever sets.)
 */
export const SECURITY_HEADERS: readonly string[] = recordSecurityHeaders();

function recordSecurityHeaders(): string[] {
  const middleware = helmet({ contentSecurityPolicy: { useDefaults: false, directives: CONTENT_SECURITY_POLICY }, crossOriginEmbedderPolicy: false });
  const headers = new Map<string, string>();
  const recorder = {
    setHeader: (name: string, value: unknown) => void headers.set(name.toLowerCase(), String(value)),
    removeHeader: (name: string) => void headers.delete(name.toLowerCase()),
  };
  let done = false;
  middleware({} as IncomingMessage, recorder as unknown as ServerResponse, (err?: unknown) => {
    if (err) throw err;
    done = true;
  });
  // A policy with a per-request part (a nonce function) would need the real request and an answer later.
  if (!done) throw new Error('http/instance: helmet did not set the security headers synchronously');
  return [...headers].flat();
}

const warmups = new WeakMap<FastifyInstance, SchemaWarmup>();

/** The instance's background compile of its routes' schemas (http/lazy-schema-compilers), for the server to start once it has started. */
export function schemaWarmupOf(http: FastifyInstance): SchemaWarmup {
  return warmups.get(http)!;
}

export async function createHttpInstance(options: HttpInstanceOptions): Promise<FastifyInstance> {
  const warmup = new SchemaWarmup();
  const http = Fastify({
    ...(options.serverFactory ? { serverFactory: options.serverFactory } : {}),
    // Request lines only at debug: under load they would drown everything else.
    loggerInstance: options.logger.child({ module: 'http' }, { level: ['debug', 'trace'].includes(options.logLevel) ? options.logLevel : 'warn' }),
    bodyLimit: 8 * 1024 * 1024,
    // An app's registration opens the database and runs its migrations: on a busy or CPU-limited
    // machine that takes longer than Fastify's 10 s default, and the node would exit at start.
    // A start that truly hangs is the orchestrator's to end (the startup probe, docs/deploy.md).
    pluginTimeout: options.pluginTimeoutMs ?? 120_000,
    // Each route's schemas are compiled on its first request, not at start (http/lazy-schema-compilers).
    schemaController: { compilersFactory: lazySchemaCompilers(warmup) },
  }) as unknown as FastifyInstance;
  warmups.set(http, warmup);
  installErrorHandler(http, { notFound: options.notFound });
  // Security headers on every response; the web UIs load scripts from files only. The list is
  // recorded once (SECURITY_HEADERS): @fastify/helmet built helmet's handler again for every
  // request (CSP parsing included), a tenth of the CPU of a playlist answer.
  http.addHook('onRequest', (_req, reply, done) => {
    const raw = reply.raw;
    for (let i = 0; i < SECURITY_HEADERS.length; i += 2) raw.setHeader(SECURITY_HEADERS[i]!, SECURITY_HEADERS[i + 1]!);
    done();
  });
  // Per-route limits only (login endpoints declare theirs); the studio adds its own global one.
  await http.register(rateLimit, { global: false, errorResponseBuilder: rateLimitError });
  // Every route registered from here on declares its rule; the hook enforces it before validation.
  await http.register(httpAuth, { jwtSecret: options.jwtSecret, apiKey: options.apiKey });
  await http.register(swagger, {
    openapi: {
      info: { title: 'Airwaves API', version: '1.0.0', description: 'HTTP API of the Airwaves real-time platform' },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' } } },
    },
  });
  hideInternalRoutes(http);
  return http;
}
