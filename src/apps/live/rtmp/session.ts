/**
 * @module apps/live/rtmp/session
 * One RTMP connection, server side: handshake, then the command dialogue of a publisher
 * (connect → releaseStream/FCPublish → createStream → publish → … → FCUnpublish/deleteStream).
 * The stream key (the publish name) is checked by `authorize` before any media is accepted:
 * audio/video arriving before a successful publish is dropped and counted, and a refused key
 * gets `onStatus NetStream.Publish.BadName` and the connection is closed.
 */
import type { Socket } from 'node:net';
import { decodeAmf0, encodeAmf0, type Amf0Value } from './amf0.js';
import { ChunkReader, ChunkStreamError, control, encodeMessage, type RtmpMessage } from './chunk-stream.js';
import { ServerHandshake } from './handshake.js';

/** Where an accepted publisher's media goes. */
export interface MediaSink {
  onMetadata(meta: Record<string, Amf0Value>): void;
  /** `release` frees the payload's staging memory once its bytes are copied (see RtmpMessage). */
  onVideo(timestamp: number, payload: Buffer, release?: () => void): void;
  onAudio(timestamp: number, payload: Buffer, release?: () => void): void;
  /** The publisher stopped (`unpublish`), the socket closed (`disconnect`) or the input broke (`error`). */
  onEnd(reason: 'unpublish' | 'disconnect' | 'error', detail?: string): void;
  /** How long (ms) more media can wait unread without delaying anything the sink serves; 0 or absent: read it soon. */
  msUntilNeeded?(): number;
  /** Receives the function that disconnects the publisher (a stream ended from the API). */
  attach?(disconnect: () => void): void;
}

export type PublishDecision = { ok: true; sink: MediaSink } | { ok: false; code: 'BadName' | 'Throttled'; reason: string };

export interface PublishRequest {
  app: string;
  name: string;
  ip: string;
}

export interface SessionObserver {
  authorize(request: PublishRequest): Promise<PublishDecision>;
  /** A protocol violation or malformed input: the connection is closed after this. */
  onProtocolError(kind: string, ip: string, err: Error): void;
  /** Input dropped without closing (media before publish, unknown messages). */
  onDropped(kind: string): void;
  /**
   * A connection closed as soon as it was accepted, before any byte was read (the listener's
   * cap on open connections): the observer logs and counts it, so no refusal is silent.
   */
  onConnectionRefused(reason: 'connection_limit', ip: string, detail: string): void;
}

const OUT_CHUNK_SIZE = 4096;
const WINDOW_ACK_SIZE = 2_500_000;

export class RtmpSession {
  private handshake: ServerHandshake | null = new ServerHandshake();
  private readonly reader = new ChunkReader();
  private app = '';
  private sink: MediaSink | null = null;
  private publishing = false;

  /** Whether media is flowing (a publish was accepted and has not ended): the listener batches its reads then. */
  get isPublishing(): boolean {
    return this.publishing;
  }
  /** See MediaSink.msUntilNeeded (0 while not publishing). */
  get msUntilNeeded(): number {
    return this.publishing ? (this.sink?.msUntilNeeded?.() ?? 0) : 0;
  }
  private authorizing = false;
  private peerAckWindow = 0;
  private lastAck = 0;
  private ended = false;

  constructor(
    private readonly socket: Socket,
    private readonly ip: string,
    private readonly observer: SessionObserver,
  ) {
    socket.on('close', () => this.end('disconnect', this.reader.pendingBytes > 0 ? `closed with ${this.reader.pendingBytes} bytes of an unfinished chunk` : undefined));
    socket.on('error', () => {});
  }

  /**
   * Bytes read from the socket (apps/live/rtmp/server reads into one reused buffer per
   * connection: nothing here keeps a view of `data` past this call; the chunk reader copies).
   */
  receive(data: Buffer): void {
    try {
      if (this.handshake) {
        const step = this.handshake.push(data);
        if (step.reply) this.socket.write(step.reply);
        if (!step.done) return;
        this.handshake = null;
        data = step.rest;
        if (data.length === 0) return;
      }
      for (const message of this.reader.push(data)) this.onMessage(message);
      if (this.peerAckWindow > 0 && this.reader.bytesRead - this.lastAck >= this.peerAckWindow) {
        this.lastAck = this.reader.bytesRead;
        this.send(2, control.acknowledgement(this.reader.bytesRead));
      }
    } catch (err) {
      const kind = this.handshake ? 'handshake' : (err as Error).name === 'Amf0Error' ? 'amf0' : 'chunk';
      this.observer.onProtocolError(kind, this.ip, err as Error);
      this.end('error', (err as Error).message);
      this.socket.destroy();
    }
  }

  private send(csid: number, message: RtmpMessage): void {
    if (!this.socket.destroyed) this.socket.write(encodeMessage(csid, message, OUT_CHUNK_SIZE));
  }

  private command(streamId: number, ...values: Amf0Value[]): void {
    this.send(streamId === 0 ? 3 : 5, { typeId: 20, streamId, timestamp: 0, payload: encodeAmf0(...values) });
  }

  private onMessage(m: RtmpMessage): void {
    switch (m.typeId) {
      case 1: // applied by the reader as soon as the message completes
        return;
      case 2:
        if (m.payload.length < 4) throw new ChunkStreamError('Abort message shorter than 4 bytes');
        this.reader.abort(m.payload.readUInt32BE(0));
        return;
      case 3:
      case 4:
      case 6:
        return;
      case 5:
        if (m.payload.length < 4) throw new ChunkStreamError('WindowAckSize message shorter than 4 bytes');
        this.peerAckWindow = m.payload.readUInt32BE(0);
        return;
      case 8:
      case 9:
        if (!this.publishing || !this.sink) return this.observer.onDropped('media_before_publish');
        if (m.typeId === 8) this.sink.onAudio(m.timestamp, m.payload, m.release);
        else this.sink.onVideo(m.timestamp, m.payload, m.release);
        return;
      case 18:
      case 15:
        return this.onData18(m.typeId === 15 ? m.payload.subarray(1) : m.payload);
      case 20:
      case 17:
        return this.onCommand(m.streamId, decodeAmf0(m.typeId === 17 ? m.payload.subarray(1) : m.payload));
      default:
        this.observer.onDropped('unknown_message');
    }
  }

  private onData18(payload: Buffer): void {
    const values = decodeAmf0(payload);
    const [first, second, third] = values;
    const meta = first === '@setDataFrame' ? third : first === 'onMetaData' ? second : undefined;
    if (meta && typeof meta === 'object' && !Array.isArray(meta) && !(meta instanceof Date) && this.sink) this.sink.onMetadata(meta);
  }

  private onCommand(streamId: number, values: Amf0Value[]): void {
    const [name, txn] = values;
    const id = typeof txn === 'number' ? txn : 0;
    switch (name) {
      case 'connect': {
        const obj = values[2];
        this.app = obj && typeof obj === 'object' && !Array.isArray(obj) && !(obj instanceof Date) && typeof obj.app === 'string' ? obj.app : '';
        this.send(2, control.windowAckSize(WINDOW_ACK_SIZE));
        this.send(2, control.setPeerBandwidth(WINDOW_ACK_SIZE));
        this.send(2, control.setChunkSize(OUT_CHUNK_SIZE));
        this.command(0, '_result', id, { fmsVer: 'FMS/3,0,1,123', capabilities: 31 }, { level: 'status', code: 'NetConnection.Connect.Success', description: 'Connection succeeded.', objectEncoding: 0 });
        return;
      }
      case 'releaseStream':
      case 'FCPublish':
      case 'getStreamLength':
        this.command(0, '_result', id, null, undefined);
        return;
      case 'createStream':
        this.command(0, '_result', id, null, 1);
        return;
      case 'publish':
        return void this.publish(streamId || 1, typeof values[3] === 'string' ? values[3] : '');
      case 'FCUnpublish':
      case 'deleteStream':
      case 'closeStream':
        if (this.publishing) {
          this.command(streamId || 1, 'onStatus', 0, null, { level: 'status', code: 'NetStream.Unpublish.Success', description: 'Stopped publishing.' });
          this.end('unpublish');
        }
        return;
      case 'play':
        this.command(streamId || 1, 'onStatus', 0, null, { level: 'error', code: 'NetStream.Play.Failed', description: 'This server does not play over RTMP; watch over HLS or DASH.' });
        this.socket.end();
        return;
      default:
        this.observer.onDropped('unknown_command');
    }
  }

  private async publish(streamId: number, rawName: string): Promise<void> {
    if (this.publishing || this.authorizing) return;
    this.authorizing = true;
    // Query strings (?token=…) some tools append are not part of the key.
    const name = rawName.split('?')[0] ?? '';
    let decision: PublishDecision;
    try {
      decision = await this.observer.authorize({ app: this.app, name, ip: this.ip });
    } catch (err) {
      decision = { ok: false, code: 'BadName', reason: `key check failed: ${(err as Error).message}` };
    }
    this.authorizing = false;
    if (this.socket.destroyed) {
      if (decision.ok) decision.sink.onEnd('disconnect', 'publisher left during the key check');
      return;
    }
    if (!decision.ok) {
      this.command(streamId, 'onStatus', 0, null, { level: 'error', code: 'NetStream.Publish.BadName', description: decision.reason });
      this.socket.end();
      return;
    }
    this.sink = decision.sink;
    this.publishing = true;
    decision.sink.attach?.(() => this.socket.destroy());
    this.send(2, control.streamBegin(streamId));
    this.command(streamId, 'onStatus', 0, null, { level: 'status', code: 'NetStream.Publish.Start', description: `${name.slice(0, 4)}… is now published.` });
  }

  private end(reason: 'unpublish' | 'disconnect' | 'error', detail?: string): void {
    if (this.ended || !this.sink) return;
    this.ended = true;
    this.publishing = false;
    this.sink.onEnd(reason, detail);
  }
}
