/**
 * @module http/browser-pages
 * What a browser meets outside the apps: an HTML "not found" page with a way back (API clients,
 * which do not ask for text/html, keep the JSON error), and /favicon.ico pointing at the shared
 * icon the web build puts at /favicon.svg.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** Browsers put text/html in Accept for pages; fetch(), curl and the SDKs do not. */
export function wantsHtml(request: FastifyRequest): boolean {
  return request.method === 'GET' && (request.headers.accept ?? '').includes('text/html');
}

export function notFoundPage(path: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Not found · Airwaves</title><link rel="icon" href="/favicon.svg"><link rel="stylesheet" href="/theme.css">
<style>main{max-width:640px;margin:0 auto;padding:48px 20px}h1{font-size:24px;margin:0 0 8px}code{overflow-wrap:anywhere}</style>
</head><body>
<header class="aw-header"><a class="aw-home" href="/">Airwaves</a></header>
<main><h1>Nothing here</h1>
<p class="muted">There is no page at <code>${escape(path)}</code>.</p>
<p><a href="/">Back to the landing page</a> · <a href="/hub/">hub inspector</a> · <a href="/docs">HTTP API</a></p></main>
</body></html>`;
}

export async function notFound(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const path = request.url.split('?')[0]!;
  if (wantsHtml(request)) return reply.status(404).type('text/html; charset=utf-8').send(notFoundPage(path));
  return reply.status(404).send({ error: { code: 'not_found', message: `no route ${request.method} ${path}` } });
}

export function registerBrowserPages(http: FastifyInstance): void {
  http.get('/favicon.ico', { config: { auth: 'public' }, schema: { hide: true } }, async (_request, reply) => reply.redirect('/favicon.svg', 301));
}
