/**
 * @module client/frames
 * Reads what the server sends: a text frame is one or more JSON values (batched, see
 * src/protocol/batch.ts), each a reply, an event or a publication; a binary frame is a media
 * publication. Browser-safe: binary data arrives as ArrayBuffer (browsers) or Buffer/fragments (ws).
 */
import { BATCH_SEPARATOR, decodeBinaryFrame } from '../protocol/index.js';
import { AirwavesClientError } from './codes.js';
import type { Item } from './subscription.js';
import type { Publication } from './types.js';

/** Where each value of a server message goes. */
export interface ServerMessageHandlers {
  /** A reply to a command (has `ok` and `id`). */
  reply(m: Record<string, unknown>): void;
  /** A notice (has `event`): disconnect, gap, join, leave, unsubscribed. */
  event(m: Record<string, unknown>): void;
  /** A publication, JSON or binary, on `channel`. */
  item(channel: string, item: Item): void;
  /** A frame that could not be read (`bad_json`, `bad_frame`). */
  error(err: AirwavesClientError): void;
}

/** Reads one WebSocket message from the server and hands each value to `on`. */
export function readServerMessage(data: unknown, on: ServerMessageHandlers): void {
  if (typeof data === 'string') {
    for (const line of data.split(BATCH_SEPARATOR)) {
      if (line.length === 0) continue;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        on.error(new AirwavesClientError('bad_json', 'received a frame that is not valid JSON'));
        continue;
      }
      dispatch(value, on);
    }
    return;
  }
  const bytes = toBytes(data);
  if (!bytes) {
    on.error(new AirwavesClientError('bad_frame', 'received a binary message of an unsupported type (set binaryType to "arraybuffer")'));
    return;
  }
  let frame;
  try {
    frame = decodeBinaryFrame(bytes);
  } catch (err) {
    on.error(new AirwavesClientError('bad_frame', (err as Error).message));
    return;
  }
  on.item(frame.channel, { kind: 'binary', value: { channel: frame.channel, offset: frame.offset, ts: frame.ts, payload: frame.payload } });
}

function dispatch(value: unknown, on: ServerMessageHandlers): void {
  if (typeof value !== 'object' || value === null) return;
  const m = value as Record<string, unknown>;
  if (typeof m.ok === 'boolean' && 'id' in m) {
    on.reply(m);
    return;
  }
  if (typeof m.event === 'string') {
    on.event(m);
    return;
  }
  if (typeof m.channel === 'string' && typeof m.offset === 'number') {
    const p: Publication = { channel: m.channel, offset: m.offset, ts: typeof m.ts === 'number' ? m.ts : 0, data: m.data };
    if (typeof m.key === 'string') p.key = m.key;
    on.item(m.channel, { kind: 'publication', value: p });
  }
  // Anything else is from a newer protocol revision: ignored.
}

function isArrayBuffer(v: unknown): v is ArrayBuffer {
  return v instanceof ArrayBuffer || Object.prototype.toString.call(v) === '[object ArrayBuffer]';
}

/** Normalises a binary message (ArrayBuffer in browsers, Buffer/ArrayBuffer/fragments in ws). */
function toBytes(data: unknown): Uint8Array | undefined {
  if (isArrayBuffer(data)) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (Array.isArray(data) && data.every((d) => ArrayBuffer.isView(d))) {
    const parts = data as ArrayBufferView[];
    const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
    let at = 0;
    for (const p of parts) {
      out.set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), at);
      at += p.byteLength;
    }
    return out;
  }
  return undefined;
}
