/**
 * @module protocol/binary-frame
 * The binary frame of media namespaces: magic 0xA1, channel length (u8), channel (UTF-8),
 * offset (f64 BE), timestamp ms (f64 BE), then the payload. The layout is defined here once; the
 * server's encoder (src/hub/frame-encoding.ts) writes it into a Buffer, and this decoder reads it
 * from any Uint8Array, in Node or in a browser.
 */
import { ProtocolError } from './messages.js';

export const BINARY_MAGIC = 0xa1;
/** Bytes before the channel name: the magic and the channel length. */
export const BINARY_PREFIX_BYTES = 2;
/** Bytes after the channel name and before the payload: offset and timestamp, f64 BE each. */
export const BINARY_POSITION_BYTES = 16;
/** The longest channel name, in UTF-8 bytes, a binary frame can carry (its length is one byte). */
export const BINARY_MAX_CHANNEL_BYTES = 255;

export interface BinaryFrame {
  channel: string;
  offset: number;
  ts: number;
  payload: Uint8Array;
}

/** Decodes a binary frame header; the payload is a view (no copy). Works on Buffer and Uint8Array. */
export function decodeBinaryFrame(bytes: Uint8Array): BinaryFrame {
  if (bytes.byteLength < BINARY_PREFIX_BYTES + BINARY_POSITION_BYTES || bytes[0] !== BINARY_MAGIC) throw new ProtocolError('bad_frame', 'binary frame must start with 0xA1 and a header');
  const len = bytes[1];
  if (len === 0 || bytes.byteLength < BINARY_PREFIX_BYTES + len + BINARY_POSITION_BYTES) throw new ProtocolError('bad_frame', 'binary frame header is truncated');
  const channel = new TextDecoder().decode(bytes.subarray(BINARY_PREFIX_BYTES, BINARY_PREFIX_BYTES + len));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const offset = view.getFloat64(BINARY_PREFIX_BYTES + len);
  const ts = view.getFloat64(BINARY_PREFIX_BYTES + len + 8);
  return { channel, offset, ts, payload: bytes.subarray(BINARY_PREFIX_BYTES + len + BINARY_POSITION_BYTES) };
}
