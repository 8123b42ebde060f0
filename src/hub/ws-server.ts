/**
 * @module hub/ws-server
 * Accepts WebSocket upgrades on /ws and hands them to the hub. Admission (shutdown, per-IP
 * limit, a token in the query string) is decided before the upgrade, so refused clients get a
 * plain HTTP status with a JSON body naming the error code.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { CoreConfig } from '../core/config.js';
import { Errors, type ErrorSpec } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { ANONYMOUS, TokenError, verifyToken, type ClientIdentity } from './auth.js';
import type { Hub } from './hub.js';
import { WS_PATH } from '../protocol/index.js';

function refuse(socket: Duplex, spec: ErrorSpec, message?: string): void {
  const body = JSON.stringify({ error: { code: spec.code, message: message ?? spec.message } });
  const status = { 401: 'Unauthorized', 404: 'Not Found', 429: 'Too Many Requests', 503: 'Service Unavailable' }[spec.httpStatus] ?? 'Error';
  socket.end(
    `HTTP/1.1 ${spec.httpStatus} ${status}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/**
 * Set on an upgrade request by an app's own, prepended 'upgrade' listener that takes the upgrade
 * itself (e.g. the live app's per-stream event door); the hub's listener then leaves it alone.
 */
export const UPGRADE_CLAIMED = Symbol.for('airwaves.upgradeClaimed');

export function clientIp(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? 'unknown';
}

export function attachWebSocketServer(server: Server, hub: Hub, config: CoreConfig, logger: Logger): WebSocketServer {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: config.maxFrameBytes,
    perMessageDeflate: false, // compression costs CPU per subscriber; frames are small and encoded once
    clientTracking: false,
  });
  const log = logger.child({ module: 'ws' });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if ((req as unknown as Record<symbol, unknown>)[UPGRADE_CLAIMED]) return;
    socket.on('error', destroyOnError);
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== WS_PATH) return refuse(socket, Errors.notFound, `no WebSocket endpoint at ${url.pathname}; use ${WS_PATH}`);
    const ip = clientIp(req);
    const refusal = hub.admit(ip);
    if (refusal) return refuse(socket, refusal, refusal === Errors.rateLimited ? `more than ${config.maxConnectionsPerIp} connections from ${ip}` : undefined);
    const token = url.searchParams.get('token');
    const upgrade = (identity: ClientIdentity) =>
      wss.handleUpgrade(req, socket, head, (ws) => {
        hub.accept(ws, ip, identity);
      });
    if (!token) return upgrade(ANONYMOUS);
    verifyToken(token, config.jwtSecret).then(upgrade, (err: unknown) => {
      log.debug({ ip, err }, 'token refused at upgrade');
      refuse(socket, Errors.unauthorized, err instanceof TokenError ? err.message : undefined);
    });
  });
  return wss;
}

/**
 * Module-level on purpose: a closure here would share the upgrade handler's scope and keep every
 * connection's request and head buffer alive (~1.3 KB per idle connection, measured).
 */
function destroyOnError(this: Duplex): void {
  this.destroy();
}
