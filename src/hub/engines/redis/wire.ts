/**
 * @module hub/engines/redis/wire
 * The Redis engine's wire message, the same on pub/sub and in history:
 * `<offset>|<epoch>|<ts>|<j|b>|<keyBytes>|<key><payload>` — a text header that Lua builds by
 * concatenation and a payload that stays raw bytes, so binary namespaces cost no base64 and JSON
 * is never parsed on the way through.
 */
import type { HubMessage, PublishPayload } from '../engine.js';

const BAR = 0x7c;

/** Encodes a wire message exactly as the publish script does (used by tests and tools). */
export function encodeWire(offset: number, epoch: string, ts: number, payload: PublishPayload): Buffer {
  const key = payload.key ?? '';
  const head = Buffer.from(`${offset}|${epoch}|${ts}|${payload.binary ? 'b' : 'j'}|${Buffer.byteLength(key)}|${key}`);
  const body = payload.binary ? Buffer.from(payload.binary) : Buffer.from(payload.json ?? 'null');
  return Buffer.concat([head, body]);
}

/**
 * Wall-clock estimate of a publish moment (`ts`, ms since epoch, maybe another node's) on this
 * node's monotonic clock, so the hub's delivery-latency histogram covers cross-node hops too.
 */
export const publishedAtOf = (ts: number) => performance.now() - (Date.now() - ts);

/** Decodes a wire message; the payload of a binary message is a view into `buf` (no copy). */
export function decodeWire(channel: string, buf: Buffer): HubMessage {
  const fields: string[] = [];
  let pos = 0;
  for (let i = 0; i < 5; i++) {
    const bar = buf.indexOf(BAR, pos);
    if (bar < 0) throw new Error(`malformed wire message on ${channel}`);
    fields.push(buf.toString('latin1', pos, bar));
    pos = bar + 1;
  }
  const keyBytes = Number(fields[4]);
  const key = keyBytes > 0 ? buf.toString('utf8', pos, pos + keyBytes) : undefined;
  pos += keyBytes;
  const ts = Number(fields[2]);
  const message: HubMessage = { channel, offset: Number(fields[0]), epoch: fields[1], ts, key, publishedAt: publishedAtOf(ts) };
  if (fields[3] === 'b') message.binary = buf.subarray(pos);
  else message.json = buf.toString('utf8', pos);
  return message;
}
