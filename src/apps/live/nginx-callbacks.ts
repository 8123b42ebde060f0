/**
 * @module apps/live/nginx-callbacks
 * The production ingest path: nginx-rtmp (ops/nginx-rtmp/nginx.conf) does RTMP and calls these
 * routes; 2xx allows, 4xx refuses. `on_publish` runs the same key check, throttle and lifecycle
 * as the embedded listener and answers 302 with the stream id as the new name, so nginx's own
 * files and any `push`/`exec` name the stream, never its key. `on_publish_done` completes it.
 * `on_play` allows RTMP playback of a live stream id only (never of a key).
 * nginx sends these as application/x-www-form-urlencoded POSTs.
 */
import type { FastifyInstance } from 'fastify';
import { PUBLIC, callbackGuard } from './access.js';
import type { LiveService } from './service.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface CallbackBody {
  call?: string;
  app?: string;
  name?: string;
  addr?: string;
}

const bodySchema = { type: 'object', properties: { call: { type: 'string' }, app: { type: 'string' }, name: { type: 'string', maxLength: 512 }, addr: { type: 'string' } }, required: ['name'] } as const;

export function registerNginxCallbacks(http: FastifyInstance, service: LiveService, apiKey: string | undefined): void {
  // nginx-rtmp posts forms; parse them here only (this app's scope) as flat string maps.
  http.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });
  const tags = ['live'];
  const guard = callbackGuard(apiKey);
  const callback = (summary: string) => ({ config: PUBLIC, onRequest: guard, schema: { tags, summary, body: bodySchema, querystring: { type: 'object', properties: { secret: { type: 'string' } } } } });

  http.post<{ Body: CallbackBody }>('/nginx/on_publish', callback('nginx-rtmp on_publish: 302 to the stream id when the key may publish, 403 otherwise'), async (req, reply) => {
    const { name = '', addr = req.ip, app = '' } = req.body;
    if (app !== service.settings.rtmpApp) return reply.status(403).send({ error: { code: 'forbidden', message: `unknown application "${app}"` } });
    const admitted = await service.admit(name.split('?')[0] ?? '', addr, 'nginx');
    if (!admitted.ok) return reply.status(admitted.code === 'Throttled' ? 429 : 403).send({ error: { code: admitted.code === 'Throttled' ? 'rate_limited' : 'forbidden', message: admitted.reason } });
    service.started(admitted.row, null);
    return reply.status(302).header('location', admitted.row.id).send();
  });

  http.post<{ Body: CallbackBody }>('/nginx/on_publish_done', callback('nginx-rtmp on_publish_done: the publisher stopped; the stream completes'), async (req, reply) => {
    const name = req.body.name ?? '';
    let streamId: string | null = UUID.test(name) ? name : null;
    if (!streamId) {
      const key = await service.store.findKey(name);
      streamId = key ? service.liveStreamOfKey(key.id) : null;
    }
    if (streamId && service.isLive(streamId)) await service.end(streamId, 'COMPLETED', 'unpublish');
    return reply.status(200).send({ ok: true });
  });

  http.post<{ Body: CallbackBody }>('/nginx/on_play', callback('nginx-rtmp on_play: 2xx for a live stream id, 404 otherwise'), async (req, reply) => {
    const name = req.body.name ?? '';
    if (UUID.test(name) && service.isLive(name)) return reply.status(200).send({ ok: true });
    return reply.status(404).send({ error: { code: 'not_live', message: 'play a live stream by its id' } });
  });
}
