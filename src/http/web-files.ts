/**
 * @module http/web-files
 * The built web UIs (dist/web/<app>/index.html at /<app>/, Vite's shared hashed files at /assets/)
 * as public routes. Looked up per request, so a UI built while the server runs is served at once.
 * Both the starting server and the full one serve them: the pages load while the apps start.
 */
import { sep } from 'node:path';
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';

/**
 * Registers the UI files (and, through `extra`, other plugins whose routes serve files, not data)
 * in a scope where every route is public.
 */
export async function registerWebFiles(http: FastifyInstance, root: string, extra?: (scope: FastifyInstance) => Promise<void>): Promise<void> {
  await http.register(async (publicScope) => {
    publicScope.addHook('onRoute', (route) => {
      route.config = { ...route.config, auth: route.config?.auth ?? 'public' };
    });
    await extra?.(publicScope);
    await publicScope.register(fastifyStatic, {
      root,
      suppressWarning: true,
      prefix: '/',
      wildcard: true,
      redirect: true,
      index: ['index.html'],
      decorateReply: false,
      setHeaders: (reply, file) => {
        if (file.includes(`${sep}assets${sep}`)) reply.header('cache-control', 'public, max-age=31536000, immutable');
      },
    });
  });
}
