/**
 * @module http/channel-routes
 * The hub inspector's view of this node: every namespace with its rules, and every channel with
 * local subscribers, busiest first, with live counts. Admin only (rule `apiKey`, checked by the
 * auth hook): channel names can carry user and ticket ids.
 */
import type { FastifyInstance } from 'fastify';
import type { Hub } from '../hub/hub.js';
import { errorResponseSchema } from './errors.js';

/** Channels listed at most (busiest first); the total is reported beside them. */
export const CHANNEL_LIST_LIMIT = 500;

const namespaceSchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    subscribe: { type: 'string' },
    publish: { type: 'string' },
    historySize: { type: 'integer' },
    presence: { type: 'boolean' },
    binary: { type: 'boolean' },
    channels: { type: 'integer' },
    subscribers: { type: 'integer' },
  },
} as const;

const channelSchema = {
  type: 'object',
  properties: { channel: { type: 'string' }, namespace: { type: 'string' }, subscribers: { type: 'integer' } },
} as const;

export function registerChannelRoutes(http: FastifyInstance, deps: { hub: Hub }): void {
  const { hub } = deps;
  http.get(
    '/api/v1/admin/channels',
    {
      schema: {
        tags: ['hub'],
        summary: `This node's namespaces and channels with live subscriber counts (busiest ${CHANNEL_LIST_LIMIT} channels)`,
        security: [{ apiKey: [] }],
        response: {
          200: { type: 'object', properties: { node: { type: 'string' }, totalChannels: { type: 'integer' }, namespaces: { type: 'array', items: namespaceSchema }, channels: { type: 'array', items: channelSchema } } },
          401: errorResponseSchema,
          403: errorResponseSchema,
        },
      },
      config: { auth: 'apiKey' },
    },
    async () => {
      const channels = hub.channelCounts().sort((a, b) => b.subscribers - a.subscribers || a.channel.localeCompare(b.channel));
      const namespaces = hub.namespaces.list().map(({ config: ns }) => {
        const mine = channels.filter((c) => c.namespace === ns.name);
        return { ...ns, channels: mine.length, subscribers: mine.reduce((n, c) => n + c.subscribers, 0) };
      });
      return { node: hub.nodeId, totalChannels: channels.length, namespaces, channels: channels.slice(0, CHANNEL_LIST_LIMIT) };
    },
  );
}
