/**
 * @module apps/live/media/playback
 * What a playback file request gets, whichever way it came in: the LL-HLS playlist (blocking
 * reload with `_HLS_msn`/`_HLS_part`), the plain HLS playlist, the multivariant playlist, the
 * DASH manifest, init segments, segments and parts from the broadcast's memory. Segments and
 * parts never change once listed, so they are `immutable` for a year (a CDN keeps them);
 * playlists live one second, blocking answers a little longer (each names a future state, which
 * is the same for every viewer). A preload-hinted part that does not exist yet is held until it
 * does.
 *
 * An answer is plain data (status, headers, body) handed to `respond`, at once or when the part a
 * request waits for is out; the Fastify routes (apps/live/media-routes) and the front door
 * (apps/live/media/front-door) each write it their own way, so both answer byte for byte alike.
 */
import { dashManifest, hlsMaster, hlsPlaylist, targetDuration, type ManifestInfo, type Variant } from './manifests.js';
import type { Part, Segmenter, WaitKey } from './segmenter.js';

const IMMUTABLE = 'public, max-age=31536000, immutable';
const SEGMENT_TYPE = 'video/iso.segment';
const PLAYLIST_TYPE = 'application/vnd.apple.mpegurl';
const VIEWER = /^[A-Za-z0-9_.:-]{1,80}$/;

export interface PlaybackAnswer {
  status: number;
  /** Everything but the server-wide (security) headers; `content-length` when there is a body. */
  headers: Readonly<Record<string, string>>;
  body: Buffer | null;
  /** The same headers object answers many requests (a playlist version): writers may cache what they derive from it. */
  shared?: boolean;
  /** Keeps the body's memory from being reused (apps/live/media/slab-pool); returns the release. */
  hold?: () => () => void;
}

export interface PlaybackRequest {
  file: string;
  /** Query values as sent (undefined: absent). */
  msn: string | undefined;
  part: string | undefined;
  viewer: string | undefined;
  ifNoneMatch: string | undefined;
}

export interface PlaybackMedia {
  seg: Segmenter;
  info: ManifestInfo;
  /** The source's ABR renditions (null for a rendition itself). */
  variants: (() => Variant[]) | null;
}

export function validViewer(viewer: string | undefined): viewer is string {
  return viewer !== undefined && VIEWER.test(viewer);
}

export function problem(status: number, code: string, message: string): PlaybackAnswer {
  const body = Buffer.from(JSON.stringify({ error: { code, message } }));
  return { status, headers: { 'cache-control': 'no-store', 'content-type': 'application/json; charset=utf-8', 'content-length': String(body.length) }, body };
}

function file(type: string, cacheControl: string, body: Buffer | string): PlaybackAnswer {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  return { status: 200, headers: { 'content-type': type, 'cache-control': cacheControl, 'content-length': String(bytes.length) }, body: bytes };
}

/**
 * The HLS playlists of one segmenter state, rendered and encoded once with their headers: after
 * each part every viewer's blocking request is answered at the same moment with the same bytes.
 * The version is also the playlist's ETag, so a poller (or a CDN revalidating) that has this
 * state gets a 304 and no body.
 */
interface RenderedPlaylist {
  body: Buffer;
  etag: string;
  /** By cache-control: the 200 answer and the 304 answer. */
  answers: Map<string, { full: PlaybackAnswer; notModified: PlaybackAnswer }>;
}
const rendered = new WeakMap<Segmenter, { serial: number; version: number; ll?: RenderedPlaylist; plain?: RenderedPlaylist }>();
/** With a serial per segmenter: an ETag from an earlier run or another rendition never matches. */
const EPOCH = Date.now().toString(36);
let serials = 0;

function render(seg: Segmenter, info: ManifestInfo, lowLatency: boolean, serial: number): RenderedPlaylist {
  return { body: Buffer.from(hlsPlaylist(seg, info, lowLatency)), etag: `"${EPOCH}.${serial}.${seg.version}.${lowLatency ? 'l' : 'p'}"`, answers: new Map() };
}

/**
 * The cache-control of a blocking playlist answer, by target duration: made once, not per answer
 * (a part releases ~2,000 of them at once, each looked up by this string).
 */
const heldCacheControls: string[] = [];
const heldCacheControl = (target: number): string => (heldCacheControls[target] ??= `public, max-age=${target * 6}`);

function playlist(seg: Segmenter, info: ManifestInfo, lowLatency: boolean, cacheControl: string, ifNoneMatch: string | undefined): PlaybackAnswer {
  let cached = rendered.get(seg);
  if (!cached || cached.version !== seg.version) rendered.set(seg, (cached = { serial: cached?.serial ?? ++serials, version: seg.version }));
  const list = lowLatency ? (cached.ll ??= render(seg, info, true, cached.serial)) : (cached.plain ??= render(seg, info, false, cached.serial));
  let answers = list.answers.get(cacheControl);
  if (!answers) {
    const headers = { 'content-type': PLAYLIST_TYPE, 'cache-control': cacheControl, etag: list.etag };
    answers = {
      full: { status: 200, headers: { ...headers, 'content-length': String(list.body.length) }, body: list.body, shared: true },
      notModified: { status: 304, headers, body: null, shared: true },
    };
    list.answers.set(cacheControl, answers);
  }
  return ifNoneMatch === list.etag ? answers.notModified : answers.full;
}

/**
 * A part's answer, built once and shared by every viewer of the part (at 2,000 LL-HLS viewers each
 * part is sent 2,000 times): one headers object, whose flat form the front door keeps.
 */
const partAnswers = new WeakMap<Part, PlaybackAnswer>();
function partAnswer(p: Part): PlaybackAnswer {
  let answer = partAnswers.get(p);
  // The part's memory is reused once it leaves the window: the writer holds it until the bytes are sent.
  if (!answer) partAnswers.set(p, (answer = { ...file(SEGMENT_TYPE, IMMUTABLE, p.data), shared: true, hold: () => p.hold() }));
  return answer;
}

/**
 * The key held requests for (msn, part) share (Segmenter.wait): a number built from the three
 * small integers players send, so a held request makes no key string; anything larger (valid, if
 * odd) gets a string. `kind` 0: a playlist, 1: a part; null part: the whole segment.
 */
function waitKey(msn: number, part: number | null, kind: 0 | 1): WaitKey {
  // 14 bits of part index (the last value stands for "no part"), 36 of msn, 1 of kind: < 2^53.
  if (msn < 2 ** 36 && (part === null || part < 0x3fff)) return (msn * 0x4000 + (part ?? 0x3fff)) * 2 + kind;
  return `${kind}:${msn}.${part ?? ''}`;
}

const liveCache = (seg: Segmenter) => (seg.ended ? 'public, max-age=60' : 'public, max-age=1');

/** Answers one playback request: `respond` is called exactly once, now or when what it waits for is out. */
export function answerPlayback(media: PlaybackMedia, req: PlaybackRequest, respond: (answer: PlaybackAnswer) => void): void {
  const { seg, info } = media;
  const target = targetDuration(seg, info);
  const name = req.file;
  if (name === 'master.m3u8' && media.variants) {
    const query = validViewer(req.viewer) ? `?viewer=${req.viewer}` : '';
    return respond(file(PLAYLIST_TYPE, 'public, max-age=2', hlsMaster([{ path: '', id: 'video', seg, info }, ...media.variants()], query)));
  }
  if (name === 'index.m3u8') {
    if (req.msn === undefined) return respond(playlist(seg, info, true, liveCache(seg), req.ifNoneMatch));
    const m = Number(req.msn);
    const p = req.part === undefined ? null : Number(req.part);
    if (!Number.isInteger(m) || m < 0 || (p !== null && (!Number.isInteger(p) || p < 0))) return respond(problem(400, 'bad_request', '_HLS_msn and _HLS_part are non-negative integers'));
    const next = seg.nextPart;
    // The spec: a request more than two segments ahead of the live edge is a client error.
    if (m > next.msn + 2) return respond(problem(400, 'bad_request', `_HLS_msn ${m} is more than two segments past the live edge (${next.msn})`));
    const ready = () => (p === null ? seg.segments.some((s) => s.msn >= m) || (seg.open?.msn ?? -1) > m : Boolean(seg.findPart(m, p)) || seg.segments.some((s) => s.msn > m) || (seg.open?.msn ?? -1) > m);
    const ifNoneMatch = req.ifNoneMatch;
    return seg.wait(
      waitKey(m, p, 0),
      ready,
      target * 3000,
      (ok) => {
        if (!ok && !seg.ended) return respond(problem(503, 'not_ready', 'the requested part did not appear within three target durations'));
        respond(playlist(seg, info, true, heldCacheControl(target), ifNoneMatch));
      },
      true,
    );
  }
  if (name === 'plain.m3u8') return respond(playlist(seg, info, false, liveCache(seg), req.ifNoneMatch));
  if (name === 'manifest.mpd') return respond(file('application/dash+xml', liveCache(seg), dashManifest(seg, info, Date.now(), media.variants ? media.variants() : [])));
  if (name === 'init.mp4' || name === 'init-v.mp4' || name === 'init-a.mp4') {
    const data = name === 'init.mp4' ? seg.init : name === 'init-v.mp4' ? seg.initVideo : seg.initAudio;
    if (!data) return respond(problem(404, 'not_found', `no ${name} for this stream`));
    return respond(file('video/mp4', IMMUTABLE, data));
  }
  const m = /^(seg|v|a)-(\d{1,9})(?:\.(\d{1,4}))?\.m4s$/.exec(name);
  if (!m) return respond(problem(404, 'not_found', `no file ${name}`));
  const [, track, msnText, partText] = m;
  const msn = Number(msnText);
  if (partText === undefined) {
    const s = seg.findSegment(msn);
    const data = s ? s.file(track === 'seg' ? 'muxed' : track === 'v' ? 'video' : 'audio') : null;
    if (!data) return respond(problem(404, 'not_found', `segment ${name} is not available (gone from the window, or not finished)`));
    return respond(file(SEGMENT_TYPE, IMMUTABLE, data));
  }
  if (track !== 'seg') return respond(problem(404, 'not_found', 'parts exist for the muxed (HLS) track only'));
  const index = Number(partText);
  const sendPart = () => {
    const p = seg.findPart(msn, index);
    if (!p) return respond(problem(404, 'not_found', `part ${msn}.${index} is not available (gone from the window, or not the next part)`));
    respond(partAnswer(p));
  };
  const next = seg.nextPart;
  // A preload hint names the next part: hold the request until it is written.
  if (!seg.findPart(msn, index) && msn === next.msn && index === next.index) {
    return seg.wait(waitKey(msn, index, 1), () => Boolean(seg.findPart(msn, index)) || (seg.open?.msn ?? seg.nextPart.msn) > msn, target * 3000, sendPart);
  }
  sendPart();
}
