/**
 * @module apps/live/rtmp/handshake
 * The RTMP handshake, server side: C0 (version 3) + C1 (1536 bytes) in, S0 + S1 + S2 out, then
 * C2 in. The simple handshake: S1 carries zero in its version field, which tells Flash-era
 * clients not to look for the digest scheme, and S2 echoes C1. OBS (librtmp) and ffmpeg accept
 * it for publishing.
 */
import { randomBytes } from 'node:crypto';

export const HANDSHAKE_SIZE = 1536;

export class HandshakeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HandshakeError';
  }
}

export type HandshakeStep = { done: false; reply?: Buffer } | { done: true; rest: Buffer; reply?: Buffer };

/** Consumes handshake bytes as they arrive; `reply` is what to send, `rest` the chunk stream that follows. */
export class ServerHandshake {
  private buffer = Buffer.alloc(0);
  private stage: 'c0c1' | 'c2' = 'c0c1';

  push(data: Buffer): HandshakeStep {
    this.buffer = Buffer.concat([this.buffer, data]);
    if (this.stage === 'c0c1') {
      if (this.buffer.length < 1) return { done: false };
      if (this.buffer[0] !== 3) throw new HandshakeError(`RTMP version byte ${this.buffer[0]} (expected 3; is this RTMPS or not RTMP at all?)`);
      if (this.buffer.length < 1 + HANDSHAKE_SIZE) return { done: false };
      const c1 = this.buffer.subarray(1, 1 + HANDSHAKE_SIZE);
      this.buffer = this.buffer.subarray(1 + HANDSHAKE_SIZE);
      this.stage = 'c2';
      const s1 = randomBytes(HANDSHAKE_SIZE);
      s1.writeUInt32BE(0, 0);
      s1.writeUInt32BE(0, 4);
      const reply = Buffer.concat([Buffer.from([3]), s1, c1]);
      const next = this.push(Buffer.alloc(0));
      return next.done ? { ...next, reply } : { done: false, reply };
    }
    if (this.buffer.length < HANDSHAKE_SIZE) return { done: false };
    return { done: true, rest: this.buffer.subarray(HANDSHAKE_SIZE) };
  }
}
