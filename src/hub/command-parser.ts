/**
 * @module hub/command-parser
 * Parses a client's text frame into a protocol command (server side), with the most precise
 * error code for a bad one. The command shapes live in src/protocol/messages.ts.
 */
import { CLIENT_OPS, ProtocolError, isValidChannel, type ClientCommand, type StreamPosition } from '../protocol/index.js';

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
