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
  /**
   * A publisher's socket is read at most once per this many ms once its kernel buffer is drained
   * (0: read whenever data arrives). See ReadBatcher.
   */
  readBatchMs?: number;
}

export class RtmpServer {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private readonly batcher: ReadBatcher;

  constructor(
    private readonly options: RtmpServerOptions,
    private readonly observer: SessionObserver,
  ) {
    this.batcher = new ReadBatcher(options.readBatchMs ?? DEFAULT_READ_BATCH_MS);
  }

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
    const socket = withReadBuffer(accepted, (data) => {
      session.receive(data);
      // A read that did not fill the buffer drained the kernel's: stop reading until the next batch.
      return !(data.length < READ_BUFFER_BYTES && session.isPublishing && this.batcher.hold(socket, session.msUntilNeeded));
    });
    this.sockets.add(socket);
    socket.setNoDelay(true);
    socket.setTimeout(this.options.idleTimeoutMs ?? 30_000, () => {
      this.observer.onProtocolError('timeout', socket.remoteAddress ?? '?', new Error('no data for the idle timeout'));
      socket.destroy();
    });
    socket.once('close', () => {
      this.sockets.delete(socket);
      this.batcher.forget(socket);
    });
    const session = new RtmpSession(socket, (socket.remoteAddress ?? '?').replace(/^::ffff:/, ''), this.observer);
  }

  async close(): Promise<void> {
    this.batcher.stop();
    for (const s of this.sockets) s.destroy();
    if (this.server) await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = null;
  }
}

/**
 * 40 ms: about one frame at 25-30 fps. What it buys: a publisher's encoder writes each frame and
 * each audio packet apart (~56 writes a second for 1080p30 + AAC), and each write woke the process
 * for one small read; the wake-up, not the remux, was most of a stream's CPU (bench live ingest:
 * 1 publisher cost 3x per stream what each of 10 did, whose reads shared wake-ups). With the
 * batch, publishers are read on the same 40 ms ticks, so their reads share wake-ups.
 */
const DEFAULT_READ_BATCH_MS = 40;

/**
 * The longest a drained publisher's socket is left unread (ms), whatever its session says: the
 * kernel holds what arrives meanwhile (~125 KB at 4 Mb/s), and a remote publisher's TCP window
 * must cover it, so the wait stays about one part.
 */
const MAX_READ_WAIT_MS = 250;

/**
 * Holds drained publisher sockets and resumes each at the first batch tick (a multiple of
 * `intervalMs`) at or after the time its session said its media can wait until: the end of the
 * open part (MediaSink.msUntilNeeded). A lone 1080p30 publisher woke the process 25 times a
 * second, and at one publisher the wake-ups (timer, epoll_ctl twice, epoll, read, the loop's own
 * turn), not the remux, were most of the stream's cost (bench live ingest: 1 publisher 1.2 % of a
 * core, each of 10 only 0.34 %, with the same 25 wake-ups a second shared); read at its part
 * boundaries it wakes the process ~5 times a second (strace, live8), and the frame that closes a
 * part is still read at the first tick after it arrives, when the publisher keeps real time.
 * Several publishers' due ticks coincide on the grid, so their reads still share wake-ups. One
 * timer, armed for the earliest due tick, runs only while some socket waits. Resuming re-arms the
 * read before the event loop polls, so the resumed socket's buffered bytes are read in the same
 * wake-up as the timer.
 */
class ReadBatcher {
  /** Held sockets and the tick (ms since the epoch) each is resumed at. */
  private readonly waiting = new Map<Socket, number>();
  private timer: NodeJS.Timeout | null = null;
  private armedFor = Infinity;

  constructor(private readonly intervalMs: number) {}

  /**
   * Takes a drained socket until the first tick at least `waitMs` (at most MAX_READ_WAIT_MS) from
   * now; true when it did (the read callback then returns false, which stops the handle's reads).
   * Not `socket.pause()`: that also pauses the socket as a stream, and the stream's resume (a
   * tick, events, a read attempt) cost ~85-100 µs a batch for one publisher, ~10 % of a lone
   * stream's main thread (docs/live.md); with the stream never paused, `socket.resume()` only
   * restarts the handle's reads.
   */
  hold(socket: Socket, waitMs = 0): boolean {
    if (this.intervalMs <= 0) return false;
    const wait = Math.min(Math.max(waitMs, 1), MAX_READ_WAIT_MS);
    const now = Date.now();
    const due = Math.ceil((now + wait) / this.intervalMs) * this.intervalMs;
    this.waiting.set(socket, due);
    if (due < this.armedFor) this.arm(due, now);
    return true;
  }

  forget(socket: Socket): void {
    this.waiting.delete(socket);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.armedFor = Infinity;
    this.waiting.clear();
  }

  /** `now` is the caller's own clock reading, so one decision reads the clock once. */
  private arm(due: number, now: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.armedFor = due;
    this.timer = setTimeout(() => this.resumeDue(), Math.max(0, due - now));
  }

  private resumeDue(): void {
    this.timer = null;
    this.armedFor = Infinity;
    // A timer may fire a little early on the millisecond clock: what is due by then counts as due.
    const now = Date.now();
    let next = Infinity;
    for (const [socket, due] of this.waiting) {
      if (due <= now + 1) {
        this.waiting.delete(socket);
        if (!socket.destroyed) socket.resume();
      } else if (due < next) next = due;
    }
    if (next !== Infinity) this.arm(next, now);
  }
}

/** A read buffer per connection: large enough for a 1080p frame's worth of chunks in one read. */
const READ_BUFFER_BYTES = 64 * 1024;

/**
 * The accepted connection as a socket that reads into one reused buffer (`onread`). Node offers
 * `onread` only to sockets it constructs from options, so the paused accepted socket gives up its
 * handle (`_handle`, the documented-by-use way child_process and cluster hand sockets over) and
 * is destroyed without closing it; the server's own connection count goes with it, which is why
 * `accept` caps connections itself. `onData` returning false stops the handle's reads (the
 * `onread` contract) until `socket.resume()`.
 */
function withReadBuffer(accepted: Socket, onData: (data: Buffer) => boolean): Socket {
  const holder = accepted as unknown as { _handle: unknown };
  const handle = holder._handle;
  holder._handle = null;
  accepted.destroy();
  const buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  return new Socket({ handle, readable: true, writable: true, onread: { buffer, callback: (n: number, buf: Buffer) => onData(buf.subarray(0, n)) } } as ConstructorParameters<typeof Socket>[0]);
}
