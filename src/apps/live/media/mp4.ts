/**
 * @module apps/live/media/mp4
 * The fragmented-MP4 (CMAF) boxes the packager writes: an init segment (ftyp + moov with an
 * avc1/avcC video track 1 and an mp4a/esds audio track 2, mvex/trex for fragments) and media
 * fragments (moof with one traf per track: tfhd default-base-is-moof, tfdt, trun; then mdat).
 * Written from ISO/IEC 14496-12 and 14496-15 directly: the layouts are fixed and small.
 */

export const VIDEO_TRACK = 1;
export const AUDIO_TRACK = 2;
export const VIDEO_TIMESCALE = 90_000;

function box(type: string, ...payload: Buffer[]): Buffer {
  const size = 8 + payload.reduce((n, b) => n + b.length, 0);
  const head = Buffer.alloc(8);
  head.writeUInt32BE(size, 0);
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, ...payload], size);
}

function fullBox(type: string, version: number, flags: number, ...payload: Buffer[]): Buffer {
  const vf = Buffer.alloc(4);
  vf.writeUInt32BE(((version << 24) | flags) >>> 0);
  return box(type, vf, ...payload);
}

function u32s(...values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => b.writeUInt32BE(v >>> 0, i * 4));
  return b;
}

function u16s(...values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 2);
  values.forEach((v, i) => b.writeUInt16BE(v & 0xffff, i * 2));
  return b;
}

const MATRIX = u32s(0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000);

export interface VideoTrackInfo {
  avcC: Buffer;
  width: number;
  height: number;
}

export interface AudioTrackInfo {
  asc: Buffer;
  sampleRate: number;
  channels: number;
}

function trak(id: number, timescale: number, handler: 'vide' | 'soun', width: number, height: number, sampleEntry: Buffer): Buffer {
  const tkhd = fullBox('tkhd', 0, 3, u32s(0, 0, id, 0, 0, 0, 0), u16s(0, 0, handler === 'soun' ? 0x0100 : 0, 0), MATRIX, u32s(width << 16, height << 16));
  const mdhd = fullBox('mdhd', 0, 0, u32s(0, 0, timescale, 0), u16s(0x55c4, 0));
  const hdlr = fullBox('hdlr', 0, 0, u32s(0), Buffer.from(handler, 'latin1'), u32s(0, 0, 0), Buffer.from(handler === 'vide' ? 'Video\0' : 'Audio\0'));
  const mediaHeader = handler === 'vide' ? fullBox('vmhd', 0, 1, u16s(0, 0, 0, 0)) : fullBox('smhd', 0, 0, u16s(0, 0));
  const dinf = box('dinf', fullBox('dref', 0, 0, u32s(1), fullBox('url ', 0, 1)));
  const stbl = box('stbl', fullBox('stsd', 0, 0, u32s(1), sampleEntry), fullBox('stts', 0, 0, u32s(0)), fullBox('stsc', 0, 0, u32s(0)), fullBox('stsz', 0, 0, u32s(0, 0)), fullBox('stco', 0, 0, u32s(0)));
  return box('trak', tkhd, box('mdia', mdhd, hdlr, box('minf', mediaHeader, dinf, stbl)));
}

function avc1(v: VideoTrackInfo): Buffer {
  const compressor = Buffer.alloc(32);
  return box('avc1', Buffer.alloc(6), u16s(1, 0, 0), u32s(0, 0, 0), u16s(v.width, v.height), u32s(0x00480000, 0x00480000, 0), u16s(1), compressor, u16s(0x0018, 0xffff), box('avcC', v.avcC));
}

function descriptor(tag: number, ...payload: Buffer[]): Buffer {
  const body = Buffer.concat(payload);
  // Four-byte length form: valid for any size and what most muxers write.
  const len = body.length;
  return Buffer.concat([Buffer.from([tag, 0x80 | ((len >> 21) & 0x7f), 0x80 | ((len >> 14) & 0x7f), 0x80 | ((len >> 7) & 0x7f), len & 0x7f]), body]);
}

function mp4a(a: AudioTrackInfo): Buffer {
  const decoderConfig = descriptor(4, Buffer.from([0x40, 0x15, 0, 0, 0]), u32s(0, 0), descriptor(5, a.asc));
  const esds = fullBox('esds', 0, 0, descriptor(3, u16s(AUDIO_TRACK), Buffer.from([0]), decoderConfig, descriptor(6, Buffer.from([2]))));
  return box('mp4a', Buffer.alloc(6), u16s(1), u32s(0, 0), u16s(a.channels, 16, 0, 0), u32s(a.sampleRate << 16), esds);
}

/** The init segment for the tracks present (video, audio or both). */
export function initSegment(video: VideoTrackInfo | null, audio: AudioTrackInfo | null): Buffer {
  const ftyp = box('ftyp', Buffer.from('iso6', 'latin1'), u32s(0), Buffer.from('iso6cmfcisommp41dash', 'latin1'));
  const mvhd = fullBox('mvhd', 0, 0, u32s(0, 0, 1000, 0, 0x00010000), u16s(0x0100, 0), u32s(0, 0), MATRIX, u32s(0, 0, 0, 0, 0, 0), u32s(3));
  const traks: Buffer[] = [];
  const trex: Buffer[] = [];
  if (video) {
    traks.push(trak(VIDEO_TRACK, VIDEO_TIMESCALE, 'vide', video.width, video.height, avc1(video)));
    trex.push(fullBox('trex', 0, 0, u32s(VIDEO_TRACK, 1, 0, 0, 0)));
  }
  if (audio) {
    traks.push(trak(AUDIO_TRACK, audio.sampleRate, 'soun', 0, 0, mp4a(audio)));
    trex.push(fullBox('trex', 0, 0, u32s(AUDIO_TRACK, 1, 0, 0, 0)));
  }
  return Buffer.concat([ftyp, box('moov', mvhd, ...traks, box('mvex', ...trex))]);
}

export interface Sample {
  data: Buffer;
  /** Frees the memory `data` was staged in (the RTMP reader's); called once it is in a fragment. */
  release?: () => void;
  duration: number;
  /** Composition offset (pts − dts) in the track's timescale. */
  cts: number;
  keyframe: boolean;
}

export interface TrackRun {
  trackId: number;
  baseDecodeTime: number;
  samples: Sample[];
}

const KEY_FLAGS = 0x02000000;
const DELTA_FLAGS = 0x01010000;

/**
 * One fragment: moof (a traf per non-empty run) + mdat with the runs' samples in order, written
 * into a single allocation (the hot path: about four per second per stream). Each sample's
 * `data` is then rebound to its bytes inside the fragment, so the publisher's payloads become
 * garbage at once instead of being kept alive, beside their copy, for the whole window: every
 * byte held past a young-generation collection is promoted, and promoted bytes are what make
 * V8 run full collections.
 */
export function fragment(sequence: number, runs: TrackRun[], alloc: (size: number) => Buffer = Buffer.allocUnsafe): Buffer {
  let moofSize = 8 + 16;
  let mdatSize = 8;
  for (const r of runs) {
    if (r.samples.length === 0) continue;
    moofSize += trafSize(r);
    for (const s of r.samples) mdatSize += s.data.length;
  }
  const out = alloc(moofSize + mdatSize);
  let pos = writeHeader(out, 0, moofSize, 'moof');
  pos = writeFullHeader(out, pos, 16, 'mfhd', 0, 0);
  out.writeUInt32BE(sequence >>> 0, pos);
  pos += 4;
  let dataOffset = moofSize + 8;
  for (const r of runs) {
    if (r.samples.length === 0) continue;
    pos = writeHeader(out, pos, trafSize(r), 'traf');
    pos = writeFullHeader(out, pos, 16, 'tfhd', 0, 0x020000); // default-base-is-moof
    out.writeUInt32BE(r.trackId, pos);
    pos += 4;
    pos = writeFullHeader(out, pos, 20, 'tfdt', 1, 0);
    out.writeUInt32BE(Math.floor(r.baseDecodeTime / 2 ** 32), pos);
    out.writeUInt32BE(r.baseDecodeTime >>> 0, pos + 4);
    pos += 8;
    // duration, size, flags and composition offset present for every sample.
    pos = writeFullHeader(out, pos, 12 + 8 + r.samples.length * 16, 'trun', 1, 0x000001 | 0x000100 | 0x000200 | 0x000400 | 0x000800);
    out.writeUInt32BE(r.samples.length, pos);
    out.writeUInt32BE(dataOffset, pos + 4);
    pos += 8;
    for (const s of r.samples) {
      out.writeUInt32BE(s.duration >>> 0, pos);
      out.writeUInt32BE(s.data.length, pos + 4);
      out.writeUInt32BE(s.keyframe ? KEY_FLAGS : DELTA_FLAGS, pos + 8);
      out.writeInt32BE(s.cts, pos + 12);
      pos += 16;
      dataOffset += s.data.length;
    }
  }
  pos = writeHeader(out, pos, mdatSize, 'mdat');
  for (const r of runs) {
    for (const s of r.samples) {
      const at = pos;
      pos += s.data.copy(out, at);
      // From here the sample's bytes are the fragment's: its staging memory can be reused.
      s.data = out.subarray(at, pos);
      s.release?.();
      s.release = undefined;
    }
  }
  return out;
}

/**
 * The fragment writer's helpers, at module level rather than closures inside `fragment`: it runs
 * four times a second per stream, and under tsx esbuild's keepNames turns every named closure
 * into an `Object.defineProperty` call per run.
 */
function trafSize(r: TrackRun): number {
  // trun sizes are fixed per sample, so the moof size is known before the data offsets.
  return 8 + 16 + 20 + (12 + 8 + r.samples.length * 16);
}

function writeHeader(out: Buffer, pos: number, size: number, type: string): number {
  out.writeUInt32BE(size, pos);
  out.write(type, pos + 4, 'latin1');
  return pos + 8;
}

function writeFullHeader(out: Buffer, pos: number, size: number, type: string, version: number, flags: number): number {
  pos = writeHeader(out, pos, size, type);
  out.writeUInt32BE(((version << 24) | flags) >>> 0, pos);
  return pos + 4;
}
