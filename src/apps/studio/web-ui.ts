/**
 * @module apps/studio/web-ui
 * Serves the built studio UI at /studio/ when the server's shared static root does not (it only
 * mounts dist/web when it recognises it). The shared root's exact routes win over this wildcard
 * whenever both exist, so the two never conflict. Asset URLs in the page are rewritten under
 * /studio/assets/ so this scope never claims the shared /assets/ path.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.map': 'application/json',
  '.woff2': 'font/woff2',
  '.png': 'image/png',
};

function studioWebDir(): string | null {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const candidate of [resolve(here, '../../../dist/web'), resolve(here, '../../../../dist/web'), resolve(here, '../../web')]) {
    if (existsSync(join(candidate, 'studio', 'index.html'))) return candidate;
  }
  return null;
}

export function registerStudioWeb(http: FastifyInstance): void {
  const root = studioWebDir();
  // Read per request (off the event loop): a rebuild while the server runs is served at once.
  const sendPage = async (reply: FastifyReply) => {
    const html = root && (await readFile(join(root, 'studio', 'index.html'), 'utf8')).replace(/(["'])\/assets\//g, '$1/studio/assets/');
    if (!html) return reply.status(404).type('text/plain').send('studio UI is not built: run `npm run build` (or `npx vite build`)');
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(html);
  };
  http.get('/studio', { schema: { hide: true } }, (_req, reply) => reply.redirect('/studio/'));
  http.get('/studio/*', { schema: { hide: true } }, async (req, reply) => {
    const rest = (req.params as { '*': string })['*'];
    if (!root || !rest?.startsWith('assets/')) return sendPage(reply);
    const assets = join(root, 'assets');
    const file = normalize(join(assets, rest.slice('assets/'.length)));
    if (!file.startsWith(assets + '/')) return reply.status(404).send({ error: { code: 'not_found', message: 'no such asset' } });
    try {
      const body = await readFile(file);
      // Hashed file names: safe to cache for a year.
      return reply.type(TYPES[extname(file)] ?? 'application/octet-stream').header('cache-control', 'public, max-age=31536000, immutable').send(body);
    } catch {
      return reply.status(404).send({ error: { code: 'not_found', message: `no asset ${rest}` } });
    }
  });
}
