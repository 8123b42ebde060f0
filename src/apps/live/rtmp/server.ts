/**
 * @module apps/live/rtmp/server
 * The embedded RTMP listener: a TCP server that gives each connection an `RtmpSession`.
 * Connections that never finish the handshake are closed after a timeout, and the number of
 * open connections is capped, so idle or half-open sockets cannot pile up.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { RtmpSession, type SessionObserver } from './session.js';

export interface RtmpServerOptions {
  host: string;
  port: number;
  /** Open connections at most (publishers and anything else that connects). */
  maxConnections?: number;
  /** A connection silent this long is closed (ms). */
  idleTimeoutMs?: number;
}

export class RtmpServer {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();

  constructor(
    private readonly options: RtmpServerOptions,
    private readonly observer: SessionObserver,
  ) {}

  async listen(): Promise<number> {
    const server = createServer((socket) => this.accept(socket));
    server.maxConnections = this.options.maxConnections ?? 1000;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return this.port;
  }

  get port(): number {
    const address = this.server?.address();
    return address && typeof address === 'object' ? address.port : 0;
  }

  get connections(): number {
    return this.sockets.size;
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.setNoDelay(true);
    socket.setTimeout(this.options.idleTimeoutMs ?? 30_000, () => {
      this.observer.onProtocolError('timeout', socket.remoteAddress ?? '?', new Error('no data for the idle timeout'));
      socket.destroy();
    });
    socket.once('close', () => this.sockets.delete(socket));
    new RtmpSession(socket, (socket.remoteAddress ?? '?').replace(/^::ffff:/, ''), this.observer);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    if (this.server) await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = null;
  }
}
