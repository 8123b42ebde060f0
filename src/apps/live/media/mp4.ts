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

/** One fragment: moof (a traf per non-empty run) + mdat with the runs' samples in order. */
export function fragment(sequence: number, runs: TrackRun[]): Buffer {
  const nonEmpty = runs.filter((r) => r.samples.length > 0);
  // trun sizes are fixed per sample, so the moof size is known before the data offsets.
  const trafSize = (r: TrackRun) => 8 + 16 + 20 + (12 + 8 + r.samples.length * 16);
  const moofSize = 8 + 16 + nonEmpty.reduce((n, r) => n + trafSize(r), 0);
  let dataOffset = moofSize + 8;
  const trafs: Buffer[] = [];
  for (const r of nonEmpty) {
    const tfhd = fullBox('tfhd', 0, 0x020000, u32s(r.trackId));
    const tfdt = fullBox('tfdt', 1, 0, u32s(Math.floor(r.baseDecodeTime / 2 ** 32), r.baseDecodeTime >>> 0));
    const entries = Buffer.alloc(r.samples.length * 16);
    r.samples.forEach((s, i) => {
      entries.writeUInt32BE(s.duration >>> 0, i * 16);
      entries.writeUInt32BE(s.data.length, i * 16 + 4);
      entries.writeUInt32BE(s.keyframe ? KEY_FLAGS : DELTA_FLAGS, i * 16 + 8);
      entries.writeInt32BE(s.cts, i * 16 + 12);
    });
    const trun = fullBox('trun', 1, 0x000001 | 0x000100 | 0x000200 | 0x000400 | 0x000800, u32s(r.samples.length, dataOffset), entries);
    trafs.push(box('traf', tfhd, tfdt, trun));
    dataOffset += r.samples.reduce((n, s) => n + s.data.length, 0);
  }
  const moof = box('moof', fullBox('mfhd', 0, 0, u32s(sequence)), ...trafs);
  const mdat = box('mdat', ...nonEmpty.flatMap((r) => r.samples.map((s) => s.data)));
  return Buffer.concat([moof, mdat]);
}
