/**
 * @module apps/market/orders/routes
 * Order routes, role `trader` (route rule checked by src/auth in onRequest, before the body is
 * read): `POST /api/v1/market/orders` (201 new, 200 when the clientOrderId was already used for
 * the same order, 409 for a different one), `DELETE /api/v1/market/orders/:id` (cancel),
 * `GET /api/v1/market/orders` (the caller's latest 100). Execution reports are pushed on
 * `market-user:<userId>`.
 */
import type { FastifyInstance } from 'fastify';
import { rule } from '../../../auth/index.js';
import { AirwavesError, Errors } from '../../../core/errors.js';
import type { OrderDesk, OrderRequest } from './desk.js';

const orderBody = {
  type: 'object',
  additionalProperties: false,
  required: ['clientOrderId', 'venue', 'symbol', 'side', 'type', 'qty'],
  properties: {
    clientOrderId: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' },
    venue: { type: 'string', enum: ['binance', 'coinbase', 'kraken'] },
    symbol: { type: 'string', maxLength: 32 },
    side: { type: 'string', enum: ['buy', 'sell'] },
    type: { type: 'string', enum: ['limit', 'market'] },
    timeInForce: { type: 'string', enum: ['GTC', 'IOC'] },
    price: { type: 'number', exclusiveMinimum: 0 },
    qty: { type: 'number', exclusiveMinimum: 0 },
  },
} as const;

function userOf(req: { identity: { user: string | null } | null }): string {
  const user = req.identity?.user;
  if (!user) throw new AirwavesError(Errors.forbidden, 'orders need a token with a user (sub)');
  return user;
}

export function registerOrderRoutes(http: FastifyInstance, desk: OrderDesk): void {
  const trader = rule.roles('trader');
  http.post<{ Body: OrderRequest }>('/orders', { config: trader, schema: { tags: ['market'], summary: 'Place an order (idempotent per clientOrderId)', body: orderBody } }, async (req, reply) => {
    const { order, created } = await desk.place(userOf(req), req.body);
    return reply.code(created ? 201 : 200).send(order);
  });
  http.delete<{ Params: { id: string } }>('/orders/:id', { config: trader, schema: { tags: ['market'], summary: 'Cancel an open order', params: { type: 'object', properties: { id: { type: 'string', maxLength: 64 } }, required: ['id'] } } }, async (req) =>
    desk.cancel(userOf(req), req.params.id),
  );
  http.get('/orders', { config: trader, schema: { tags: ['market'], summary: "The caller's latest orders" } }, async (req) => ({ orders: await desk.list(userOf(req)) }));
}
