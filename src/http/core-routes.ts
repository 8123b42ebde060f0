/**
 * @module http/core-routes
 * Operator endpoints (/healthz, /readyz, /metrics), the live status API and the landing page.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { CoreConfig } from '../core/config.js';
import type { Registry } from '../core/metrics.js';
import type { Hub } from '../hub/hub.js';
import { LANDING_SCRIPT, landingPage, type AppSummary } from './landing-page.js';

export interface CoreRouteDeps {
  hub: Hub;
  metrics: Registry;
  apps: AppSummary[];
  config: CoreConfig;
  /** The enabled apps not serving yet (http/starting-server: each serves as soon as it is in). */
  starting?: () => string[];
}

const statusSchema = {
  type: 'object',
  properties: {
    node: { type: 'string' },
    engine: { type: 'string' },
    uptimeSeconds: { type: 'number' },
    connections: { type: 'integer' },
    subscriptions: { type: 'integer' },
    channels: { type: 'integer' },
    publishedTotal: { type: 'integer' },
    publishRate: { type: 'number' },
    apps: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, title: { type: 'string' }, description: { type: 'string' } } } },
  },
} as const;

/*
 * The probes (/healthz, /readyz) answer without Fastify's schema compilers: their JSON is written
 * with JSON.stringify and /readyz's one query parameter is checked by checkReadyQuery; their
 * schemas stay, for the API docs. Ajv and fast-json-stringify load on the first route that uses a
 * schema (http/lazy-schema-compilers), and on a starting node that route was the orchestrator's
 * first probe: about 130 ms of CPU, a fifth of the hub alone's start, before it could answer.
 */
function sendProbe(reply: FastifyReply, status: number, body: Record<string, unknown>): FastifyReply {
  return reply.status(status).type('application/json; charset=utf-8').send(JSON.stringify(body));
}

/** /readyz's query, as its schema says: `apps=all` or nothing (a Fastify validator: an error is a 400 bad_request naming the field). */
function checkReadyQuery(query: unknown): { value: unknown } | { error: Error } {
  const bad = (message: string) => ({ error: Object.assign(new Error(`querystring${message}`), { statusCode: 400 }) });
  const fields = Object.keys((query ?? {}) as object);
  const extra = fields.find((f) => f !== 'apps');
  if (extra !== undefined) return bad(` must NOT have additional properties (${extra})`);
  const apps = (query as { apps?: unknown }).apps;
  if (apps !== undefined && apps !== 'all') return bad('/apps must be equal to one of the allowed values (all)');
  return { value: query };
}

export function registerCoreRoutes(http: FastifyInstance, deps: CoreRouteDeps): void {
  const { hub, metrics, apps } = deps;
  const started = Date.now();

  const open = { auth: 'public' } as const;
  http.get('/healthz', { config: open, schema: { tags: ['ops'], summary: 'Liveness', response: { 200: { type: 'object', properties: { status: { type: 'string' } } } } } }, async (_req, reply) =>
    sendProbe(reply, 200, { status: 'ok' }),
  );

  const readySchema = { type: 'object', properties: { status: { type: 'string' }, engine: { type: 'string' }, starting: { type: 'array', items: { type: 'string' } } } } as const;
  http.get(
    '/readyz',
    {
      config: open,
      schema: {
        tags: ['ops'],
        summary: 'Readiness: the hub engine and its dependencies are reachable, so this node serves',
        description:
          'While the apps start (the first seconds), their routes answer 503 app_starting and `starting` names them. With `?apps=all`, 200 only once every enabled app serves too (what a load balancer in front of several nodes should ask).',
        querystring: { type: 'object', properties: { apps: { type: 'string', enum: ['all'] } }, additionalProperties: false },
        response: { 200: readySchema, 503: readySchema },
      },
      validatorCompiler: () => checkReadyQuery,
    },
    async (request, reply) => {
      const hubReady = await hub.ready().catch(() => false);
      const starting = deps.starting?.() ?? [];
      const ok = hubReady && ((request.query as { apps?: string }).apps !== 'all' || starting.length === 0);
      return sendProbe(reply, ok ? 200 : 503, { status: ok ? 'ready' : 'not ready', engine: hub.engineName, ...(starting.length ? { starting } : {}) });
    },
  );

  // Public like /healthz: Prometheus scrapes it without credentials; it carries counts, not data.
  http.get('/metrics', { config: open, schema: { tags: ['ops'], summary: 'Prometheus metrics', produces: ['text/plain'] } }, async (_req, reply) => {
    reply.header('content-type', metrics.contentType);
    return metrics.metrics();
  });

  http.get('/api/v1/status', { config: open, schema: { tags: ['ops'], summary: 'Live status of this node', response: { 200: statusSchema } } }, async () => ({
    node: hub.nodeId,
    engine: hub.engineName,
    uptimeSeconds: (Date.now() - started) / 1000,
    ...hub.stats(),
    apps: apps.map((a) => ({ name: a.name, title: a.title, description: a.description })),
  }));

  http.get('/', { config: open, schema: { hide: true } }, async (_req, reply) => reply.type('text/html; charset=utf-8').send(landingPage(apps)));
  http.get('/landing.js', { config: open, schema: { hide: true } }, async (_req, reply) => reply.type('text/javascript; charset=utf-8').send(LANDING_SCRIPT));
}
