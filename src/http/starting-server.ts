/**
 * @module http/starting-server
 * Serving while the apps start, each app as soon as it is in. Fastify takes no route once it has
 * started, and an app's routes are declared only after its database is open and migrated (seconds
 * of PGlite, on a busy machine more), so one instance cannot listen before every app is in.
 * Instances share one Node HTTP server instead: the core instance (health, readiness, metrics,
 * status, the hub's API, the landing page, the UIs, the API docs) answers from the moment the hub
 * runs, and each app gets an instance of its own; a request under an app's prefix goes to that
 * app's instance once it is ready, and until then the core answers 503 `app_starting` with
 * Retry-After. WebSocket upgrades go to the hub throughout (attached to the same server).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifyServerFactory } from 'fastify';
import { notFound, wantsHtml } from './browser-pages.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** The first path segment under /api/v1/, where each app's routes live (apps/app apiPrefix). */
function segmentOfUrl(url: string | undefined): string | undefined {
  return /^\/api\/v1\/([^/?#]+)/.exec(url ?? '')?.[1];
}

/** One Node HTTP server: requests go to the core instance, or to an app's once it serves. */
export class HandoverServer {
  readonly server: Server;
  private coreHandler: Handler | undefined;
  private readonly appHandlers = new Map<string, Handler>();
  /** API segment → the handler of the app that serves there (only apps that are in). */
  private readonly serving = new Map<string, Handler>();

  constructor() {
    this.server = createServer((req, res) => {
      const segment = segmentOfUrl(req.url);
      const handler = (segment !== undefined && this.serving.get(segment)) || this.coreHandler;
      handler!(req, res);
    });
  }

  /** Fastify's `serverFactory` for the core instance, which answers everything no app serves. */
  readonly coreFactory: FastifyServerFactory = (handler) => {
    this.coreHandler = handler;
    return this.server;
  };

  /** Fastify's `serverFactory` for the instance of the app whose API lives at /api/v1/`segment`. */
  appFactory(segment: string): FastifyServerFactory {
    return (handler) => {
      this.appHandlers.set(segment, handler);
      return this.server;
    };
  }

  /** From now on requests under /api/v1/`segment` go to that app's instance. */
  handOver(segment: string): void {
    const handler = this.appHandlers.get(segment);
    if (!handler) throw new Error(`no app instance was built for /api/v1/${segment}`);
    this.serving.set(segment, handler);
  }
}

/** An app as the core knows it while it starts: where its API lives. */
export interface StartingApp {
  name: string;
  /** Its URL segment under /api/v1/. */
  segment: string;
}

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function startingPage(what: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="refresh" content="1"><title>Starting · Airwaves</title><link rel="icon" href="/favicon.svg"><link rel="stylesheet" href="/theme.css">
<style>main{max-width:640px;margin:0 auto;padding:48px 20px}h1{font-size:24px;margin:0 0 8px}</style>
</head><body>
<header class="aw-header"><a class="aw-home" href="/">Airwaves</a></header>
<main><h1>Starting…</h1><p class="muted">${escape(what)} is starting; this page reloads by itself in a moment.</p></main>
</body></html>`;
}

/**
 * The core instance's not-found answer: under the prefix of an app still starting, 503
 * `app_starting` with Retry-After (a page that reloads itself for browsers); elsewhere the usual
 * 404. `starting` is read per request.
 */
export function installStartingNotFound(http: FastifyInstance, starting: () => StartingApp[]): void {
  http.setNotFoundHandler(async (request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split('?')[0]!;
    const segment = segmentOfUrl(path);
    const app = segment === undefined ? undefined : starting().find((a) => a.segment === segment);
    if (!app) return notFound(request, reply);
    reply.header('retry-after', '1');
    if (wantsHtml(request)) return reply.status(503).type('text/html; charset=utf-8').send(startingPage(app.name));
    return reply.status(503).send({ error: { code: 'app_starting', message: `${app.name} is starting: ${request.method} ${path} is answered in a moment; retry after 1 s` } });
  });
}

type OpenApiDocument = { paths?: Record<string, unknown>; tags?: { name: string }[]; components?: { schemas?: Record<string, unknown> } };

/** One OpenAPI document of the core's routes and those of every app that serves (/docs, /openapi.json). */
export function mergeOpenApi(core: OpenApiDocument, apps: OpenApiDocument[]): OpenApiDocument {
  const merged = { ...core, paths: { ...core.paths }, components: { ...core.components, schemas: { ...core.components?.schemas } } };
  const tags = new Map((core.tags ?? []).map((t) => [t.name, t]));
  for (const app of apps) {
    Object.assign(merged.paths, app.paths);
    Object.assign(merged.components.schemas, app.components?.schemas);
    for (const tag of app.tags ?? []) if (!tags.has(tag.name)) tags.set(tag.name, tag);
  }
  return tags.size ? { ...merged, tags: [...tags.values()] } : merged;
}
