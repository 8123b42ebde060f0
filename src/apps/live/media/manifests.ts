/**
 * @module apps/live/media/manifests
 * The three descriptions of one segmenter's output, all naming the same files:
 * - LL-HLS (`index.m3u8`): parts of the last segments (`#EXT-X-PART`), a preload hint for the
 *   next part, blocking reload advertised (`CAN-BLOCK-RELOAD=YES`, `PART-HOLD-BACK`).
 * - plain HLS (`plain.m3u8`): whole segments only, for players without LL-HLS.
 * - DASH (`manifest.mpd`): a dynamic MPD, SegmentTemplate with `$Number$` and a SegmentTimeline.
 * File names: `init.mp4`, `seg-<msn>.m4s`, `seg-<msn>.<part>.m4s` (muxed, HLS); `init-v.mp4`,
 * `v-<msn>.m4s`, `init-a.mp4`, `a-<msn>.m4s` (one track each, DASH: dash.js and ffmpeg do not
 * demux a muxed DASH representation). Each is the same samples, fragmented once per listing.
 * With an ABR ladder, `master.m3u8` (HLS multivariant playlist) lists the source and each
 * rendition (`<name>/index.m3u8`), and the DASH video AdaptationSet gets one Representation per
 * rendition (`<name>/init-v.mp4`, `<name>/v-$Number$.m4s`).
 */
import type { Segment, Segmenter } from './segmenter.js';

export interface ManifestInfo {
  partTargetMs: number;
  segmentTargetMs: number;
  codecs: string;
  width: number;
  height: number;
  bandwidth: number;
}

/** One entry of a multivariant playlist or of the DASH video AdaptationSet. */
export interface Variant {
  /** Path prefix of its files relative to the source's ('' for the source, `720p/` for a rendition). */
  path: string;
  /** DASH Representation id. */
  id: string;
  seg: Segmenter;
  info: ManifestInfo;
}

const secs = (s: number) => s.toFixed(3);

/**
 * The HLS multivariant playlist: each variant's LL-HLS playlist with its peak bandwidth,
 * resolution and codecs (RFC 8216bis 4.4.6.2). `query` (the viewer id) is passed on to each
 * variant's URI, so the viewer keeps its identity on every playlist it polls.
 */
export function hlsMaster(variants: Variant[], query = ''): string {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:9', '#EXT-X-INDEPENDENT-SEGMENTS'];
  for (const v of variants) {
    const codecs = v.info.codecs.split(',').filter(Boolean).join(',');
    lines.push(`#EXT-X-STREAM-INF:BANDWIDTH=${Math.max(1, Math.round(v.info.bandwidth))},RESOLUTION=${v.info.width}x${v.info.height}${codecs ? `,CODECS="${codecs}"` : ''}`, `${v.path}index.m3u8${query}`);
  }
  return lines.join('\n') + '\n';
}

export function targetDuration(seg: Segmenter, info: ManifestInfo): number {
  return Math.max(1, Math.max(Math.round(seg.maxSegmentSeconds), Math.ceil(info.segmentTargetMs / 1000)));
}

/** Part lines are kept for segments ending within this many target durations of the live edge. */
const PART_WINDOW_TARGETS = 3;

export function hlsPlaylist(seg: Segmenter, info: ManifestInfo, lowLatency: boolean): string {
  const target = targetDuration(seg, info);
  const partTarget = info.partTargetMs / 1000;
  const lines = ['#EXTM3U', `#EXT-X-VERSION:${lowLatency ? 9 : 7}`, `#EXT-X-TARGETDURATION:${target}`];
  if (lowLatency) {
    lines.push(`#EXT-X-PART-INF:PART-TARGET=${secs(partTarget)}`);
    lines.push(`#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=${secs(partTarget * 3)},HOLD-BACK=${secs(target * 3)}`);
  }
  const first = seg.segments[0]?.msn ?? seg.open?.msn ?? 0;
  lines.push(`#EXT-X-MEDIA-SEQUENCE:${first}`, '#EXT-X-INDEPENDENT-SEGMENTS', '#EXT-X-MAP:URI="init.mp4"');
  const all: Segment[] = [...seg.segments];
  const open = lowLatency ? seg.open : null;
  let remaining = all.reduce((n, s) => n + s.duration, 0) + (open?.duration ?? 0);
  for (const s of all) {
    lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(s.wallClockStart).toISOString()}`);
    if (lowLatency && remaining <= target * PART_WINDOW_TARGETS) for (const p of s.parts) lines.push(partLine(p.msn, p.index, p.duration, p.independent));
    lines.push(`#EXTINF:${secs(s.duration)},`, `seg-${s.msn}.m4s`);
    remaining -= s.duration;
  }
  if (open) {
    lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(open.wallClockStart).toISOString()}`);
    for (const p of open.parts) lines.push(partLine(p.msn, p.index, p.duration, p.independent));
  }
  if (seg.ended) lines.push('#EXT-X-ENDLIST');
  else if (lowLatency) {
    const next = seg.nextPart;
    lines.push(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="seg-${next.msn}.${next.index}.m4s"`);
  }
  return lines.join('\n') + '\n';
}

function partLine(msn: number, index: number, duration: number, independent: boolean): string {
  return `#EXT-X-PART:DURATION=${secs(duration)},URI="seg-${msn}.${index}.m4s"${independent ? ',INDEPENDENT=YES' : ''}`;
}

function isoDuration(seconds: number): string {
  return `PT${seconds.toFixed(3)}S`;
}

export function dashManifest(seg: Segmenter, info: ManifestInfo, now = Date.now(), renditions: Variant[] = []): string {
  const target = targetDuration(seg, info);
  const start = seg.segments[0]?.msn ?? 0;
  const audioTimeline = seg.segments
    .map((s) => {
      const first = s.parts.find((p) => p.audioFrames > 0);
      const frames = s.parts.reduce((n, p) => n + p.audioFrames, 0);
      return first ? `<S t="${first.audioStart}" d="${frames * 1024}"/>` : '';
    })
    .join('');
  const audioCodec = info.codecs.split(',')[1];
  const audioSet = seg.audio
    ? `
    <AdaptationSet id="1" contentType="audio" mimeType="audio/mp4" segmentAlignment="true" startWithSAP="1" lang="und">
      <Representation id="audio" codecs="${audioCodec ?? 'mp4a.40.2'}" bandwidth="128000" audioSamplingRate="${seg.audio.sampleRate}">
        <AudioChannelConfiguration schemeIdUri="urn:mpeg:dash:23003:3:audio_channel_configuration:2011" value="${seg.audio.channels}"/>
        <SegmentTemplate timescale="${seg.audio.sampleRate}" initialization="init-a.mp4" media="a-$Number$.m4s" startNumber="${start}">
          <SegmentTimeline>${audioTimeline}</SegmentTimeline>
        </SegmentTemplate>
      </Representation>
    </AdaptationSet>`
    : '';
  const ended = seg.ended;
  const total = seg.segments.reduce((n, s) => n + s.duration, 0);
  const attrs = ended
    ? `type="static" mediaPresentationDuration="${isoDuration((seg.segments.at(-1)?.startTime ?? 0) / 90_000 + (seg.segments.at(-1)?.duration ?? 0))}"`
    : `type="dynamic" availabilityStartTime="${new Date(seg.originWallClock).toISOString()}" publishTime="${new Date(now).toISOString()}" minimumUpdatePeriod="${isoDuration(Math.min(target, 1))}" timeShiftBufferDepth="${isoDuration(Math.max(total, target * 2))}" suggestedPresentationDelay="${isoDuration(target * 2)}"`;
  return `<?xml version="1.0" encoding="UTF-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-live:2011,urn:mpeg:dash:profile:cmaf:2019" ${attrs} minBufferTime="${isoDuration(target)}">
  <Period id="0" start="PT0S">
    <AdaptationSet id="0" contentType="video" mimeType="video/mp4" segmentAlignment="true" startWithSAP="1">
${[{ path: '', id: 'video', seg, info }, ...renditions].map(videoRepresentation).join('\n')}
    </AdaptationSet>${audioSet}
  </Period>
  <UTCTiming schemeIdUri="urn:mpeg:dash:utc:direct:2014" value="${new Date(now).toISOString()}"/>
</MPD>
`;
}

/** One video Representation with its own template and timeline (renditions start later than the source). */
function videoRepresentation(v: Variant): string {
  const timeline = v.seg.segments.map((s) => `<S t="${s.startTime}" d="${Math.round(s.duration * 90_000)}"/>`).join('');
  const start = v.seg.segments[0]?.msn ?? 0;
  return `      <Representation id="${v.id}" codecs="${v.info.codecs.split(',')[0]}" bandwidth="${Math.max(1, Math.round(v.info.bandwidth))}" width="${v.info.width}" height="${v.info.height}">
        <SegmentTemplate timescale="90000" initialization="${v.path}init-v.mp4" media="${v.path}v-$Number$.m4s" startNumber="${start}">
          <SegmentTimeline>${timeline}</SegmentTimeline>
        </SegmentTemplate>
      </Representation>`;
}
