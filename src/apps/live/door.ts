/**
 * @module apps/live/door
 * `GET <apiPrefix>/:id/ws` (`/api/v1/streams/:id/ws`): a WebSocket for one stream's events — viewer_count_changed,
 * stream_started, stream_ended, quality_changed — framed like hub pushes
 * (`{"channel":"live:<id>","data":{…}}`, one JSON text frame each). A door client counts as a
 * WebSocket viewer exactly like a hub subscriber of `live:<id>`. The door is fed in process by the
 * live service, so in a cluster it carries the events of streams ingested on its own node; the
 * hub channel `live:<id>` carries them everywhere.
 * The route is declared to Fastify too (OpenAPI, the auth table); a plain GET gets 426.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { WebSocketServer, type WebSocket } from 'ws';
import { errorResponseSchema } from '../../http/errors.js';
import { UPGRADE_CLAIMED } from '../../hub/ws-server.js';
import { PUBLIC } from './access.js';
import { viewerChannel, type LiveEvent } from './events.js';
import type { LiveMetrics } from './metrics.js';
import type { LiveService } from './service.js';

/** Door connections per stream and in all, so a flood of sockets is refused, not absorbed. */
const MAX_DOOR_CONNECTIONS = 20_000;
/** A door client that cannot take 1 MB of events is dropped (slow consumer). */
const MAX_BUFFERED_BYTES = 1024 * 1024;

function refuse(socket: Duplex, status: number, code: string, message: string): void {
  const body = JSON.stringify({ error: { code, message } });
  socket.end(`HTTP/1.1 ${status} ${status === 404 ? 'Not Found' : 'Service Unavailable'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

export class EventDoor {
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, clientTracking: false, maxPayload: 4096 });
  private readonly clients = new Map<string, Set<WebSocket>>();
  private total = 0;
  /** The door's path under the app's mount prefix (upgrades bypass Fastify's router). */
  private readonly path: RegExp;

  constructor(
    private readonly service: LiveService,
    private readonly metrics: LiveMetrics,
    apiPrefix: string,
  ) {
    this.path = new RegExp(`^${apiPrefix.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}/([0-9a-f-]{36})/ws$`);
  }

  /** Sends one event to the door clients of its stream (the frame is encoded once). */
  deliver(streamId: string, event: LiveEvent): void {
    const set = this.clients.get(streamId);
    if (!set?.size) return;
    // Encoded to bytes once: ws would convert a string again for every socket.
    const frame = Buffer.from(JSON.stringify({ channel: viewerChannel(streamId), data: event }));
    for (const ws of set) {
      if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
        this.metrics.wsFailures.inc({ reason: 'slow_consumer' });
        ws.terminate();
        continue;
      }
      ws.send(frame, { binary: false });
    }
  }

  register(http: FastifyInstance): () => void {
    http.get(
      '/:id/ws',
      {
        config: PUBLIC,
        schema: {
          tags: ['live'],
          summary: "WebSocket upgrade for one stream's events (viewer_count_changed, stream_started, stream_ended, quality_changed)",
          params: { type: 'object', properties: { id: { type: 'string', format: 'uuid' } }, required: ['id'] },
          response: { 426: errorResponseSchema },
        },
      },
      async (_req, reply) => reply.status(426).header('upgrade', 'websocket').send({ error: { code: 'upgrade_required', message: 'open this URL as a WebSocket' } }),
    );
    const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head);
    http.server.prependListener('upgrade', onUpgrade);
    return () => {
      http.server.off('upgrade', onUpgrade);
      for (const set of this.clients.values()) for (const ws of set) ws.terminate();
      this.wss.close();
    };
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const m = this.path.exec(url.pathname);
    if (!m) return;
    // A page that also fetches the playlists passes the same `viewer` id to both: counted once.
    const given = url.searchParams.get('viewer');
    const viewer = given && /^[A-Za-z0-9_.:-]{1,80}$/.test(given) ? given : `door-${randomUUID()}`;
    (req as unknown as Record<symbol, unknown>)[UPGRADE_CLAIMED] = true;
    socket.on('error', () => socket.destroy());
    const streamId = m[1]!;
    const admit = (exists: boolean) => {
      if (!exists) {
        this.metrics.wsFailures.inc({ reason: 'unknown_stream' });
        return refuse(socket, 404, 'not_found', `no stream ${streamId}`);
      }
      if (this.total >= MAX_DOOR_CONNECTIONS) {
        this.metrics.wsFailures.inc({ reason: 'too_many' });
        return refuse(socket, 503, 'too_many_connections', `more than ${MAX_DOOR_CONNECTIONS} event door connections`);
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(streamId, ws, viewer));
    };
    // A live stream is known in memory: its viewers join without a database round trip, which
    // (PGlite on the main thread) could queue behind a batch of viewer-session writes.
    if (this.service.isLive(streamId)) return admit(true);
    void this.service.store.getStream(streamId).then(
      (row) => admit(Boolean(row)),
      () => {
        this.metrics.wsFailures.inc({ reason: 'internal' });
        refuse(socket, 503, 'internal', 'stream lookup failed');
      },
    );
  }

  private accept(streamId: string, ws: WebSocket, id: string): void {
    let set = this.clients.get(streamId);
    if (!set) this.clients.set(streamId, (set = new Set()));
    set.add(ws);
    this.total++;
    this.metrics.wsConnections.inc();
    this.service.viewers.wsJoined(streamId, id);
    // The current count at once, so a new viewer need not wait for the next change.
    const now = this.service.viewers.count(streamId);
    ws.send(JSON.stringify({ channel: viewerChannel(streamId), data: { type: 'viewer_count_changed', streamId, viewers: now, peak: this.service.viewers.peak(streamId), at: new Date().toISOString() } }));
    ws.on('error', () => {});
    ws.on('message', () => {}); // the door is one-way; input is ignored
    ws.once('close', () => {
      set.delete(ws);
      if (set.size === 0) this.clients.delete(streamId);
      this.total--;
      this.metrics.wsConnections.dec();
      this.service.viewers.wsLeft(streamId, id);
    });
  }
}
