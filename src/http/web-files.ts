/**
 * @module http/web-files
 * The built web UIs (dist/web/<app>/index.html at /<app>/, Vite's shared hashed files at /assets/)
 * and the API docs' UI (/docs, /docs/json, /docs/yaml) as public routes. Looked up per request, so
 * a UI built while the server runs is served at once. Both the starting server and the full one
 * serve them: the pages load while the apps start.
 *
 * They are answered by a Fastify instance of their own (@fastify/static, @fastify/swagger-ui),
 * built on the first request that needs it: loading those plugins (file serving, glob, yaml, the
 * docs' assets) was a fifth of the CPU a hub-alone start spent to /readyz, and a server that only
 * fans out may never serve a file. The core instance declares the routes (public, their path
 * validated) and hands the request over; a path that names no file under the root never reaches
 * the file server and gets the core's own not-found answer (404, or 503 `app_starting` under an
 * app still starting), as when the file server sat in the core instance.
 */
import { access } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { notFound } from './browser-pages.js';

export interface WebFilesOptions {
  /** Where the built UIs are (dist/web); it may not exist yet. */
  root: string;
  /** The OpenAPI document the docs' UI shows (read per request: apps join it as they serve). */
  openApi: () => unknown;
}

/**
 * A URL's path (no query) as a file under `root`, or undefined when it names nothing there (or
 * escapes it). Looked up per request, without blocking the event loop (a sync stat on every `/*`
 * request stalled every socket for as long as the disk took).
 */
export async function fileUnder(root: string, url: string): Promise<string | undefined> {
  let path: string;
  try {
    path = decodeURIComponent(url.split('?')[0]!);
  } catch {
    return undefined; // a malformed escape names no file
  }
  if (path.includes('\0')) return undefined;
  const file = resolve(root, `.${sep}${path}`);
  if (file !== root && !file.startsWith(root + sep)) return undefined;
  return access(file).then(
    () => file,
    () => undefined, // nothing there (or unreadable): the core's not-found answer
  );
}

/** The file server: the UIs' files at / and the API docs' UI at /docs, with the core's not-found answer. */
async function buildFileServer(core: FastifyInstance, options: WebFilesOptions): Promise<FastifyInstance> {
  const [{ default: swagger }, { default: swaggerUi }, { default: fastifyStatic }] = await Promise.all([import('@fastify/swagger'), import('@fastify/swagger-ui'), import('@fastify/static')]);
  const files = Fastify({ loggerInstance: core.log }) as unknown as FastifyInstance;
  files.setNotFoundHandler(notFound);
  // The docs' UI needs @fastify/swagger present; the document it shows is the core's (and the apps').
  await files.register(swagger, { openapi: {} });
  await files.register(swaggerUi, { routePrefix: '/docs', transformSpecification: () => options.openApi() as Record<string, unknown>, transformSpecificationClone: false });
  await files.register(fastifyStatic, {
    root: options.root,
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
  await files.ready();
  return files;
}

/** Registers the UI files and the API docs' UI on the core instance; the file server behind them is built on first use. */
export function registerWebFiles(http: FastifyInstance, options: WebFilesOptions): void {
  let fileServer: Promise<FastifyInstance> | undefined;
  const handOver = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const building = (fileServer ??= buildFileServer(http, options));
    building.catch(() => (fileServer = undefined)); // the next request tries again
    const files = await building; // a failure is the core's 500 `internal`
    // The core's onRequest hooks ran (the security headers are on the response); the file server answers from here.
    reply.hijack();
    files.routing(request.raw, reply.raw);
  };
  // Public: files and the docs' page, no data. The path is a string the file server resolves under its root.
  const route = { config: { auth: 'public' as const }, schema: { hide: true, params: { type: 'object', properties: { '*': { type: 'string' } } } } };
  http.get('/docs', route, handOver);
  http.get('/docs/*', route, handOver);
  http.get('/*', route, async (request, reply) => {
    if ((await fileUnder(options.root, request.url)) === undefined) return reply.callNotFound();
    return handOver(request, reply);
  });
}
