/**
 * @module apps/radio/shared/format
 * The stream's fixed audio format and the binary chunk layout shared by the server, the browser
 * player and the tests. No Node-only modules: the browser bundles this file.
 *
 * Chunk payload (inside a hub binary frame): a 24-byte header, then the codec payload.
 *   0  u8   magic 0x52 ('R')
 *   1  u8   version (1)
 *   2  u8   codec (1 = PCM s16le interleaved, 2 = Opus packet)
 *   3  u8   flags (bit 0: discontinuity — the stream restarted before this chunk)
 *   4  u32  sequence number (LE)
 *   8  f64  capture timestamp, ms since the Unix epoch (LE): when the chunk went live
 *  16  u16  frames per channel (LE)
 *  18  u8   channels
 *  19  u8   reserved
 *  20  u32  sample rate (LE)
 */

export const SAMPLE_RATE = 48_000;
export const CHANNELS = 2;
/** 20 ms: one Opus frame, and small enough that the live edge stays close. */
export const CHUNK_MS = 20;
export const CHUNK_FRAMES = (SAMPLE_RATE * CHUNK_MS) / 1000;
export const CHUNK_HEADER_BYTES = 24;
export const CHUNK_MAGIC = 0x52;
export const CHUNK_VERSION = 1;

export const CODEC_PCM16 = 1;
export const CODEC_OPUS = 2;
export type CodecId = typeof CODEC_PCM16 | typeof CODEC_OPUS;
export type FormatName = 'pcm' | 'opus';
export const FORMAT_CODEC: Record<FormatName, CodecId> = { pcm: CODEC_PCM16, opus: CODEC_OPUS };

export const FLAG_DISCONTINUITY = 1;

export interface ChunkHeader {
  codec: CodecId;
  flags: number;
  seq: number;
  captureTs: number;
  frames: number;
  channels: number;
  sampleRate: number;
}

export interface DecodedChunk extends ChunkHeader {
  payload: Uint8Array;
}

/** Writes a chunk (header + payload) into one new buffer; called once per chunk, never per listener. */
export function encodeChunk(header: ChunkHeader, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(CHUNK_HEADER_BYTES + payload.byteLength);
  const view = new DataView(out.buffer);
  out[0] = CHUNK_MAGIC;
  out[1] = CHUNK_VERSION;
  out[2] = header.codec;
  out[3] = header.flags;
  view.setUint32(4, header.seq >>> 0, true);
  view.setFloat64(8, header.captureTs, true);
  view.setUint16(16, header.frames, true);
  out[18] = header.channels;
  view.setUint32(20, header.sampleRate, true);
  out.set(payload, CHUNK_HEADER_BYTES);
  return out;
}

export class ChunkFormatError extends Error {}

/** Reads a chunk; the payload is a view into `bytes` (no copy). */
export function decodeChunk(bytes: Uint8Array): DecodedChunk {
  if (bytes.byteLength < CHUNK_HEADER_BYTES) throw new ChunkFormatError(`chunk is ${bytes.byteLength} bytes; the header alone is ${CHUNK_HEADER_BYTES}`);
  if (bytes[0] !== CHUNK_MAGIC) throw new ChunkFormatError('chunk does not start with the radio magic byte 0x52');
  if (bytes[1] !== CHUNK_VERSION) throw new ChunkFormatError(`chunk version ${bytes[1]} is not supported`);
  const codec = bytes[2];
  if (codec !== CODEC_PCM16 && codec !== CODEC_OPUS) throw new ChunkFormatError(`unknown codec ${codec}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    codec,
    flags: bytes[3],
    seq: view.getUint32(4, true),
    captureTs: view.getFloat64(8, true),
    frames: view.getUint16(16, true),
    channels: bytes[18],
    sampleRate: view.getUint32(20, true),
    payload: bytes.subarray(CHUNK_HEADER_BYTES),
  };
}

/** Float [-1, 1] interleaved → s16le interleaved, written into `out` (no allocation). */
export function floatToPcm16(input: Float32Array, out: Int16Array): void {
  for (let i = 0; i < input.length; i++) {
    const s = input[i];
    const c = s > 1 ? 1 : s < -1 ? -1 : s;
    out[i] = c < 0 ? Math.round(c * 32768) : Math.round(c * 32767);
  }
}

/** s16le interleaved stereo bytes → two planar float channels (no allocation). */
export function pcm16ToPlanar(bytes: Uint8Array, left: Float32Array, right: Float32Array, frames: number): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < frames; i++) {
    left[i] = view.getInt16(i * 4, true) / 32768;
    right[i] = view.getInt16(i * 4 + 2, true) / 32768;
  }
}

/** Channel names of a station's streams. */
export const radioChannels = (station: string) => ({
  pcm: `radio:${station}:pcm`,
  opus: `radio:${station}:opus`,
  status: `radio-status:${station}`,
});
