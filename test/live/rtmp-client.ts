/**
 * A raw RTMP publisher for tests: performs the handshake and the publish dialogue with the
 * server's own framing modules, then lets a test send exactly the bytes it wants (corrupt
 * payloads, half a chunk) and read the server's onStatus replies.
 */
import { connect, type Socket } from 'node:net';
import { decodeAmf0, encodeAmf0, type Amf0Value } from '../../src/apps/live/rtmp/amf0.js';
import { ChunkReader, encodeMessage, type RtmpMessage } from '../../src/apps/live/rtmp/chunk-stream.js';

export class RawPublisher {
  private readonly reader = new ChunkReader();
  readonly statuses: string[] = [];
  closed = false;
  private buffered = Buffer.alloc(0);
  private handshaken = false;
  private waiters: (() => void)[] = [];

  private constructor(readonly socket: Socket) {
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => {});
  }

  static async open(port: number): Promise<RawPublisher> {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    return new RawPublisher(socket);
  }

  private onData(d: Buffer): void {
    if (!this.handshaken) {
      this.buffered = Buffer.concat([this.buffered, d]);
      if (this.buffered.length < 1 + 1536 * 2) return;
      const s1 = this.buffered.subarray(1, 1537);
      const rest = this.buffered.subarray(1 + 1536 * 2);
      this.handshaken = true;
      this.socket.write(s1);
      this.wake();
      if (rest.length) this.onData(rest);
      return;
    }
    for (const m of this.reader.push(d)) {
      if (m.typeId === 20) {
        const v = decodeAmf0(m.payload);
        const info = v[3] as { code?: string } | undefined;
        if (v[0] === 'onStatus' && info?.code) this.statuses.push(info.code);
        else if (v[0] === '_result') this.statuses.push(`_result:${String(v[1])}`);
      }
    }
    this.wake();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  async until(pred: () => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred()) {
      if (Date.now() > deadline) throw new Error(`RTMP client: timed out (statuses: ${this.statuses.join(', ')}; closed: ${this.closed})`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  async handshake(): Promise<void> {
    const c1 = Buffer.alloc(1536, 7);
    this.socket.write(Buffer.concat([Buffer.from([3]), c1]));
    await this.until(() => this.handshaken);
  }

  send(message: RtmpMessage, csid = 3): void {
    this.socket.write(encodeMessage(csid, message, 128));
  }

  command(streamId: number, ...values: Amf0Value[]): void {
    this.send({ typeId: 20, streamId, timestamp: 0, payload: encodeAmf0(...values) }, streamId ? 8 : 3);
  }

  /** connect → createStream → publish(name); resolves with the publish status code. */
  async publish(name: string, app = 'live'): Promise<string> {
    await this.handshake();
    this.command(0, 'connect', 1, { app, tcUrl: `rtmp://127.0.0.1/${app}` });
    await this.until(() => this.statuses.includes('_result:1'));
    this.command(0, 'createStream', 2, null);
    await this.until(() => this.statuses.includes('_result:2'));
    this.command(1, 'publish', 3, null, name, 'live');
    await this.until(() => this.statuses.some((s) => s.startsWith('NetStream.Publish')) || this.closed);
    return this.statuses.find((s) => s.startsWith('NetStream.Publish')) ?? 'closed';
  }

  video(timestamp: number, payload: Buffer): void {
    this.send({ typeId: 9, streamId: 1, timestamp, payload }, 6);
  }

  close(): void {
    this.socket.destroy();
  }
}
