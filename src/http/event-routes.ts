/**
 * @module http/event-routes
 * The event transport's HTTP side: the internal endpoint HTTP publishers POST events to (it
 * publishes into the hub with the event id as idempotency key, so a retried or dual-written
 * event reaches clients once), and the admin endpoint that reads and changes rollout flags at
 * runtime (cluster-wide through Redis when configured). Both are authenticated with the API key.
 */
import type { FastifyInstance } from 'fastify';
import type { CoreConfig } from '../core/config.js';
import type { Hub } from '../hub/hub.js';
import type { EventTransport } from '../events/transport.js';
import { checkFlags } from '../events/flags.js';
import { INTERNAL_EVENTS_PATH } from '../events/http-publisher.js';
import { validateEvent, type TransportEvent } from '../events/publisher.js';
import { errorResponseSchema } from './errors.js';

const flagsSchema = {
  type: 'object',
  properties: {
    useRedisStreams: { type: 'boolean' },
    redisPercentage: { type: 'integer', minimum: 0, maximum: 100 },
    fallbackToHttp: { type: 'boolean' },
    dualWrite: { type: 'boolean' },
  },
} as const;

const stateSchema = {
  type: 'object',
  properties: {
    kind: { type: 'string', enum: ['memory', 'redis'] },
    flags: { ...flagsSchema, nullable: true },
    flagsOrigin: {
      type: 'object',
      nullable: true,
      properties: {
        sources: { type: 'object', additionalProperties: { type: 'string', enum: ['config', 'redis'] } },
        version: { type: 'integer' },
        updatedBy: { type: 'string', nullable: true },
        updatedAt: { type: 'string', nullable: true },
      },
    },
    fallbackActive: { type: 'boolean' },
    families: { type: 'object', additionalProperties: { type: 'integer' } },
  },
} as const;

export function registerEventRoutes(http: FastifyInstance, deps: { hub: Hub; config: CoreConfig; events: EventTransport }): void {
  const { hub, config, events } = deps;
  const errors = { 400: errorResponseSchema, 401: errorResponseSchema, 403: errorResponseSchema, 404: errorResponseSchema, 409: errorResponseSchema, 413: errorResponseSchema, 503: errorResponseSchema };
  const families = new Set(Object.keys(config.eventStreams));

  http.post<{ Body: TransportEvent }>(
    INTERNAL_EVENTS_PATH,
    {
      schema: {
        tags: ['events'],
        summary: 'Publish one durable event into the hub (HTTP event transport; deduplicated by eventId)',
        security: [{ apiKey: [] }],
        body: {
          type: 'object',
          required: ['eventId', 'family', 'channel', 'roomId', 'type', 'body'],
          additionalProperties: false,
          properties: {
            eventId: { type: 'string', minLength: 1, maxLength: 128 },
            family: { type: 'string', minLength: 1, maxLength: 32 },
            channel: { type: 'string', minLength: 3, maxLength: 240 },
            roomId: { type: 'string', minLength: 1, maxLength: 200 },
            type: { type: 'string', minLength: 1, maxLength: 64 },
            body: {},
          },
        },
        response: { 200: { type: 'object', properties: { offset: { type: 'integer' }, epoch: { type: 'string' }, coalesced: { type: 'boolean' } } }, ...errors },
      },
      config: { auth: 'apiKey' },
    },
    async (req) => {
      const event = validateEvent(req.body, families);
      return hub.publish(event.channel, event.body, { idempotencyKey: event.eventId });
    },
  );

  http.get(
    '/api/v1/admin/event-transport',
    { schema: { tags: ['events'], summary: 'Event transport state and rollout flags', security: [{ apiKey: [] }], response: { 200: stateSchema, ...errors } }, config: { auth: 'apiKey' } },
    async () => events.state(),
  );

  http.put<{ Body: Record<string, unknown> }>(
    '/api/v1/admin/event-transport',
    {
      schema: { tags: ['events'], summary: 'Change rollout flags at runtime (with Redis: for every node, stored across restarts)', security: [{ apiKey: [] }], body: flagsSchema, response: { 200: stateSchema, ...errors } },
      config: { auth: 'apiKey' },
    },
    async (req) => {
      // Fastify's validator strips unknown properties only when the schema forbids them, so the
      // schema allows them and checkFlags names the unknown flag instead of ignoring it.
      await events.setFlags(checkFlags(req.body));
      return events.state();
    },
  );

  http.delete(
    '/api/v1/admin/event-transport/flags',
    {
      schema: { tags: ['events'], summary: 'Forget the flags changed at runtime: every node returns to its configured flags', security: [{ apiKey: [] }], response: { 200: stateSchema, ...errors } },
      config: { auth: 'apiKey' },
    },
    async () => {
      await events.clearFlags();
      return events.state();
    },
  );
}
