/**
 * @module hub/engines/redis/wire
 * The Redis engine's wire message, the same on pub/sub and in history:
 * `<offset>|<epoch>|<ts>|<j|b>|<keyBytes>|<key><payload>` — a text header that Lua builds by
 * concatenation and a payload that stays raw bytes, so binary namespaces cost no base64 and JSON
 * is never parsed on the way through. Presence notices share the channel's pub/sub (below).
 */
import type { HubMessage, PublishPayload } from '../engine.js';
import type { PresenceEntry } from '../../../protocol/index.js';

const BAR = 0x7c;

/** Encodes a wire message exactly as the publish script does (used by tests and tools). */
export function encodeWire(offset: number, epoch: string, ts: number, payload: PublishPayload): Buffer {
  const key = payload.key ?? '';
  const head = Buffer.from(`${offset}|${epoch}|${ts}|${payload.binary ? 'b' : 'j'}|${Buffer.byteLength(key)}|${key}`);
  const body = payload.binary ? Buffer.from(payload.binary) : Buffer.from(payload.json ?? 'null');
  return Buffer.concat([head, body]);
}

/** The pub/sub channel of a hub channel: its publications and its presence notices. */
export const pubSubChannelOf = (channel: string) => `aw:p:${channel}`;

/**
 * A presence notice on a channel's pub/sub: `J|<node>|<seq>|<entry JSON>` or `L|<node>|<seq>|<entry
 * JSON>` (a publication starts with its offset's digits). `<node>` is the node where it happened
 * (that node told its own subscribers already) or empty for an entry that expired (every node
 * tells). `<seq>` numbers the channel's notices; the last ones are also kept in a log
 * (lua/presence-announce.lua), from which a node reads what it missed while its subscriber
 * connection was down. A notice without `<seq>` (`J|<node>|<entry>`, nodes before it) is read too.
 */
export interface PresenceNotice {
  event: 'join' | 'leave';
  node: string;
  /** The notice's number in its channel (undefined from a node that predates it). */
  seq?: number;
  info: PresenceEntry;
}

const J = 0x4a;
const L = 0x4c;
const OPEN_BRACE = 0x7b;

/** A channel's presence notice sequence and notice log (newest first). */
export const presenceSeqKey = (channel: string) => `aw:{${channel}}:pq`;
export const presenceLogKey = (channel: string) => `aw:{${channel}}:pn`;

/**
 * Every key of a channel, each carrying the hash tag `{<channel>}`: a Redis Cluster puts all of
 * them in one slot, so the engine's scripts (which take several of them) never cross slots.
 */
export const channelKeys = (channel: string) => ({
  meta: `aw:{${channel}}:m`,
  history: `aw:{${channel}}:h`,
  idempotency: (key: string) => `aw:{${channel}}:i:${key}`,
  /** Presence hash, expiry sorted set, notice sequence, notice log: the presence scripts' KEYS. */
  presence: [`aw:{${channel}}:pr`, `aw:{${channel}}:pe`, presenceSeqKey(channel), presenceLogKey(channel)] as [string, string, string, string],
});

/** The notice in `buf`, or undefined when `buf` is a publication. Throws on a malformed notice. */
export function presenceNoticeOf(buf: Buffer): PresenceNotice | undefined {
  if (buf[0] !== J && buf[0] !== L) return undefined;
  const bar = buf.indexOf(BAR, 2);
  if (buf[1] !== BAR || bar < 0) throw new Error('malformed presence notice');
  let seq: number | undefined;
  let json = bar + 1;
  if (buf[json] !== OPEN_BRACE) {
    const seqBar = buf.indexOf(BAR, json);
    seq = Number(buf.toString('latin1', json, seqBar));
    if (seqBar < 0 || !Number.isSafeInteger(seq)) throw new Error('malformed presence notice sequence');
    json = seqBar + 1;
  }
  const entry = JSON.parse(buf.toString('utf8', json)) as { client?: unknown; user?: unknown };
  if (typeof entry.client !== 'string') throw new Error('presence notice without a client');
  return {
    event: buf[0] === J ? 'join' : 'leave',
    node: buf.toString('utf8', 2, bar),
    seq,
    info: { client: entry.client, user: typeof entry.user === 'string' ? entry.user : null },
  };
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
