/**
 * @module hub/frame-encoding
 * Server-side encoding of protocol v1 frames into Buffers: called once per message, never per
 * subscriber (the frame is shared by every socket that receives it).
 */
import {
  BINARY_MAGIC,
  BINARY_MAX_CHANNEL_BYTES,
  BINARY_POSITION_BYTES,
  BINARY_PREFIX_BYTES,
  type EventPush,
} from '../protocol/index.js';

export function encodeReply(id: number, result: unknown): Buffer {
  return Buffer.from(`{"id":${id},"ok":true,"result":${JSON.stringify(result ?? null)}}`);
}

export function encodeError(id: number | undefined, code: string, message: string): Buffer {
  return Buffer.from(JSON.stringify({ id: id ?? null, ok: false, error: { code, message } }));
}

/** Encodes a publication push; `json` is the already-serialised data. */
export function encodePublication(channel: string, offset: number, ts: number, json: string, key?: string): Buffer {
  const keyPart = key === undefined ? '' : `,"key":${JSON.stringify(key)}`;
  return Buffer.from(`{"channel":${JSON.stringify(channel)},"offset":${offset},"ts":${ts}${keyPart},"data":${json}}`);
}

export function encodeEvent(push: EventPush): Buffer {
  return Buffer.from(JSON.stringify(push));
}

/** Encodes a binary frame: the header is written once and the payload copied once. */
export function encodeBinaryFrame(channel: string, offset: number, ts: number, payload: Uint8Array): Buffer {
  const ch = Buffer.from(channel, 'utf8');
  if (ch.length > BINARY_MAX_CHANNEL_BYTES) throw new RangeError('channel too long for a binary frame');
  const headerLength = BINARY_PREFIX_BYTES + ch.length + BINARY_POSITION_BYTES;
  const out = Buffer.allocUnsafe(headerLength + payload.byteLength);
  out[0] = BINARY_MAGIC;
  out[1] = ch.length;
  ch.copy(out, BINARY_PREFIX_BYTES);
  out.writeDoubleBE(offset, BINARY_PREFIX_BYTES + ch.length);
  out.writeDoubleBE(ts, BINARY_PREFIX_BYTES + ch.length + 8);
  out.set(payload, headerLength);
  return out;
}
