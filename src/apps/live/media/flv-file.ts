/**
 * @module apps/live/media/flv-file
 * The FLV file framing around the tag payloads RTMP carries (apps/live/media/flv parses the
 * payloads themselves): a writer that turns a payload into a tag (11-byte header, the payload,
 * the previous-tag size) and an incremental reader that cuts a byte stream back into tags. The
 * ABR ladder (apps/live/abr) speaks it to ffmpeg over pipes, because a tag payload is exactly an
 * RTMP audio/video message: what comes back goes through the same parser and segmenter as ingest.
 */

export const FLV_AUDIO = 8;
export const FLV_VIDEO = 9;
export const FLV_SCRIPT = 18;

export interface FlvTag {
  type: number;
  /** Milliseconds (FLV's 24 bits plus the extension byte). */
  timestamp: number;
  payload: Buffer;
}

/** The file header with the first previous-tag size (0). */
export function flvHeader(audio: boolean, video: boolean): Buffer {
  const b = Buffer.alloc(13);
  b.write('FLV', 0, 'latin1');
  b[3] = 1;
  b[4] = (audio ? 4 : 0) | (video ? 1 : 0);
  b.writeUInt32BE(9, 5);
  return b;
}

/** One tag, its payload copied in (the caller's buffer may be reused as soon as this returns). */
export function flvTag(type: number, timestamp: number, payload: Buffer): Buffer {
  const b = Buffer.allocUnsafe(11 + payload.length + 4);
  b[0] = type;
  b.writeUIntBE(payload.length, 1, 3);
  b.writeUIntBE(timestamp & 0xffffff, 4, 3);
  b[7] = (timestamp >>> 24) & 0xff;
  b.writeUIntBE(0, 8, 3);
  payload.copy(b, 11);
  b.writeUInt32BE(11 + payload.length, 11 + payload.length);
  return b;
}

export class FlvFormatError extends Error {}

/** Cuts an FLV byte stream into tags as its chunks arrive. */
export class FlvReader {
  private buffered: Buffer = Buffer.alloc(0);
  private headerDone = false;

  constructor(private readonly onTag: (tag: FlvTag) => void) {}

  /** Throws FlvFormatError on a stream that is not FLV. */
  push(chunk: Buffer): void {
    let buf = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
    let at = 0;
    if (!this.headerDone) {
      if (buf.length < 13) {
        this.buffered = buf;
        return;
      }
      if (buf.toString('latin1', 0, 3) !== 'FLV') throw new FlvFormatError('not an FLV stream');
      at = buf.readUInt32BE(5) + 4;
      this.headerDone = true;
    }
    while (buf.length - at >= 11) {
      const size = buf.readUIntBE(at + 1, 3);
      if (buf.length - at < 11 + size + 4) break;
      const timestamp = (buf.readUIntBE(at + 4, 3) | (buf[at + 7]! << 24)) >>> 0;
      // A view of the chunk, not a copy: chunks are fresh buffers, never reused by the stream.
      this.onTag({ type: buf[at]!, timestamp, payload: buf.subarray(at + 11, at + 11 + size) });
      at += 11 + size + 4;
    }
    buf = buf.subarray(at);
    this.buffered = buf.length ? Buffer.from(buf) : Buffer.alloc(0);
  }
}
