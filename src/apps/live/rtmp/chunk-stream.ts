/**
 * @module apps/live/rtmp/chunk-stream
 * The RTMP chunk stream: messages split into chunks of at most the peer's chunk size, several
 * chunk streams (csid) interleaved, each chunk with a type 0–3 header that carries only what
 * changed since the previous chunk on the same csid, and 32-bit extended timestamps.
 * `ChunkReader` reassembles messages from bytes as they arrive (any split); `encodeMessage`
 * frames one message. Every limit is checked before memory is spent: a bad peer gets a
 * `ChunkStreamError`, never an unbounded buffer.
 */
import { SlabPool } from '../media/slab-pool.js';

export interface RtmpMessage {
  typeId: number;
  streamId: number;
  /** Milliseconds, absolute on its chunk stream (deltas already summed). */
  timestamp: number;
  payload: Buffer;
  /**
   * Audio and video payloads live in the reader's reused staging memory: whoever takes one calls
   * this once its bytes are copied elsewhere (or no longer needed), so the memory can be reused.
   * Not calling it is safe (that slab is left to the collector), only slower.
   */
  release?: () => void;
}

/** Audio (8) and video (9) messages: staged in reused memory (see ChunkReader). */
const MEDIA_TYPES = new Set([8, 9]);

export class ChunkStreamError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChunkStreamError';
  }
}

interface ChunkStreamState {
  timestamp: number;
  delta: number;
  length: number;
  typeId: number;
  streamId: number;
  extended: boolean;
  /** The message being assembled: its bytes are copied in chunk by chunk (see ChunkReader.push). */
  dest: Buffer;
  release: (() => void) | undefined;
  received: number;
  seen: boolean;
}

export interface ChunkReaderLimits {
  /** Largest message accepted (bytes). */
  maxMessageBytes: number;
  /** Chunk streams that may be open at once. */
  maxChunkStreams: number;
}

const EMPTY = Buffer.alloc(0);

/** Basic header (3) + type 0 message header (11) + extended timestamp (4). */
const MAX_CHUNK_HEADER = 18;

const DEFAULT_LIMITS: ChunkReaderLimits = { maxMessageBytes: 8 * 1024 * 1024, maxChunkStreams: 64 };

export class ChunkReader {
  private buffer: Buffer = EMPTY;
  /**
   * Media payloads are copied out of the socket's reads into slabs reused once their payloads
   * were released (copied into a fragment). Why not hand out views of the reads (zero copy):
   * a view keeps its read alive for the ~300 ms until the part is written, long enough for V8
   * to promote it, and each promoted read is external memory freed only by a full mark-compact
   * (the "external memory pressure" collections a profile of 10 publishers showed). Copying
   * 0.5 MB/s into warm reused memory costs far less than those collections.
   * Each chunk is copied into its message's memory as it arrives, and a partial chunk left at the
   * end of a read is copied too: no view of `push`'s argument outlives the call, so the caller may
   * reuse one read buffer for every read (apps/live/rtmp/server reads into one per connection).
   */
  private readonly staging = new SlabPool(1 << 20, 4);
  private readonly streams = new Map<number, ChunkStreamState>();
  /** Set by the peer's SetChunkSize (default 128 per the specification). */
  chunkSize = 128;
  /** Bytes consumed so far (for acknowledgements). */
  bytesRead = 0;

  constructor(private readonly limits: ChunkReaderLimits = DEFAULT_LIMITS) {}

  /** Feeds bytes; returns every message completed by them. Throws ChunkStreamError on bad input. */
  push(data: Buffer): RtmpMessage[] {
    const out: RtmpMessage[] = [];
    if (this.buffer.length > 0) {
      // A chunk split across reads: join the held bytes with only as much of this read as one
      // chunk can need (largest header + one chunk of payload), not the whole read, so each byte
      // is copied here at most once and most reads are parsed in place.
      const held = this.buffer.length;
      const joined = Buffer.concat([this.buffer, data.subarray(0, MAX_CHUNK_HEADER + this.chunkSize)]);
      this.buffer = joined;
      const consumed = this.readChunk(joined, 0, out);
      if (consumed === 0) {
        if (joined.length - held < data.length) throw new ChunkStreamError('chunk larger than the chunk size');
        return out; // the whole read was taken into `joined` and it is still not a whole chunk
      }
      this.bytesRead += consumed;
      data = data.subarray(consumed - held);
    }
    let at = 0;
    for (;;) {
      const consumed = this.readChunk(data, at, out);
      if (consumed === 0) break;
      this.bytesRead += consumed;
      at += consumed;
    }
    // The rest is less than one chunk: copied, because `data` may be overwritten by the next read.
    this.buffer = at < data.length ? Buffer.from(data.subarray(at)) : EMPTY;
    return out;
  }

  /** Bytes buffered without a complete chunk (a publisher that vanished mid-chunk leaves some). */
  get pendingBytes(): number {
    let n = this.buffer.length;
    for (const s of this.streams.values()) n += s.received;
    return n;
  }

  private setChunkSize(payload: Buffer): void {
    if (payload.length < 4) throw new ChunkStreamError('SetChunkSize message shorter than 4 bytes');
    const size = payload.readUInt32BE(0) & 0x7fffffff;
    if (size < 1 || size > 16 * 1024 * 1024) throw new ChunkStreamError(`chunk size ${size} out of range`);
    this.chunkSize = size;
  }

  /** Drops a partial message on a chunk stream (Abort message). */
  abort(csid: number): void {
    const s = this.streams.get(csid);
    if (s) {
      s.release?.();
      s.release = undefined;
      s.dest = EMPTY;
      s.received = 0;
    }
  }

  /** Reads one chunk of `b` from `start` (offsets, not a view per chunk); returns the bytes it took, 0 if incomplete. */
  private readChunk(b: Buffer, start: number, out: RtmpMessage[]): number {
    if (b.length < start + 1) return 0;
    const fmt = b[start]! >> 6;
    let csid = b[start]! & 0x3f;
    let pos = start + 1;
    if (csid === 0) {
      if (b.length < start + 2) return 0;
      csid = 64 + b[start + 1]!;
      pos = start + 2;
    } else if (csid === 1) {
      if (b.length < start + 3) return 0;
      csid = 64 + b[start + 1]! + b[start + 2]! * 256;
      pos = start + 3;
    }
    const headerSize = [11, 7, 3, 0][fmt]!;
    if (b.length < pos + headerSize) return 0;
    let state = this.streams.get(csid);
    if (!state) {
      if (fmt !== 0) throw new ChunkStreamError(`chunk type ${fmt} on new chunk stream ${csid} (type 0 required)`);
      if (this.streams.size >= this.limits.maxChunkStreams) throw new ChunkStreamError(`more than ${this.limits.maxChunkStreams} chunk streams`);
      state = { timestamp: 0, delta: 0, length: 0, typeId: 0, streamId: 0, extended: false, dest: EMPTY, release: undefined, received: 0, seen: false };
    }
    let ts = 0;
    if (fmt <= 2) ts = b.readUIntBE(pos, 3);
    const extended = fmt <= 2 ? ts === 0xffffff : state.extended;
    const extPos = pos + headerSize;
    if (extended && b.length < extPos + 4) return 0;
    const fullTs = extended ? b.readUInt32BE(extPos) : ts;
    const dataPos = extPos + (extended ? 4 : 0);

    const starting = state.received === 0;
    let length = state.length;
    if (fmt <= 1) {
      length = b.readUIntBE(pos + 3, 3);
      if (length > this.limits.maxMessageBytes) throw new ChunkStreamError(`message of ${length} bytes exceeds the ${this.limits.maxMessageBytes}-byte limit`);
    }
    const remaining = length - state.received;
    const size = Math.min(remaining, this.chunkSize);
    if (b.length < dataPos + size) return 0;

    // Header fields apply only now that the whole chunk is here (a partial chunk is re-read).
    if (fmt <= 1 && !starting) throw new ChunkStreamError(`new message header on chunk stream ${csid} before its message ended`);
    if (fmt === 0) {
      state.timestamp = fullTs;
      state.delta = 0;
      state.streamId = b.readUInt32LE(pos + 7);
      state.typeId = b[pos + 6]!;
      state.length = length;
    } else if (fmt === 1) {
      state.delta = fullTs;
      state.length = length;
      state.typeId = b[pos + 6]!;
    } else if (fmt === 2) {
      state.delta = fullTs;
    }
    if (fmt === 3 && !state.seen) throw new ChunkStreamError(`chunk type 3 on chunk stream ${csid} with no previous header`);
    if (fmt !== 0 && starting) state.timestamp = (state.timestamp + state.delta) >>> 0;
    if (fmt === 0 && starting) state.extended = extended;
    else if (fmt <= 2) state.extended = extended;
    state.seen = true;
    this.streams.set(csid, state);

    if (starting && state.length > 0) {
      // The message's memory, taken at its first chunk: media in the reused staging slabs, the
      // rest (commands, control) in a buffer of its own.
      if (MEDIA_TYPES.has(state.typeId)) {
        const { lease, releaseWindow } = this.staging.allocate(state.length);
        state.dest = lease.data;
        state.release = releaseWindow;
      } else state.dest = Buffer.allocUnsafe(state.length);
    }
    if (size > 0) b.copy(state.dest, state.received, dataPos, dataPos + size);
    state.received += size;
    if (state.received >= state.length) {
      const message: RtmpMessage = { typeId: state.typeId, streamId: state.streamId, timestamp: state.timestamp, payload: state.length > 0 ? state.dest : EMPTY };
      if (state.release) message.release = state.release;
      state.dest = EMPTY;
      state.release = undefined;
      state.received = 0;
      // SetChunkSize applies to the very next chunk, which may already be in this buffer.
      if (state.typeId === 1) this.setChunkSize(message.payload);
      out.push(message);
    }
    return dataPos + size - start;
  }
}

/** Frames one message on `csid` with a type 0 header, then type 3 continuation chunks. */
export function encodeMessage(csid: number, message: RtmpMessage, chunkSize: number): Buffer {
  const { payload } = message;
  const extended = message.timestamp >= 0xffffff;
  const basic = (fmt: number) => (csid < 64 ? Buffer.from([(fmt << 6) | csid]) : Buffer.from([(fmt << 6) | 0, csid - 64]));
  const header = Buffer.alloc(11 + (extended ? 4 : 0));
  header.writeUIntBE(extended ? 0xffffff : message.timestamp, 0, 3);
  header.writeUIntBE(payload.length, 3, 3);
  header[6] = message.typeId;
  header.writeUInt32LE(message.streamId, 7);
  if (extended) header.writeUInt32BE(message.timestamp >>> 0, 11);
  const parts: Buffer[] = [basic(0), header];
  const ext = extended ? header.subarray(11) : null;
  for (let off = 0; off < payload.length || off === 0; off += chunkSize) {
    if (off > 0) {
      parts.push(basic(3));
      if (ext) parts.push(ext);
    }
    parts.push(payload.subarray(off, off + chunkSize));
    if (payload.length === 0) break;
  }
  return Buffer.concat(parts);
}

/** Protocol control messages (csid 2, stream 0). */
export const control = {
  setChunkSize: (size: number) => ({ typeId: 1, streamId: 0, timestamp: 0, payload: u32(size) }),
  acknowledgement: (bytes: number) => ({ typeId: 3, streamId: 0, timestamp: 0, payload: u32(bytes >>> 0) }),
  windowAckSize: (size: number) => ({ typeId: 5, streamId: 0, timestamp: 0, payload: u32(size) }),
  setPeerBandwidth: (size: number) => ({ typeId: 6, streamId: 0, timestamp: 0, payload: Buffer.concat([u32(size), Buffer.from([2])]) }),
  streamBegin: (streamId: number) => ({ typeId: 4, streamId: 0, timestamp: 0, payload: Buffer.concat([Buffer.from([0, 0]), u32(streamId)]) }),
};

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}
