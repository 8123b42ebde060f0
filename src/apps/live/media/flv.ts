/**
 * @module apps/live/media/flv
 * The FLV tag payloads RTMP carries: H.264 video (AVC sequence header = avcC, then length-
 * prefixed NAL units with a composition time offset) and AAC audio (AudioSpecificConfig, then
 * raw frames). The NAL units are already in the length-prefixed form MP4 stores, which is why
 * remuxing needs no re-encoding and no byte rewriting. Other codecs are refused by name.
 */

export class MediaError extends Error {
  constructor(
    readonly kind: 'empty' | 'codec' | 'corrupt',
    message: string,
  ) {
    super(message);
    this.name = 'MediaError';
  }
}

export type VideoTag = { kind: 'config'; avcC: Buffer } | { kind: 'frame'; keyframe: boolean; compositionMs: number; data: Buffer } | { kind: 'end' };
export type AudioTag = { kind: 'config'; asc: Buffer } | { kind: 'frame'; data: Buffer };

const VIDEO_CODECS: Record<number, string> = { 2: 'Sorenson H.263', 3: 'Screen video', 4: 'VP6', 5: 'VP6 alpha', 6: 'Screen video 2', 7: 'H.264', 12: 'HEVC' };
const AUDIO_CODECS: Record<number, string> = { 0: 'PCM', 1: 'ADPCM', 2: 'MP3', 3: 'PCM LE', 10: 'AAC', 11: 'Speex', 14: 'MP3 8 kHz' };

export function parseVideoTag(p: Buffer): VideoTag {
  if (p.length === 0) throw new MediaError('empty', 'empty video payload');
  if (p[0]! & 0x80) throw new MediaError('codec', 'enhanced RTMP video (HEVC/AV1 FourCC) is not supported; send H.264');
  const codec = p[0]! & 0x0f;
  if (codec !== 7) throw new MediaError('codec', `video codec ${VIDEO_CODECS[codec] ?? codec} is not supported; send H.264`);
  if (p.length < 5) throw new MediaError('corrupt', `video payload of ${p.length} bytes (an AVC packet header is 5)`);
  const packetType = p[1]!;
  if (packetType === 2) return { kind: 'end' };
  if (packetType === 0) {
    if (p.length < 5 + 7 || p[5] !== 1) throw new MediaError('corrupt', 'AVC sequence header is not an avcC record');
    return { kind: 'config', avcC: Buffer.from(p.subarray(5)) };
  }
  if (packetType !== 1) throw new MediaError('corrupt', `AVC packet type ${packetType}`);
  const compositionMs = (p.readIntBE(2, 3));
  const data = p.subarray(5);
  if (data.length === 0) throw new MediaError('empty', 'AVC frame with no NAL units');
  // Every NAL length must land inside the payload; a corrupt length would corrupt the segment.
  let pos = 0;
  while (pos < data.length) {
    if (pos + 4 > data.length) throw new MediaError('corrupt', 'truncated NAL length');
    pos += 4 + data.readUInt32BE(pos);
  }
  if (pos !== data.length) throw new MediaError('corrupt', 'NAL unit overruns the video payload');
  return { kind: 'frame', keyframe: p[0]! >> 4 === 1, compositionMs, data };
}

export function parseAudioTag(p: Buffer): AudioTag {
  if (p.length === 0) throw new MediaError('empty', 'empty audio payload');
  const format = p[0]! >> 4;
  if (format !== 10) throw new MediaError('codec', `audio codec ${AUDIO_CODECS[format] ?? format} is not supported; send AAC`);
  if (p.length < 2) throw new MediaError('corrupt', 'AAC payload without a packet type');
  if (p[1] === 0) {
    if (p.length < 4) throw new MediaError('corrupt', 'AudioSpecificConfig shorter than 2 bytes');
    return { kind: 'config', asc: Buffer.from(p.subarray(2)) };
  }
  const data = p.subarray(2);
  if (data.length === 0) throw new MediaError('empty', 'AAC frame of 0 bytes');
  return { kind: 'frame', data };
}

const AAC_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

export interface AacConfig {
  objectType: number;
  sampleRate: number;
  channels: number;
  codec: string;
}

export function parseAudioSpecificConfig(asc: Buffer): AacConfig {
  const objectType = asc[0]! >> 3;
  const rateIndex = ((asc[0]! & 0x07) << 1) | (asc[1]! >> 7);
  const sampleRate = AAC_RATES[rateIndex];
  if (!sampleRate) throw new MediaError('corrupt', `AAC sampling frequency index ${rateIndex}`);
  const channels = (asc[1]! >> 3) & 0x0f;
  return { objectType, sampleRate, channels: channels || 2, codec: `mp4a.40.${objectType}` };
}

export interface AvcConfig {
  width: number;
  height: number;
  codec: string;
}

/** Codec string and picture size from the avcC's first SPS. */
export function parseAvcConfig(avcC: Buffer): AvcConfig {
  const codec = `avc1.${avcC.subarray(1, 4).toString('hex')}`;
  const spsCount = avcC[5]! & 0x1f;
  if (spsCount < 1 || avcC.length < 8) throw new MediaError('corrupt', 'avcC without an SPS');
  const spsLength = avcC.readUInt16BE(6);
  const sps = avcC.subarray(8, 8 + spsLength);
  const { width, height } = spsPictureSize(sps);
  return { width, height, codec };
}

/** Exp-Golomb reader over an RBSP (emulation-prevention bytes removed). */
class BitReader {
  private bit = 0;
  constructor(private readonly data: Buffer) {}
  u(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) {
      const byte = this.data[this.bit >> 3];
      if (byte === undefined) throw new MediaError('corrupt', 'SPS ends early');
      v = (v << 1) | ((byte >> (7 - (this.bit & 7))) & 1);
      this.bit++;
    }
    return v >>> 0;
  }
  ue(): number {
    let zeros = 0;
    while (this.u(1) === 0) if (++zeros > 31) throw new MediaError('corrupt', 'bad Exp-Golomb code in SPS');
    return (1 << zeros) - 1 + this.u(zeros);
  }
  se(): number {
    const k = this.ue();
    return k & 1 ? (k + 1) / 2 : -(k / 2);
  }
}

function spsPictureSize(nal: Buffer): { width: number; height: number } {
  const rbsp: number[] = [];
  for (let i = 1; i < nal.length; i++) {
    if (i >= 3 && nal[i] === 3 && nal[i - 1] === 0 && nal[i - 2] === 0) continue;
    rbsp.push(nal[i]!);
  }
  const r = new BitReader(Buffer.from(rbsp));
  const profile = r.u(8);
  r.u(16);
  r.ue();
  let chromaFormat = 1;
  if ([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135].includes(profile)) {
    chromaFormat = r.ue();
    if (chromaFormat === 3) r.u(1);
    r.ue();
    r.ue();
    r.u(1);
    if (r.u(1)) {
      for (let i = 0; i < (chromaFormat !== 3 ? 8 : 12); i++) {
        if (!r.u(1)) continue;
        const size = i < 6 ? 16 : 64;
        let last = 8;
        let next = 8;
        for (let j = 0; j < size; j++) {
          if (next !== 0) next = (last + r.se() + 256) % 256;
          last = next === 0 ? last : next;
        }
      }
    }
  }
  r.ue();
  const pocType = r.ue();
  if (pocType === 0) r.ue();
  else if (pocType === 1) {
    r.u(1);
    r.se();
    r.se();
    const n = r.ue();
    for (let i = 0; i < n; i++) r.se();
  }
  r.ue();
  r.u(1);
  const widthMbs = r.ue() + 1;
  const heightMapUnits = r.ue() + 1;
  const frameMbsOnly = r.u(1);
  if (!frameMbsOnly) r.u(1);
  r.u(1);
  let [cl, cr, ct, cb] = [0, 0, 0, 0];
  if (r.u(1)) [cl, cr, ct, cb] = [r.ue(), r.ue(), r.ue(), r.ue()];
  const subW = chromaFormat === 1 || chromaFormat === 2 ? 2 : 1;
  const subH = (chromaFormat === 1 ? 2 : 1) * (2 - frameMbsOnly);
  return { width: widthMbs * 16 - subW * (cl + cr), height: (2 - frameMbsOnly) * heightMapUnits * 16 - subH * (ct + cb) };
}
