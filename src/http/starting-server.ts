/**
 * @module http/starting-server
 * Serving while the apps start. Fastify takes no route once it has started, and an app's routes
 * are declared only after its database is open and migrated (seconds of PGlite, on a busy machine
 * more), so one instance cannot listen before every app is in. Two instances share one Node HTTP
 * server instead: a small "starting" instance answers from the moment the hub runs (health,
 * readiness, metrics, status, the landing page and the built UIs), and every other request gets
 * 503 `app_starting` with Retry-After; once the full instance is ready, requests go to it.
 * WebSocket upgrades go to the hub throughout (attached to the same server). What both instances
 * serve is registered by one function (./node-surface.ts), with one rate-limit state, so a
 * client's limits hold across the handover.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerFactory } from 'fastify';
import type { Logger } from '../core/logger.js';
import { wantsHtml } from './browser-pages.js';
import type { AppSummary } from './landing-page.js';
import { registerNodeSurface, type NodeSurfaceDeps } from './node-surface.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** One Node HTTP server whose requests go to the starting instance, then to the full one. */
export class HandoverServer {
  readonly server: Server;
  private startingHandler: Handler | undefined;
  private fullHandler: Handler | undefined;
  private handedOver = false;

  constructor() {
    this.server = createServer((req, res) => {
      const handler = this.handedOver ? this.fullHandler : this.startingHandler;
      handler!(req, res);
    });
  }

  /** Fastify's `serverFactory` for the instance that serves while the apps start. */
  readonly startingFactory: FastifyServerFactory = (handler) => {
    this.startingHandler = handler;
    return this.server;
  };

  /** Fastify's `serverFactory` for the full instance (core and apps). */
  readonly fullFactory: FastifyServerFactory = (handler) => {
    this.fullHandler = handler;
    return this.server;
  };

  /** From now on every request goes to the full instance. */
  handOver(): void {
    if (!this.fullHandler) throw new Error('the full instance was not built on this server');
    this.handedOver = true;
  }
}

export interface StartingServerDeps {
  handover: HandoverServer;
  /** What the full instance is built with (the same rate-limit store among it). */
  surface: NodeSurfaceDeps;
  /** The apps not serving yet (their names), read per request. */
  starting: () => string[];
  logger: Logger;
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

/** The app a path belongs to (`/api/v1/<app>/…`, `/internal/<app>/…`), if it is one of ours. */
function appOfPath(path: string, apps: AppSummary[]): string | undefined {
  const segment = /^\/(?:api\/v1|internal)\/([^/?]+)/.exec(path)?.[1];
  return apps.find((a) => a.name === segment)?.name;
}

/** The instance that answers while the apps start: everything public that needs no app. */
export async function createStartingServer(deps: StartingServerDeps): Promise<FastifyInstance> {
  const apps = deps.surface.apps;
  const http = Fastify({
    serverFactory: deps.handover.startingFactory,
    loggerInstance: deps.logger.child({ module: 'http-starting' }, { level: 'warn' }),
  }) as unknown as FastifyInstance;
  // What the full instance serves but the apps and the docs; the not-found answer is this instance's own.
  await registerNodeSurface(http, deps.surface, { docs: false, starting: deps.starting });
  http.setNotFoundHandler(async (request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split('?')[0]!;
    const app = appOfPath(path, apps);
    const pending = deps.starting();
    const what = app ?? (pending.length ? `Airwaves (${pending.join(', ')})` : 'Airwaves');
    reply.header('retry-after', '1');
    if (wantsHtml(request)) return reply.status(503).type('text/html; charset=utf-8').send(startingPage(what));
    return reply.status(503).send({ error: { code: 'app_starting', message: `${what} is starting: ${request.method} ${path} is answered in a moment; retry after 1 s` } });
  });
  return http;
}
