/**
 * @module http/publish-routes
 * Server-side publishing over HTTP, authenticated by the API key (rule `apiKey`, checked by the
 * auth hook before the body is read): one message or a batch.
 */
import type { FastifyInstance } from 'fastify';
import { AirwavesError } from '../core/errors.js';
import type { Hub } from '../hub/hub.js';
import { errorResponseSchema } from './errors.js';

const messageSchema = {
  type: 'object',
  required: ['channel', 'data'],
  additionalProperties: false,
  properties: {
    channel: { type: 'string', minLength: 3, maxLength: 240 },
    data: {},
    key: { type: 'string', maxLength: 200, description: 'coalescing key (namespaces with coalesceMs)' },
    idempotencyKey: { type: 'string', minLength: 1, maxLength: 200, description: 'a retry with the same key within the dedupe window is not delivered twice' },
  },
} as const;

const ackSchema = {
  type: 'object',
  properties: { offset: { type: 'integer' }, epoch: { type: 'string' }, coalesced: { type: 'boolean' } },
} as const;

interface PublishBody {
  channel: string;
  data: unknown;
  key?: string;
  idempotencyKey?: string;
}

export function registerPublishRoutes(http: FastifyInstance, deps: { hub: Hub }): void {
  const { hub } = deps;
  const errors = { 400: errorResponseSchema, 401: errorResponseSchema, 403: errorResponseSchema, 404: errorResponseSchema, 413: errorResponseSchema };

  http.post<{ Body: PublishBody }>(
    '/api/v1/publish',
    {
      schema: { tags: ['hub'], summary: 'Publish one message to a channel', security: [{ apiKey: [] }], body: messageSchema, response: { 200: ackSchema, ...errors } },
      config: { auth: 'apiKey' },
    },
    async (req) => hub.publish(req.body.channel, req.body.data, { key: req.body.key, idempotencyKey: req.body.idempotencyKey }),
  );

  http.post<{ Body: { messages: PublishBody[] } }>(
    '/api/v1/publish/batch',
    {
      schema: {
        tags: ['hub'],
        summary: 'Publish several messages in order; each gets its own result',
        security: [{ apiKey: [] }],
        body: { type: 'object', required: ['messages'], additionalProperties: false, properties: { messages: { type: 'array', minItems: 1, maxItems: 1000, items: messageSchema } } },
        response: {
          200: {
            type: 'object',
            properties: {
              results: {
                type: 'array',
                items: { type: 'object', properties: { ...ackSchema.properties, error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } } } },
              },
            },
          },
          ...errors,
        },
      },
      config: { auth: 'apiKey' },
    },
    async (req) => {
      const results: object[] = [];
      // Sequential on purpose: messages to one channel keep the order the caller gave.
      for (const m of req.body.messages) {
        try {
          results.push(await hub.publish(m.channel, m.data, { key: m.key, idempotencyKey: m.idempotencyKey }));
        } catch (err) {
          if (err instanceof AirwavesError) results.push({ error: err.toJSON() });
          else throw err;
        }
      }
      return { results };
    },
  );
}
