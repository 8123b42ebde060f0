/**
 * @module bench/hub/lean-socket
 * A minimal RFC 6455 client over a raw TCP socket, for the load generators.
 *
 * Why not the `ws` client: a receiver process holds hundreds of connections and takes hundreds of
 * thousands of frames per second on a machine whose two cores it shares with the server under
 * test. `ws` allocates a Buffer and emits an event per frame; here a TCP read is walked in place
 * and each frame is handed over as (buffer, start, end) with one arrival time per read. What is
 * not needed is left out: no extensions, no fragmentation reassembly (the servers under test do
 * not fragment), no UTF-8 validation.
 */
import { connect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';

export const OP_TEXT = 0x1;
export const OP_BINARY = 0x2;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
const OP_PONG = 0xa;

/**
 * Called for every data frame: payload is buf[start, end), `arrivalUs` is when the TCP read
 * arrived, `socket` is the receiving socket (frames can arrive with the handshake response,
 * before `open` has resolved).
 */
export type FrameHandler = (buf: Buffer, start: number, end: number, opcode: number, arrivalUs: number, socket: LeanSocket) => void;

/** Microseconds on CLOCK_MONOTONIC: the same clock in every process on this machine. */
export function monotonicUs(): number {
  const [s, ns] = process.hrtime();
  return s * 1e6 + Math.floor(ns / 1000);
}

/** Where a walk of frames stopped: the first incomplete frame's offset and the bytes it needs in all (0: none). */
export interface WalkStop {
  next: number;
  need: number;
}

/**
 * Walks complete frames in buf[pos, end); says in `stop` (also returned) where the first
 * incomplete frame begins (`end` when everything was consumed) and how many bytes it needs in
 * total. The socket passes one `stop` for all its reads: nothing is allocated per read.
 * Exported so the frame walk can be tested on hand-made byte streams.
 */
export function walkFrames(
  buf: Buffer,
  pos: number,
  end: number,
  onFrame: (start: number, end: number, opcode: number) => void,
  stop: WalkStop = { next: 0, need: 0 },
): WalkStop {
  stop.need = 0;
  while (pos < end) {
    if (end - pos < 2) {
      stop.need = 2;
      break;
    }
    const b1 = buf[pos + 1];
    let len = b1 & 0x7f;
    let header = 2;
    if (len === 126) {
      header = 4;
      if (end - pos < header) {
        stop.need = header;
        break;
      }
      len = buf.readUInt16BE(pos + 2);
    } else if (len === 127) {
      header = 10;
      if (end - pos < header) {
        stop.need = header;
        break;
      }
      len = buf.readUInt32BE(pos + 2) * 2 ** 32 + buf.readUInt32BE(pos + 6);
    }
    if (b1 & 0x80) header += 4; // a masked server frame is a protocol error, but skip the key safely
    const total = header + len;
    if (end - pos < total) {
      stop.need = total;
      break;
    }
    onFrame(pos + header, pos + total, buf[pos] & 0x0f);
    pos += total;
  }
  stop.next = pos;
  return stop;
}

/** Encodes one masked client frame (clients must mask; the key is random per frame). */
export function encodeClientFrame(payload: Buffer, opcode = OP_TEXT): Buffer {
  const len = payload.length;
  const header = len < 126 ? 2 : len < 65536 ? 4 : 10;
  const out = Buffer.allocUnsafe(header + 4 + len);
  out[0] = 0x80 | opcode;
  if (len < 126) out[1] = 0x80 | len;
  else if (len < 65536) {
    out[1] = 0x80 | 126;
    out.writeUInt16BE(len, 2);
  } else {
    out[1] = 0x80 | 127;
    out.writeUInt32BE(Math.floor(len / 2 ** 32), 2);
    out.writeUInt32BE(len >>> 0, 6);
  }
  const key = randomBytes(4);
  key.copy(out, header);
  const body = header + 4;
  for (let i = 0; i < len; i++) out[body + i] = payload[i] ^ key[i & 3];
  return out;
}

export interface LeanSocketOptions {
  host: string;
  port: number;
  /** Request path including the query string, e.g. "/ws". */
  path: string;
  onFrame: FrameHandler;
  onClose?: () => void;
}

/**
 * One read buffer for every socket of the process (`onread`): Node then reads straight into it and
 * calls back with the byte count, skipping the Buffer allocation and the stream machinery of a
 * 'data' event per read. Whatever must outlive the callback (an incomplete frame) is copied out.
 */
const READ_BUFFER = Buffer.allocUnsafe(256 * 1024);
const EMPTY = Buffer.alloc(0);

export class LeanSocket {
  private readonly socket: Socket;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private need = 0;
  /** The current read's bytes and arrival time, for `frameInRead`. */
  private readBuf: Buffer = EMPTY;
  private arrivalUs = 0;
  private readonly walkStop: WalkStop = { next: 0, need: 0 };
  private readonly frameInRead = (start: number, end: number, opcode: number): void => this.onFrame(this.readBuf, start, end, opcode, this.arrivalUs);
  private upgraded = false;
  /** Bytes of the HTTP response head until the upgrade completes. */
  private head: Buffer = Buffer.alloc(0);
  private onHead: ((chunk: Buffer) => void) | null = null;
  closed = false;

  private constructor(
    private readonly options: LeanSocketOptions,
    socket: Socket,
  ) {
    this.socket = socket;
  }

  /** Connects and completes the opening handshake; rejects on anything but 101. */
  static open(options: LeanSocketOptions, timeoutMs = 15_000): Promise<LeanSocket> {
    return new Promise((resolve, reject) => {
      let lean: LeanSocket | null = null;
      const socket = connect({
        host: options.host,
        port: options.port,
        noDelay: true,
        onread: {
          buffer: READ_BUFFER,
          callback: (nread: number) => {
            if (lean!.upgraded) lean!.onData(READ_BUFFER, nread);
            else lean!.onHead?.(Buffer.from(READ_BUFFER.subarray(0, nread))); // copied: the read buffer is reused
            return true;
          },
        },
      });
      lean = new LeanSocket(options, socket);
      const self = lean;
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`WebSocket handshake to ${options.host}:${options.port}${options.path} timed out`));
      }, timeoutMs);
      self.onHead = (chunk: Buffer) => {
        self.head = self.head.length ? Buffer.concat([self.head, chunk]) : chunk;
        const end = self.head.indexOf('\r\n\r\n');
        if (end < 0) return;
        self.onHead = null;
        clearTimeout(timer);
        const status = self.head.subarray(0, self.head.indexOf('\r\n')).toString('latin1');
        if (!/^HTTP\/1\.1 101 /.test(status)) {
          socket.destroy();
          reject(new Error(`WebSocket handshake refused: ${status}`));
          return;
        }
        self.upgraded = true;
        resolve(self);
        const rest = self.head.subarray(end + 4);
        self.head = Buffer.alloc(0);
        if (rest.length) self.onData(rest, rest.length);
      };
      socket.once('connect', () => {
        const key = randomBytes(16).toString('base64');
        socket.write(
          `GET ${options.path} HTTP/1.1\r\nHost: ${options.host}:${options.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
        );
      });
      socket.on('error', (err) => {
        clearTimeout(timer);
        if (!self.upgraded) reject(err);
      });
      socket.on('close', () => {
        self.closed = true;
        if (self.upgraded) options.onClose?.();
      });
    });
  }

  /**
   * chunk[0, length) was read; `chunk` may be the shared read buffer, so nothing may keep it past
   * this call. The hot path of every receiver: one clock reading per read and nothing allocated
   * unless a frame is split across reads (the walk's handler and its stop are made once per socket).
   */
  private onData(chunk: Buffer, length: number): void {
    this.arrivalUs = monotonicUs();
    let buf = chunk;
    let end = length;
    if (this.pendingBytes > 0) {
      this.pending.push(Buffer.from(chunk.subarray(0, length)));
      this.pendingBytes += length;
      // Gather until the incomplete frame is whole: one concat per frame, not one per read.
      if (this.pendingBytes < this.need) return;
      buf = Buffer.concat(this.pending, this.pendingBytes);
      end = buf.length;
      this.pending = [];
      this.pendingBytes = 0;
    }
    this.readBuf = buf;
    const { next, need } = walkFrames(buf, 0, end, this.frameInRead, this.walkStop);
    this.readBuf = EMPTY;
    if (next < end) {
      this.pending = [Buffer.from(buf.subarray(next, end))];
      this.pendingBytes = end - next;
      this.need = need;
    }
  }

  private onFrame(buf: Buffer, start: number, end: number, opcode: number, arrivalUs: number): void {
    if (opcode === OP_PING) this.socket.write(encodeClientFrame(buf.subarray(start, end), OP_PONG));
    else if (opcode === OP_CLOSE) this.socket.end();
    else if (opcode !== OP_PONG) this.options.onFrame(buf, start, end, opcode, arrivalUs, this);
  }

  sendText(text: string | Buffer): void {
    this.socket.write(encodeClientFrame(typeof text === 'string' ? Buffer.from(text) : text));
  }

  /** Writes already-encoded frames in one socket write (several publishes in one TCP segment). */
  writeRaw(frames: Buffer): boolean {
    return this.socket.write(frames);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
  }
}
