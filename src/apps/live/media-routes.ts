/**
 * @module apps/live/media-routes
 * Playback over HTTP: `/api/v1/streams/:id/media/<file>` serves a broadcast's playlists, manifest,
 * init segments, segments and parts (what each gets: apps/live/media/playback). With an ABR
 * ladder, `master.m3u8` lists the source and its renditions, and `<rendition>/<file>` serves each
 * rendition's files exactly like the source's.
 *
 * Two doors, one answer: the Fastify routes (documented, validated: they answer anything
 * unusual) and the front door (apps/live/media/front-door), which answers
 * well-formed playback requests from Node's server directly, for the CPU of thousands of
 * viewers. Each manifest request also marks its viewer present (apps/live/viewers), and every
 * answer is counted in `live_media_requests_total` by kind and result.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SECURITY_HEADERS } from '../../http/instance.js';
import { PUBLIC } from './access.js';
import type { Variant } from './media/manifests.js';
import { MediaFrontDoor, type DoorRequest } from './media/front-door.js';
import { answerPlayback, problem, validViewer, type PlaybackAnswer, type PlaybackMedia } from './media/playback.js';
import type { Broadcast } from './broadcast.js';
import type { LiveMetrics } from './metrics.js';
import type { LiveService } from './service.js';

type MediaParams = { id: string; file: string; rendition?: string };
type MediaRequest = FastifyRequest<{ Params: MediaParams; Querystring: Record<string, string | undefined> }>;

function viewerId(req: DoorRequest): string {
  if (validViewer(req.viewer)) return req.viewer;
  return 'anon-' + createHash('sha1').update(`${req.ip()}|${req.userAgent ?? ''}`).digest('base64url').slice(0, 16);
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

/**
 * One counter child per kind and result, found without building a label key per request: the two
 * `ok` children (nearly every answer) are looked up once; an error status by number.
 */
function counting(metrics: LiveMetrics) {
  type Kind = 'manifest' | 'segment';
  // Made at the first answer of each kind, so a server that serves none shows no series.
  const ok: Partial<Record<Kind, { inc(): void }>> = {};
  const failed = { manifest: new Map<number, { inc(): void }>(), segment: new Map<number, { inc(): void }>() };
  return (kind: Kind, status: number) => {
    if (status < 400) return (ok[kind] ??= metrics.mediaRequests.labels({ kind, result: 'ok' })).inc();
    let child = failed[kind].get(status);
    if (!child) failed[kind].set(status, (child = metrics.mediaRequests.labels({ kind, result: String(status) })));
    child.inc();
  };
}

/** Each broadcast's (or rendition's) playback view, made once rather than per request. */
const playbacks = new WeakMap<Broadcast, PlaybackMedia>();
function playbackOf(media: Broadcast, isSource: boolean): PlaybackMedia {
  let playback = playbacks.get(media);
  if (!playback) {
    playback = {
      seg: media.segmenter,
      // The current version's: a held request answered after the next part names that part's state.
      get info() {
        return media.manifestInfo;
      },
      variants: isSource ? () => variants(media) : null,
    };
    playbacks.set(media, playback);
  }
  return playback;
}

export function registerMediaRoutes(http: FastifyInstance, service: LiveService, metrics: LiveMetrics): void {
  const count = counting(metrics);

  /** Both doors: finds the broadcast (or rendition), counts the viewer, answers, counts the answer. */
  function serveMedia(req: DoorRequest, respond: (answer: PlaybackAnswer) => void): void {
    const source = service.broadcastOf(req.id);
    const kind = req.file.endsWith('.m3u8') || req.file.endsWith('.mpd') ? 'manifest' : 'segment';
    const media = req.rendition === undefined ? source : (source?.renditions.get(req.rendition)?.media ?? null);
    if (!media || !media.segmenter.init) {
      metrics.mediaRequests.inc({ kind, result: 'not_live' });
      if (source?.segmenter.init && req.rendition !== undefined) return respond(problem(404, 'not_found', `no rendition ${req.rendition} of this stream (yet)`));
      return respond(problem(404, 'not_live', 'this stream is not live (or has not sent its first keyframe yet)'));
    }
    if (kind === 'manifest') service.viewers.polled(req.id, viewerId(req));
    answerPlayback(playbackOf(media, req.rendition === undefined), req, (answer) => {
      count(kind, answer.status);
      respond(answer);
    });
  }

  const door = new MediaFrontDoor(http.prefix, SECURITY_HEADERS, serveMedia, (err) => http.log.error({ err }, 'playback answer failed'));
  door.install(http.server);
  http.addHook('onClose', async () => door.close());

  function send(reply: FastifyReply, answer: PlaybackAnswer): FastifyReply {
    reply.code(answer.status).headers(answer.headers);
    if (answer.hold) reply.raw.once('close', answer.hold());
    return reply.send(answer.body ?? undefined);
  }

  function answer(req: MediaRequest, reply: FastifyReply): Promise<FastifyReply> {
    const q = req.query;
    const inm = req.headers['if-none-match'];
    const doorRequest: DoorRequest = { id: req.params.id, rendition: req.params.rendition, file: req.params.file, msn: q._HLS_msn, part: q._HLS_part, viewer: q.viewer, ifNoneMatch: inm, ip: () => req.ip, userAgent: req.headers['user-agent'] };
    return new Promise((resolve) => serveMedia(doorRequest, (a) => resolve(send(reply, a))));
  }

  const summary = 'Playback files: master.m3u8 (HLS multivariant: the source and the ABR renditions), index.m3u8 (LL-HLS, blocking reload), plain.m3u8 (HLS), manifest.mpd (DASH), init*.mp4, *.m4s';
  const file = { type: 'string', pattern: '^[a-z0-9.-]{1,40}$' };
  const id = { type: 'string', format: 'uuid' };
  http.get<{ Params: MediaParams; Querystring: Record<string, string | undefined> }>(
    '/:id/media/:file',
    { config: PUBLIC, schema: { tags: ['live'], summary, params: { type: 'object', properties: { id, file }, required: ['id', 'file'] } } },
    answer,
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
    answer,
  );
}
