/**
 * @module apps/live/rtmp/server
 * The embedded RTMP listener: a TCP server that gives each connection an `RtmpSession`.
 * Connections that never finish the handshake are closed after a timeout, and the number of
 * open connections is capped, so idle or half-open sockets cannot pile up; a connection refused
 * by the cap is reported to the observer (a log line and a metric), never dropped silently.
 *
 * Each connection reads into one buffer of its own, reused for every read (net.Socket's `onread`),
 * instead of a fresh 64 KiB buffer per read: a publisher sends about 60 writes a second, and those
 * short-lived external buffers, not the remux, were what V8's collector spent its time on
 * (bench live ingest, 10 publishers: the collector's threads used as much CPU as the main thread).
 */
import { createServer, Socket, type Server } from 'node:net';
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
    // Paused: the connection's handle moves to a socket that reads into its own buffer (accept).
    const server = createServer({ pauseOnConnect: true }, (socket) => this.accept(socket));
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

  private accept(accepted: Socket): void {
    const limit = this.options.maxConnections ?? 1000;
    if (this.sockets.size >= limit) {
      const ip = (accepted.remoteAddress ?? '?').replace(/^::ffff:/, '');
      this.observer.onConnectionRefused('connection_limit', ip, `${this.sockets.size} RTMP connections open (the limit is ${limit})`);
      return void accepted.destroy();
    }
    const socket = withReadBuffer(accepted, (data) => session.receive(data));
    this.sockets.add(socket);
    socket.setNoDelay(true);
    socket.setTimeout(this.options.idleTimeoutMs ?? 30_000, () => {
      this.observer.onProtocolError('timeout', socket.remoteAddress ?? '?', new Error('no data for the idle timeout'));
      socket.destroy();
    });
    socket.once('close', () => this.sockets.delete(socket));
    const session = new RtmpSession(socket, (socket.remoteAddress ?? '?').replace(/^::ffff:/, ''), this.observer);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    if (this.server) await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = null;
  }
}

/** A read buffer per connection: large enough for a 1080p frame's worth of chunks in one read. */
const READ_BUFFER_BYTES = 64 * 1024;

/**
 * The accepted connection as a socket that reads into one reused buffer (`onread`). Node offers
 * `onread` only to sockets it constructs from options, so the paused accepted socket gives up its
 * handle (`_handle`, the documented-by-use way child_process and cluster hand sockets over) and
 * is destroyed without closing it; the server's own connection count goes with it, which is why
 * `accept` caps connections itself.
 */
function withReadBuffer(accepted: Socket, onData: (data: Buffer) => void): Socket {
  const holder = accepted as unknown as { _handle: unknown };
  const handle = holder._handle;
  holder._handle = null;
  accepted.destroy();
  const buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  return new Socket({ handle, readable: true, writable: true, onread: { buffer, callback: (n: number, buf: Buffer) => onData(buf.subarray(0, n)) } } as ConstructorParameters<typeof Socket>[0]);
}
