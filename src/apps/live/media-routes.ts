/**
 * @module apps/live/media-routes
 * Playback over HTTP: `/api/v1/streams/:id/media/<file>` serves the LL-HLS playlist (blocking
 * reload with `_HLS_msn`/`_HLS_part`), the plain HLS playlist, the DASH manifest, init segments,
 * segments and parts from the broadcast's memory. Segments and parts never change once listed,
 * so they are `immutable` for a year (a CDN keeps them); playlists live one second, blocking
 * responses a little longer (each names a future state, which is the same for every viewer).
 * A preload-hinted part that does not exist yet is held until it does.
 *
 * With an ABR ladder, `master.m3u8` lists the source and its renditions, and `<rendition>/<file>`
 * serves each rendition's files exactly like the source's.
 *
 * Each manifest request also marks its viewer present (apps/live/viewers).
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PUBLIC } from './access.js';
import { dashManifest, hlsMaster, hlsPlaylist, targetDuration, type ManifestInfo, type Variant } from './media/manifests.js';
import type { Broadcast } from './broadcast.js';
import type { Segmenter } from './media/segmenter.js';
import type { LiveMetrics } from './metrics.js';
import type { LiveService } from './service.js';

const IMMUTABLE = 'public, max-age=31536000, immutable';
const SEGMENT_TYPE = 'video/iso.segment';

type MediaRequest = FastifyRequest<{ Params: { id: string; file: string; rendition?: string }; Querystring: Record<string, string | undefined> }>;

function viewerId(req: MediaRequest): string {
  const given = req.query.viewer;
  if (given && /^[A-Za-z0-9_.:-]{1,80}$/.test(given)) return given;
  return 'anon-' + createHash('sha1').update(`${req.ip}|${req.headers['user-agent'] ?? ''}`).digest('base64url').slice(0, 16);
}

/**
 * The HLS playlists of one segmenter state, rendered and encoded to bytes once: after each part
 * every viewer's blocking request is answered at the same moment, and rendering (then UTF-8
 * encoding) the same text once per viewer was most of that burst's cost. The version is also the
 * playlist's ETag, so a poller (or a CDN revalidating) that has this state gets a 304 and no body.
 */
interface RenderedPlaylist {
  body: Buffer;
  etag: string;
}
const rendered = new WeakMap<Segmenter, { serial: number; version: number; ll?: RenderedPlaylist; plain?: RenderedPlaylist }>();
/** With a serial per segmenter: an ETag from an earlier run or another rendition never matches. */
const EPOCH = Date.now().toString(36);
let serials = 0;

function playlist(seg: Segmenter, info: ManifestInfo, lowLatency: boolean): RenderedPlaylist {
  let cached = rendered.get(seg);
  if (!cached || cached.version !== seg.version) rendered.set(seg, (cached = { serial: cached?.serial ?? ++serials, version: seg.version }));
  const tag = `"${EPOCH}.${cached.serial}.${seg.version}.${lowLatency ? 'l' : 'p'}"`;
  const render = (): RenderedPlaylist => ({ body: Buffer.from(hlsPlaylist(seg, info, lowLatency)), etag: tag });
  if (lowLatency) return (cached.ll ??= render());
  return (cached.plain ??= render());
}

/** Sends a rendered playlist, or 304 when the client already holds this version. */
function sendPlaylist(req: MediaRequest, reply: FastifyReply, list: RenderedPlaylist, cacheControl: string) {
  reply.headers({ 'content-type': 'application/vnd.apple.mpegurl', 'cache-control': cacheControl, etag: list.etag });
  if (req.headers['if-none-match'] === list.etag) return reply.code(304).send();
  return reply.send(list.body);
}

function problem(reply: FastifyReply, status: number, code: string, message: string) {
  return reply.status(status).header('cache-control', 'no-store').send({ error: { code, message } });
}

type MediaParams = { id: string; file: string; rendition?: string };

export function registerMediaRoutes(http: FastifyInstance, service: LiveService, metrics: LiveMetrics): void {
  const summary = 'Playback files: master.m3u8 (HLS multivariant: the source and the ABR renditions), index.m3u8 (LL-HLS, blocking reload), plain.m3u8 (HLS), manifest.mpd (DASH), init*.mp4, *.m4s';
  const file = { type: 'string', pattern: '^[a-z0-9.-]{1,40}$' };
  const id = { type: 'string', format: 'uuid' };
  http.get<{ Params: MediaParams; Querystring: Record<string, string | undefined> }>(
    '/:id/media/:file',
    { config: PUBLIC, schema: { tags: ['live'], summary, params: { type: 'object', properties: { id, file }, required: ['id', 'file'] } } },
    (req, reply) => answer(req, reply),
  );
  http.get<{ Params: MediaParams; Querystring: Record<string, string | undefined> }>(
    '/:id/media/:rendition/:file',
    {
      config: PUBLIC,
      schema: {
        tags: ['live'],
        summary: "One ABR rendition's playback files (`720p/index.m3u8`, …), named as the source's",
        params: { type: 'object', properties: { id, rendition: { type: 'string', pattern: '^[0-9]{2,4}p$' }, file }, required: ['id', 'rendition', 'file'] },
      },
    },
    (req, reply) => answer(req, reply),
  );

  async function answer(req: MediaRequest, reply: FastifyReply) {
    const source = service.broadcastOf(req.params.id);
    const file = req.params.file;
    const kind = file.endsWith('.m3u8') || file.endsWith('.mpd') ? 'manifest' : 'segment';
    const media = req.params.rendition === undefined ? source : (source?.renditions.get(req.params.rendition)?.media ?? null);
    if (!media || !media.segmenter.init) {
      metrics.mediaRequests.inc({ kind, result: 'not_live' });
      if (source?.segmenter.init && req.params.rendition !== undefined) return problem(reply, 404, 'not_found', `no rendition ${req.params.rendition} of this stream (yet)`);
      return problem(reply, 404, 'not_live', 'this stream is not live (or has not sent its first keyframe yet)');
    }
    if (kind === 'manifest') service.viewers.polled(req.params.id, viewerId(req));
    const res = await serve(req, reply, media.segmenter, file, media.manifestInfo, req.params.rendition === undefined ? media : null);
    metrics.mediaRequests.inc({ kind, result: reply.statusCode < 400 ? 'ok' : String(reply.statusCode) });
    return res;
  }

  /** The renditions listed beside the source: those whose first segment is out and which still run. */
  function variants(source: Broadcast): Variant[] {
    const out: Variant[] = [];
    for (const [name, r] of source.renditions) {
      if (r.media.segmenter.segments.length === 0 || (r.media.segmenter.ended && !source.segmenter.ended)) continue;
      // The declared bitrate (the encoder's cap) plus the copied audio, until one is measured.
      const info = r.media.manifestInfo;
      out.push({ path: `${name}/`, id: name, seg: r.media.segmenter, info: { ...info, bandwidth: Math.max(info.bandwidth, (r.rendition.kbps + 128) * 1000) } });
    }
    return out;
  }

  async function serve(req: MediaRequest, reply: FastifyReply, seg: Segmenter, file: string, info: ManifestInfo, source: Broadcast | null) {
    const target = targetDuration(seg, info);
    if (file === 'master.m3u8' && source) {
      const viewer = req.query.viewer && /^[A-Za-z0-9_.:-]{1,80}$/.test(req.query.viewer) ? `?viewer=${req.query.viewer}` : '';
      return reply.type('application/vnd.apple.mpegurl').header('cache-control', 'public, max-age=2').send(hlsMaster([{ path: '', id: 'video', seg, info }, ...variants(source)], viewer));
    }
    if (file === 'index.m3u8') {
      const msn = req.query._HLS_msn;
      const part = req.query._HLS_part;
      if (msn !== undefined) {
        const m = Number(msn);
        const p = part === undefined ? null : Number(part);
        if (!Number.isInteger(m) || m < 0 || (p !== null && (!Number.isInteger(p) || p < 0))) return problem(reply, 400, 'bad_request', '_HLS_msn and _HLS_part are non-negative integers');
        const next = seg.nextPart;
        // The spec: a request more than two segments ahead of the live edge is a client error.
        if (m > next.msn + 2) return problem(reply, 400, 'bad_request', `_HLS_msn ${m} is more than two segments past the live edge (${next.msn})`);
        const ready = () => (p === null ? seg.segments.some((s) => s.msn >= m) || (seg.open?.msn ?? -1) > m : Boolean(seg.findPart(m, p)) || seg.segments.some((s) => s.msn > m) || (seg.open?.msn ?? -1) > m);
        const ok = await seg.when(ready, target * 3000);
        if (!ok && !seg.ended) return problem(reply, 503, 'not_ready', 'the requested part did not appear within three target durations');
        return sendPlaylist(req, reply, playlist(seg, info, true), `public, max-age=${target * 6}`);
      }
      return sendPlaylist(req, reply, playlist(seg, info, true), seg.ended ? 'public, max-age=60' : 'public, max-age=1');
    }
    if (file === 'plain.m3u8') return sendPlaylist(req, reply, playlist(seg, info, false), seg.ended ? 'public, max-age=60' : 'public, max-age=1');
    if (file === 'manifest.mpd') return reply.type('application/dash+xml').header('cache-control', seg.ended ? 'public, max-age=60' : 'public, max-age=1').send(dashManifest(seg, info, Date.now(), source ? variants(source) : []));
    if (file === 'init.mp4' || file === 'init-v.mp4' || file === 'init-a.mp4') {
      const data = file === 'init.mp4' ? seg.init : file === 'init-v.mp4' ? seg.initVideo : seg.initAudio;
      if (!data) return problem(reply, 404, 'not_found', `no ${file} for this stream`);
      return reply.type('video/mp4').header('cache-control', IMMUTABLE).send(data);
    }
    const m = /^(seg|v|a)-(\d{1,9})(?:\.(\d{1,4}))?\.m4s$/.exec(file);
    if (!m) return problem(reply, 404, 'not_found', `no file ${file}`);
    const [, track, msnText, partText] = m;
    const msn = Number(msnText);
    if (partText !== undefined) {
      if (track !== 'seg') return problem(reply, 404, 'not_found', 'parts exist for the muxed (HLS) track only');
      const index = Number(partText);
      let p = seg.findPart(msn, index);
      const next = seg.nextPart;
      // A preload hint names the next part: hold the request until it is written.
      if (!p && msn === next.msn && index === next.index) {
        await seg.when(() => Boolean(seg.findPart(msn, index)) || (seg.open?.msn ?? seg.nextPart.msn) > msn, target * 3000);
        p = seg.findPart(msn, index);
      }
      if (!p) return problem(reply, 404, 'not_found', `part ${msn}.${index} is not available (gone from the window, or not the next part)`);
      // The part's memory is reused once it leaves the window: hold it until the bytes are sent.
      reply.raw.once('close', p.hold());
      return reply.type(SEGMENT_TYPE).header('cache-control', IMMUTABLE).send(p.data);
    }
    const s = seg.findSegment(msn);
    const data = s ? s.file(track === 'seg' ? 'muxed' : track === 'v' ? 'video' : 'audio') : null;
    if (!data) return problem(reply, 404, 'not_found', `segment ${file} is not available (gone from the window, or not finished)`);
    return reply.type(SEGMENT_TYPE).header('cache-control', IMMUTABLE).send(data);
  }
}
