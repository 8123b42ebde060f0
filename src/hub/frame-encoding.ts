/**
 * @module hub/frame-encoding
 * Server-side encoding of protocol v1 frames into Buffers: called once per message, never per
 * subscriber (the frame is shared by every socket that receives it).
 *
 * A publication is encoded straight into a complete WebSocket frame (its "wire": header, then the
 * protocol frame) so it is framed once and the same bytes go to every socket that gets it on its
 * own; the protocol frame alone is a view into the same memory, not a copy.
 */
import {
  BINARY_MAGIC,
  BINARY_MAX_CHANNEL_BYTES,
  BINARY_POSITION_BYTES,
  BINARY_PREFIX_BYTES,
  type EventPush,
} from '../protocol/index.js';
import { integerText } from '../core/integer-text.js';

/** WebSocket opcodes (RFC 6455 §5.2) the hub sends. */
export const WS_TEXT = 0x1;
export const WS_BINARY = 0x2;

/** Length of the header of an unmasked server frame whose payload is `length` bytes. */
export function wsHeaderLength(length: number): number {
  return length < 126 ? 2 : length < 65536 ? 4 : 10;
}

/** The payload of a frame built here, as a view (no copy). */
export function wsPayloadOf(wire: Buffer): Buffer {
  const length7 = wire[1] & 0x7f;
  return wire.subarray(length7 < 126 ? 2 : length7 === 126 ? 4 : 10);
}

/** Writes a final, unmasked frame header at the start of `out`; returns its length. */
function writeWsHeader(out: Buffer, opcode: number, length: number): number {
  out[0] = 0x80 | opcode;
  if (length < 126) {
    out[1] = length;
    return 2;
  }
  if (length < 65536) {
    out[1] = 126;
    out.writeUInt16BE(length, 2);
    return 4;
  }
  out[1] = 127;
  out.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
  out.writeUInt32BE(length >>> 0, 6);
  return 10;
}

/**
 * One unmasked, final text frame holding `payload`, in a single buffer (a copy). For what is sent
 * to one client only (replies, notices) and for batches joined for a flush pass.
 */
export function textFrame(payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(wsHeaderLength(payload.length) + payload.length);
  payload.copy(out, writeWsHeader(out, WS_TEXT, payload.length));
  return out;
}

const NEWLINE = Buffer.from('\n');

/** items[from, to), text frames all, joined by "\n" into one WebSocket text frame (one copy). */
export function joinedTextFrame(items: readonly { readonly frame?: Buffer }[], from: number, to: number): Buffer {
  const parts: Buffer[] = new Array((to - from) * 2 - 1);
  let length = to - from - 1;
  for (let i = from; i < to; i++) {
    const f = items[i].frame!;
    parts[(i - from) * 2] = f;
    if (i < to - 1) parts[(i - from) * 2 + 1] = NEWLINE;
    length += f.length;
  }
  return textFrame(Buffer.concat(parts, length));
}

export function encodeReply(id: number, result: unknown): Buffer {
  return Buffer.from(`{"id":${id},"ok":true,"result":${JSON.stringify(result ?? null)}}`);
}

export function encodeError(id: number | undefined, code: string, message: string, retryAfterMs?: number): Buffer {
  const error = retryAfterMs === undefined ? { code, message } : { code, message, retryAfterMs };
  return Buffer.from(JSON.stringify({ id: id ?? null, ok: false, error }));
}

function publicationText(channel: string, offset: number, ts: number, json: string, key?: string): string {
  const keyPart = key === undefined ? '' : `,"key":${JSON.stringify(key)}`;
  return `{"channel":${JSON.stringify(channel)},"offset":${offset},"ts":${integerText(ts)}${keyPart},"data":${json}}`;
}

/** Encodes a publication push; `json` is the already-serialised data. */
export function encodePublication(channel: string, offset: number, ts: number, json: string, key?: string): Buffer {
  return Buffer.from(publicationText(channel, offset, ts, json, key));
}

/** A publication push as a complete WebSocket text frame (see the module comment). */
export function encodePublicationWire(channel: string, offset: number, ts: number, json: string, key?: string): Buffer {
  const text = publicationText(channel, offset, ts, json, key);
  const length = Buffer.byteLength(text);
  const out = Buffer.allocUnsafe(wsHeaderLength(length) + length);
  out.write(text, writeWsHeader(out, WS_TEXT, length), 'utf8');
  return out;
}

export function encodeEvent(push: EventPush): Buffer {
  return Buffer.from(JSON.stringify(push));
}

/** Encodes a binary frame: the header is written once and the payload copied once. */
export function encodeBinaryFrame(channel: string, offset: number, ts: number, payload: Uint8Array): Buffer {
  return encodeBinary(channel, offset, ts, payload, false);
}

/** A binary publication as a complete WebSocket binary frame (see the module comment). */
export function encodeBinaryWire(channel: string, offset: number, ts: number, payload: Uint8Array): Buffer {
  return encodeBinary(channel, offset, ts, payload, true);
}

function encodeBinary(channel: string, offset: number, ts: number, payload: Uint8Array, wire: boolean): Buffer {
  const ch = Buffer.from(channel, 'utf8');
  if (ch.length > BINARY_MAX_CHANNEL_BYTES) throw new RangeError('channel too long for a binary frame');
  const headerLength = BINARY_PREFIX_BYTES + ch.length + BINARY_POSITION_BYTES;
  const length = headerLength + payload.byteLength;
  const at = wire ? wsHeaderLength(length) : 0;
  const out = Buffer.allocUnsafe(at + length);
  if (wire) writeWsHeader(out, WS_BINARY, length);
  out[at] = BINARY_MAGIC;
  out[at + 1] = ch.length;
  ch.copy(out, at + BINARY_PREFIX_BYTES);
  out.writeDoubleBE(offset, at + BINARY_PREFIX_BYTES + ch.length);
  out.writeDoubleBE(ts, at + BINARY_PREFIX_BYTES + ch.length + 8);
  out.set(payload, at + headerLength);
  return out;
}
