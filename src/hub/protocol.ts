/**
 * @module hub/protocol
 * Airwaves protocol v1: the shapes of every frame, their parsing and their encoding.
 * Documented in docs/protocol.md.
 *
 * Text frames from the server carry one or more JSON values separated by "\n" (the hub batches
 * several pushes into one WebSocket frame when a client has more than one waiting). Replies have
 * an `id`; pushes do not.
 *
 * Binary frames (media namespaces) are: magic 0xA1, channel length (u8), channel (UTF-8),
 * offset (f64 BE), timestamp ms (f64 BE), then the payload.
 */

export const PROTOCOL_VERSION = 1;
export const WS_PATH = '/ws';
export const BINARY_MAGIC = 0xa1;

export interface StreamPosition {
  offset: number;
  epoch: string;
}

export type ClientCommand =
  | { id: number; op: 'connect'; token?: string }
  | { id: number; op: 'subscribe'; channel: string; since?: StreamPosition }
  | { id: number; op: 'unsubscribe'; channel: string }
  | { id: number; op: 'publish'; channel: string; data: unknown; key?: string }
  | { id: number; op: 'send'; channel: string; data: unknown }
  | { id: number; op: 'presence'; channel: string }
  | { id: number; op: 'history'; channel: string; limit?: number }
  | { id: number; op: 'ping' };

export type ClientOp = ClientCommand['op'];
export const CLIENT_OPS: readonly ClientOp[] = ['connect', 'subscribe', 'unsubscribe', 'publish', 'send', 'presence', 'history', 'ping'];

export interface ErrorBody {
  code: string;
  message: string;
}

export type Reply<R = unknown> = { id: number; ok: true; result: R } | { id: number; ok: false; error: ErrorBody };

export interface ConnectResult {
  client: string;
  user: string | null;
  version: number;
  node: string;
}

export interface SubscribeResult {
  channel: string;
  epoch: string;
  /** Offset of the newest message in the channel when the subscription started. */
  offset: number;
  /** Present when `since` was given: whether every missed message follows this reply. */
  recovered?: boolean;
  /** Number of missed messages replayed after this reply. */
  replayed?: number;
}

/**
 * The reply to `publish`: the offset the publication got; or `coalesced` when a coalescing
 * namespace folded it into its key's window (the offset comes with the push); or `consumed` when
 * an input-only namespace (nobody subscribes, no history) handed it to the app's hook.
 */
export type PublishResult = { offset: number; epoch: string } | { coalesced: true } | { consumed: true };

export interface PresenceEntry {
  client: string;
  user: string | null;
}

/** A message pushed on a channel. */
export interface PublicationPush {
  channel: string;
  offset: number;
  epoch?: string;
  ts: number;
  data: unknown;
  key?: string;
}

/** Non-publication pushes: presence joins and leaves, gap notices, server notices. */
export type EventPush =
  | { channel: string; event: 'join' | 'leave'; info: PresenceEntry }
  | { channel: string; event: 'gap'; from: number; to: number }
  | { channel: string; event: 'unsubscribed'; reason: string }
  | { event: 'disconnect'; code: number; reason: string };

export type ServerPush = PublicationPush | EventPush;

export class ProtocolError extends Error {
  constructor(
    readonly code: 'bad_json' | 'bad_frame' | 'unknown_op',
    message: string,
    readonly id?: number,
  ) {
    super(message);
  }
}

const CHANNEL_RE = /^[a-z][a-z0-9_-]{0,31}:[A-Za-z0-9_\-:.@=+]{1,200}$/;

export function isValidChannel(channel: unknown): channel is string {
  return typeof channel === 'string' && CHANNEL_RE.test(channel);
}

export function namespaceOf(channel: string): string {
  const i = channel.indexOf(':');
  return i < 0 ? channel : channel.slice(0, i);
}

function isPosition(v: unknown): v is StreamPosition {
  if (typeof v !== 'object' || v === null) return false;
  const p = v as Record<string, unknown>;
  return typeof p.offset === 'number' && Number.isInteger(p.offset) && p.offset >= 0 && typeof p.epoch === 'string';
}

/**
 * Parses one client text frame into a command. Throws ProtocolError with the most precise code:
 * `bad_json` (not JSON), `unknown_op` (valid frame, unknown op), `bad_frame` (fields wrong).
 */
export function parseClientCommand(text: string): ClientCommand {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ProtocolError('bad_json', 'frame is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ProtocolError('bad_frame', 'frame must be a JSON object');
  }
  const f = value as Record<string, unknown>;
  const id = f.id;
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) {
    throw new ProtocolError('bad_frame', 'field "id" must be a non-negative integer');
  }
  const op = f.op;
  if (typeof op !== 'string') throw new ProtocolError('bad_frame', 'field "op" must be a string', id);
  const needChannel = (): string => {
    if (!isValidChannel(f.channel)) {
      throw new ProtocolError('bad_frame', 'field "channel" must be "namespace:name" (letters, digits, _-:.@=+)', id);
    }
    return f.channel;
  };
  switch (op) {
    case 'connect':
      if (f.token !== undefined && typeof f.token !== 'string') throw new ProtocolError('bad_frame', 'field "token" must be a string', id);
      return { id, op, token: f.token as string | undefined };
    case 'subscribe': {
      const channel = needChannel();
      if (f.since !== undefined && !isPosition(f.since)) {
        throw new ProtocolError('bad_frame', 'field "since" must be {offset: integer >= 0, epoch: string}', id);
      }
      return { id, op, channel, since: f.since as StreamPosition | undefined };
    }
    case 'unsubscribe':
    case 'presence':
      return { id, op, channel: needChannel() };
    case 'history': {
      const channel = needChannel();
      if (f.limit !== undefined && !(Number.isInteger(f.limit) && (f.limit as number) > 0)) {
        throw new ProtocolError('bad_frame', 'field "limit" must be a positive integer', id);
      }
      return { id, op, channel, limit: f.limit as number | undefined };
    }
    case 'publish': {
      const channel = needChannel();
      if (!('data' in f) || f.data === undefined) throw new ProtocolError('bad_frame', 'field "data" is required', id);
      if (f.key !== undefined && (typeof f.key !== 'string' || f.key.length > 200)) {
        throw new ProtocolError('bad_frame', 'field "key" must be a string of at most 200 characters', id);
      }
      return { id, op, channel, data: f.data, key: f.key as string | undefined };
    }
    case 'send': {
      const channel = needChannel();
      if (!('data' in f) || f.data === undefined) throw new ProtocolError('bad_frame', 'field "data" is required', id);
      return { id, op, channel, data: f.data };
    }
    case 'ping':
      return { id, op };
    default:
      throw new ProtocolError('unknown_op', `unknown op "${op.slice(0, 40)}"; expected one of ${CLIENT_OPS.join(', ')}`, id);
  }
}

// ---- encoding (server side: called once per message, never per subscriber) ----

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

export interface BinaryFrame {
  channel: string;
  offset: number;
  ts: number;
  payload: Uint8Array;
}

/** Encodes a binary frame: the header is written once and the payload copied once. */
export function encodeBinaryFrame(channel: string, offset: number, ts: number, payload: Uint8Array): Buffer {
  const ch = Buffer.from(channel, 'utf8');
  if (ch.length > 255) throw new RangeError('channel too long for a binary frame');
  const headerLength = 2 + ch.length + 16;
  const out = Buffer.allocUnsafe(headerLength + payload.byteLength);
  out[0] = BINARY_MAGIC;
  out[1] = ch.length;
  ch.copy(out, 2);
  out.writeDoubleBE(offset, 2 + ch.length);
  out.writeDoubleBE(ts, 10 + ch.length);
  out.set(payload, headerLength);
  return out;
}

/** Decodes a binary frame header; the payload is a view (no copy). Works on Buffer and Uint8Array. */
export function decodeBinaryFrame(bytes: Uint8Array): BinaryFrame {
  if (bytes.byteLength < 18 || bytes[0] !== BINARY_MAGIC) throw new ProtocolError('bad_frame', 'binary frame must start with 0xA1 and a header');
  const len = bytes[1];
  if (len === 0 || bytes.byteLength < 2 + len + 16) throw new ProtocolError('bad_frame', 'binary frame header is truncated');
  const channel = new TextDecoder().decode(bytes.subarray(2, 2 + len));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const offset = view.getFloat64(2 + len);
  const ts = view.getFloat64(10 + len);
  return { channel, offset, ts, payload: bytes.subarray(2 + len + 16) };
}

/** Splits a server text frame into its JSON values. */
export function splitServerFrame(text: string): unknown[] {
  if (text.indexOf('\n') < 0) return [JSON.parse(text)];
  return text.split('\n').map((line) => JSON.parse(line));
}
