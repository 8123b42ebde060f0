/**
 * @module http/internal-routes
 * Routes for other Airwaves nodes rather than for API users (everything under /internal/) stay
 * out of /docs and /openapi.json. Registered before the routes it hides (an onRoute hook).
 */
import type { FastifyInstance } from 'fastify';

export const INTERNAL_PREFIX = '/internal/';

export function hideInternalRoutes(http: FastifyInstance): void {
  http.addHook('onRoute', (route) => {
    if (route.url.startsWith(INTERNAL_PREFIX)) route.schema = { ...route.schema, hide: true };
  });
}
