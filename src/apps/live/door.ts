/**
 * @module apps/live/door
 * `GET /api/v1/streams/:id/ws`: a WebSocket for one stream's events, a thin door onto the hub.
 * The upgrade is admitted like any hub connection (per-IP limit, shutdown), then the door sends
 * the hub protocol's `connect` (id 1) and `subscribe` to `live:<id>` (id 2) on the client's
 * behalf; from there it is an ordinary hub connection (same frames, docs/protocol.md), and the
 * subscription counts the client as a viewer. Clients number their own commands from 3.
 * The route is also declared to Fastify (for OpenAPI and the access table); a plain GET gets 426.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { WebSocketServer } from 'ws';
import { errorResponseSchema } from '../../http/errors.js';
import { ANONYMOUS, verifyToken } from '../../hub/auth.js';
import type { Hub } from '../../hub/hub.js';
import { UPGRADE_CLAIMED } from '../../hub/ws-server.js';
import { liveRule } from './access.js';
import { viewerChannel } from './events.js';
import type { LiveMetrics } from './metrics.js';
import { STREAMS_PREFIX } from './routes.js';
import type { LiveService } from './service.js';

const DOOR_PATH = /^\/api\/v1\/streams\/([0-9a-f-]{36})\/ws$/;

function refuse(socket: Duplex, status: number, code: string, message: string): void {
  const body = JSON.stringify({ error: { code, message } });
  socket.end(`HTTP/1.1 ${status} ${status === 404 ? 'Not Found' : status === 401 ? 'Unauthorized' : 'Service Unavailable'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

export function registerEventDoor(http: FastifyInstance, hub: Hub, service: LiveService, metrics: LiveMetrics, jwtSecret: string): () => void {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, clientTracking: false, maxPayload: 64 * 1024 });

  http.get(
    `${STREAMS_PREFIX}/:id/ws`,
    {
      ...liveRule('public'),
      schema: {
        tags: ['live'],
        summary: "WebSocket upgrade for one stream's events (viewer_count_changed, stream_started, stream_ended, quality_changed) over the hub protocol",
        params: { type: 'object', properties: { id: { type: 'string', format: 'uuid' } }, required: ['id'] },
        response: { 426: errorResponseSchema },
      },
    },
    async (_req, reply) => reply.status(426).header('upgrade', 'websocket').send({ error: { code: 'upgrade_required', message: 'open this URL as a WebSocket' } }),
  );

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const m = DOOR_PATH.exec(url.pathname);
    if (!m) return;
    (req as unknown as Record<symbol, unknown>)[UPGRADE_CLAIMED] = true;
    socket.on('error', () => socket.destroy());
    const streamId = m[1]!;
    const ip = req.socket.remoteAddress ?? 'unknown';
    void (async () => {
      const row = await service.store.getStream(streamId).catch(() => undefined);
      if (!row) {
        metrics.wsFailures.inc({ reason: 'unknown_stream' });
        return refuse(socket, 404, 'not_found', `no stream ${streamId}`);
      }
      const refusal = hub.admit(ip);
      if (refusal) {
        metrics.wsFailures.inc({ reason: refusal.code });
        return refuse(socket, refusal.httpStatus, refusal.code, refusal.message);
      }
      const token = url.searchParams.get('token');
      let identity = ANONYMOUS;
      if (token) {
        try {
          identity = await verifyToken(token, jwtSecret);
        } catch {
          metrics.wsFailures.inc({ reason: 'unauthorized' });
          return refuse(socket, 401, 'unauthorized', 'bad token');
        }
      }
      wss.handleUpgrade(req, socket, head, (ws) => {
        hub.accept(ws, ip, identity);
        metrics.wsConnections.inc();
        ws.once('close', () => metrics.wsConnections.dec());
        // The hub reads commands from 'message' events: the door's two commands go in the same way.
        ws.emit('message', Buffer.from(JSON.stringify({ id: 1, op: 'connect', ...(token ? { token } : {}) })), false);
        ws.emit('message', Buffer.from(JSON.stringify({ id: 2, op: 'subscribe', channel: viewerChannel(streamId) })), false);
      });
    })().catch(() => {
      metrics.wsFailures.inc({ reason: 'internal' });
      socket.destroy();
    });
  };
  http.server.prependListener('upgrade', onUpgrade);
  return () => {
    http.server.off('upgrade', onUpgrade);
    wss.close();
  };
}
