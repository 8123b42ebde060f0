/**
 * @module apps/live/rtmp/amf0
 * AMF0, the value encoding of RTMP command messages (connect, createStream, publish, onStatus…).
 * Only the types encoders actually send are decoded: number, boolean, string, object, null,
 * undefined, ECMA array, strict array, date and long string. Anything else is a protocol error.
 */

export type Amf0Value = number | boolean | string | null | undefined | Date | Amf0Value[] | { [key: string]: Amf0Value };

export class Amf0Error extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Amf0Error';
  }
}

const MAX_DEPTH = 16;

/** Decodes every value in `buf` (a command message body is a sequence of AMF0 values). */
export function decodeAmf0(buf: Buffer): Amf0Value[] {
  const values: Amf0Value[] = [];
  const cursor = { pos: 0 };
  while (cursor.pos < buf.length) values.push(readValue(buf, cursor, 0));
  return values;
}

function need(buf: Buffer, cursor: { pos: number }, n: number): void {
  if (cursor.pos + n > buf.length) throw new Amf0Error(`truncated AMF0 value at byte ${cursor.pos}`);
}

function readUtf8(buf: Buffer, cursor: { pos: number }, long = false): string {
  need(buf, cursor, long ? 4 : 2);
  const len = long ? buf.readUInt32BE(cursor.pos) : buf.readUInt16BE(cursor.pos);
  cursor.pos += long ? 4 : 2;
  need(buf, cursor, len);
  const s = buf.toString('utf8', cursor.pos, cursor.pos + len);
  cursor.pos += len;
  return s;
}

function readProperties(buf: Buffer, cursor: { pos: number }, depth: number): { [key: string]: Amf0Value } {
  const out: { [key: string]: Amf0Value } = {};
  for (;;) {
    const key = readUtf8(buf, cursor);
    need(buf, cursor, 1);
    if (key === '' && buf[cursor.pos] === 0x09) {
      cursor.pos++;
      return out;
    }
    out[key] = readValue(buf, cursor, depth + 1);
  }
}

function readValue(buf: Buffer, cursor: { pos: number }, depth: number): Amf0Value {
  if (depth > MAX_DEPTH) throw new Amf0Error('AMF0 nesting too deep');
  need(buf, cursor, 1);
  const marker = buf[cursor.pos++]!;
  switch (marker) {
    case 0x00: {
      need(buf, cursor, 8);
      const v = buf.readDoubleBE(cursor.pos);
      cursor.pos += 8;
      return v;
    }
    case 0x01:
      need(buf, cursor, 1);
      return buf[cursor.pos++] !== 0;
    case 0x02:
      return readUtf8(buf, cursor);
    case 0x03:
      return readProperties(buf, cursor, depth);
    case 0x05:
      return null;
    case 0x06:
      return undefined;
    case 0x08:
      need(buf, cursor, 4);
      cursor.pos += 4; // approximate count; the object-end marker is authoritative
      return readProperties(buf, cursor, depth);
    case 0x0a: {
      need(buf, cursor, 4);
      const n = buf.readUInt32BE(cursor.pos);
      cursor.pos += 4;
      if (n > 65_536) throw new Amf0Error(`AMF0 strict array of ${n} items`);
      const arr: Amf0Value[] = [];
      for (let i = 0; i < n; i++) arr.push(readValue(buf, cursor, depth + 1));
      return arr;
    }
    case 0x0b: {
      need(buf, cursor, 10);
      const ms = buf.readDoubleBE(cursor.pos);
      cursor.pos += 10;
      return new Date(ms);
    }
    case 0x0c:
      return readUtf8(buf, cursor, true);
    default:
      throw new Amf0Error(`unsupported AMF0 marker 0x${marker.toString(16)} at byte ${cursor.pos - 1}`);
  }
}

/** Encodes values one after the other (a command: name, transaction id, object, args…). */
export function encodeAmf0(...values: Amf0Value[]): Buffer {
  const parts: Buffer[] = [];
  for (const v of values) writeValue(parts, v);
  return Buffer.concat(parts);
}

function utf8(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  const h = Buffer.alloc(2);
  h.writeUInt16BE(b.length);
  return Buffer.concat([h, b]);
}

function writeValue(parts: Buffer[], v: Amf0Value): void {
  if (typeof v === 'number') {
    const b = Buffer.alloc(9);
    b[0] = 0x00;
    b.writeDoubleBE(v, 1);
    parts.push(b);
  } else if (typeof v === 'boolean') parts.push(Buffer.from([0x01, v ? 1 : 0]));
  else if (typeof v === 'string') parts.push(Buffer.from([0x02]), utf8(v));
  else if (v === null) parts.push(Buffer.from([0x05]));
  else if (v === undefined) parts.push(Buffer.from([0x06]));
  else if (v instanceof Date) {
    const b = Buffer.alloc(11);
    b[0] = 0x0b;
    b.writeDoubleBE(v.getTime(), 1);
    parts.push(b);
  } else if (Array.isArray(v)) {
    const h = Buffer.alloc(5);
    h[0] = 0x0a;
    h.writeUInt32BE(v.length, 1);
    parts.push(h);
    for (const item of v) writeValue(parts, item);
  } else {
    parts.push(Buffer.from([0x03]));
    for (const [key, value] of Object.entries(v)) {
      parts.push(utf8(key));
      writeValue(parts, value);
    }
    parts.push(Buffer.from([0x00, 0x00, 0x09]));
  }
}
