/**
 * @module http/errors
 * One error shape for every HTTP route: `{ error: { code, message } }` with the catalogue's
 * status. Schema validation failures become 400 `bad_request` naming the field.
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import { isAirwavesError } from '../core/errors.js';
import { notFound } from './browser-pages.js';

export const errorResponseSchema = {
  type: 'object',
  properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } }, required: ['code', 'message'] } },
  required: ['error'],
} as const;

export function installErrorHandler(http: FastifyInstance, options: { notFound?: boolean } = {}): void {
  http.setErrorHandler((err: FastifyError, request, reply) => {
    if (isAirwavesError(err)) {
      // 503s (an app starting, the engine away) pass: say when to ask again.
      if (err.httpStatus === 503) reply.header('retry-after', '1');
      return reply.status(err.httpStatus).send({ error: { code: err.code, message: err.message } });
    }
    if (err.validation) {
      return reply.status(400).send({ error: { code: 'bad_request', message: `${err.validationContext ?? 'request'}${err.message.replace(/^(body|querystring|params|headers)/, '')}` } });
    }
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    if (status >= 500) request.log.error({ err }, 'request failed');
    const code = status === 429 ? 'rate_limited' : status === 413 ? 'payload_too_large' : status === 415 ? 'unsupported_media_type' : status >= 500 ? 'internal' : 'bad_request';
    return reply.status(status).send({ error: { code, message: status >= 500 ? 'internal error' : err.message } });
  });
  if (options.notFound !== false) http.setNotFoundHandler(notFound);
}

/** @fastify/rate-limit's answer in our error shape (the routes that declare a limit). */
export const rateLimitError = (_req: unknown, c: { max: number; ttl: number }) => ({
  statusCode: 429,
  error: 'rate_limited',
  message: `too many requests: ${c.max} per minute; retry in ${Math.ceil(c.ttl / 1000)} s`,
});
