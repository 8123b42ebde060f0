/**
 * @module apps/radio
 * Airwaves Radio: generative ambient stations composed and synthesised live on the server, one
 * stream per station for every listener. Stations come from configuration (`radioStations`);
 * each chunk is encoded once per format that has listeners and fanned out by the hub on the
 * binary `radio` namespace, whose history is the broadcast ring new listeners start from.
 *
 * HTTP: GET /api/v1/radio/stations, GET /api/v1/radio/stations/:id (live offsets for joining
 * a little behind the live edge, whether that is safe, and a listener session token), POST
 * /api/v1/radio/stations/:id/reports (player health, with that listener token; limited per session).
 * Hub: radio:<station>:pcm, radio:<station>:opus (binary), radio-status:<station> (JSON, 1/s).
 */
import type { AirwavesApp } from '../app.js';
import type { RadioConfig } from './settings.js';
import { AirwavesError, Errors } from '../../core/errors.js';
import { TokenBucket } from '../../core/token-bucket.js';
import { randomUUID } from 'node:crypto';
import { errorResponseSchema } from '../../http/errors.js';
import { CHANNELS, CHUNK_MS, SAMPLE_RATE } from './shared/format.js';
import { CLIENT_TIERS_MS } from './shared/adaptive-buffer.js';
import { SynthEngine } from './synth/engine.js';
import { createRadioMetrics } from './metrics.js';
import { Station } from './station.js';
import { radioManifest } from './manifest.js';

/** A listener session lives as long as a long listen; the player fetches a new one on 401. */
export const LISTENER_TOKEN_TTL_SECONDS = 3600;
/** Reports one listener session may send: a burst of 4, then one every 5 s. */
const SESSION_REPORTS = { capacity: 4, refillPerSecond: 0.2 };
/** Sessions whose report buckets are remembered (oldest forgotten first). */
const MAX_TRACKED_SESSIONS = 20_000;

/** History per stream: 10 s of chunks, far more than the largest listener buffer tier (320 ms). */
export const RADIO_HISTORY_CHUNKS = 500;

const stationIdParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,31}$' } },
} as const;

const positionSchema = {
  type: 'object',
  properties: {
    channel: { type: 'string' },
    offset: { type: 'integer' },
    epoch: { type: 'string' },
    live: { type: 'boolean', description: 'the history ends at the live edge and the stream goes on right after it: replaying its newest chunks starts playback without a gap (false: start from the live edge)' },
  },
} as const;

const stationSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    title: { type: 'string' },
    mood: { type: 'string' },
    seed: { type: 'integer' },
    bpm: { type: 'integer' },
    sampleRate: { type: 'integer' },
    channels: { type: 'integer' },
    chunkMs: { type: 'integer' },
    serverTime: { type: 'number' },
    listenerTiersMs: { type: 'array', items: { type: 'integer' } },
    statusChannel: { type: 'string' },
    formats: { type: 'object', properties: { pcm: positionSchema, opus: positionSchema } },
    status: { type: 'object', additionalProperties: true },
    listenerToken: { type: 'string', description: 'listener session token for POST …/reports (Authorization: Bearer)' },
    listenerTokenExpiresIn: { type: 'integer' },
  },
} as const;

const reportSchema = {
  type: 'object',
  required: ['underruns'],
  additionalProperties: false,
  properties: {
    underruns: { type: 'integer', minimum: 0, maximum: 10_000 },
    bufferMs: { type: 'number', minimum: 0, maximum: 60_000 },
    jitterMs: { type: 'number', minimum: 0, maximum: 60_000 },
    latencyMs: { type: 'number', minimum: -60_000, maximum: 60_000 },
    tier: { type: 'integer', minimum: 0, maximum: 3 },
    format: { type: 'string', enum: ['pcm', 'opus'] },
  },
} as const;

interface ReportBody {
  underruns: number;
  bufferMs?: number;
  jitterMs?: number;
  latencyMs?: number;
  tier?: number;
  format?: 'pcm' | 'opus';
}

export const radioApp: AirwavesApp<RadioConfig> = {
  ...radioManifest,

  async register(ctx) {
    const { hub, http, config, logger } = ctx;
    const stations = new Map<string, Station>();
    const metrics = createRadioMetrics(ctx.metrics, () =>
      [...stations.values()].flatMap((s) => {
        const l = s.listeners();
        return [
          { station: s.spec.id, format: 'pcm' as const, listeners: l.pcm },
          { station: s.spec.id, format: 'opus' as const, listeners: l.opus },
        ];
      }),
    );
    const specs = config.radioStations;
    // A listener subscribing to a resting station's stream or status wakes it (the player asks
    // over HTTP first, which already woke it; this covers clients that subscribe directly).
    const wakeByChannel = new Map<string, Station>();
    const wakeOnSubscribe = { onSubscribe: ({ channel }: { channel: string }) => wakeByChannel.get(channel)?.wake() };
    hub.registerNamespace({
      name: 'radio',
      binary: true,
      subscribe: 'anonymous',
      publish: 'server',
      historySize: RADIO_HISTORY_CHUNKS,
      historyTtlSeconds: 60,
      maxMessageBytes: 16 * 1024,
      slowConsumer: 'drop-oldest',
    }, wakeOnSubscribe);
    hub.registerNamespace({ name: 'radio-status', subscribe: 'anonymous', publish: 'server', historySize: 1, historyTtlSeconds: 10 }, wakeOnSubscribe);

    if (config.radioEnabled) {
      // The synthesis worker warms up in its own thread while the other apps register (the help
      // desk and the studio open the database meanwhile); the stations go on air before the server
      // listens, so "ready" still means "on air". The catch only defers a failure to onReady.
      const starting = SynthEngine.start({ stations: specs.map(({ id, seed, mood }) => ({ id, seed, mood })) });
      starting.catch(() => undefined);
      ctx.http.addHook('onReady', async () => {
        const engine = await starting;
        for (const spec of specs) {
          const station = new Station(spec, { hub, engine, metrics, logger, restAfterMs: config.radioRestAfterMs });
          stations.set(spec.id, station);
          for (const channel of [station.channels.pcm, station.channels.opus, station.channels.status]) wakeByChannel.set(channel, station);
          station.start();
        }
        logger.info({ stations: specs.map((s) => s.id) }, 'radio stations on air');
      });
      ctx.onClose(async () => {
        for (const s of stations.values()) s.stop();
        await (await starting.catch(() => undefined))?.close();
      });
    }

    const find = (id: string): Station => {
      const s = stations.get(id);
      if (!s) {
        const known = [...stations.keys()];
        throw new AirwavesError(Errors.notFound, known.length ? `no station "${id}"; stations: ${known.join(', ')}` : `no station "${id}": the radio is disabled (AIRWAVES_RADIO_ENABLED=false)`);
      }
      return s;
    };

    const describe = async (s: Station) => {
      const position = async (format: 'pcm' | 'opus') => {
        const channel = s.channels[format];
        const h = await hub.history(channel, 0, 0);
        return { channel, offset: h.top, epoch: h.epoch, live: s.continuesLive(format) };
      };
      return {
        id: s.spec.id,
        title: s.spec.title ?? s.spec.id.charAt(0).toUpperCase() + s.spec.id.slice(1),
        mood: s.spec.mood,
        seed: s.spec.seed,
        sampleRate: SAMPLE_RATE,
        channels: CHANNELS,
        chunkMs: CHUNK_MS,
        serverTime: Date.now(),
        listenerTiersMs: [...CLIENT_TIERS_MS],
        statusChannel: s.channels.status,
        formats: { pcm: await position('pcm'), opus: await position('opus') },
        status: s.status(),
      };
    };

    const errors = { 400: errorResponseSchema, 401: errorResponseSchema, 403: errorResponseSchema, 404: errorResponseSchema, 429: errorResponseSchema };
    const open = ctx.auth.rule.public;

    http.get(
      '/stations',
      { config: open, schema: { tags: ['radio'], summary: 'List stations', response: { 200: { type: 'object', properties: { stations: { type: 'array', items: stationSchema } } } } } },
      async () => ({ stations: await Promise.all([...stations.values()].map(describe)) }),
    );

    http.get<{ Params: { id: string } }>(
      '/stations/:id',
      {
        // Public, but each call opens a listener session: limited per IP like a login.
        config: ctx.auth.loginRoute(),
        schema: {
          tags: ['radio'],
          summary: 'One station, with the live offset and epoch of each stream (subscribe with since = offset − buffer chunks) and a listener session token',
          params: stationIdParams,
          response: { 200: stationSchema, ...errors },
        },
      },
      async (req) => {
        const station = find(req.params.id);
        // The player asks for the station just before it subscribes: back on air ahead of it.
        station.wake();
        const listenerToken = await ctx.auth.mint({ sub: `listener-${randomUUID()}`, roles: ['listener'] }, LISTENER_TOKEN_TTL_SECONDS);
        return { ...(await describe(station)), listenerToken, listenerTokenExpiresIn: LISTENER_TOKEN_TTL_SECONDS };
      },
    );

    // One bucket per listener session: a client that floods only exhausts its own reports.
    const sessionBuckets = new Map<string, TokenBucket>();
    const bucketOf = (session: string): TokenBucket => {
      let bucket = sessionBuckets.get(session);
      if (!bucket) {
        if (sessionBuckets.size >= MAX_TRACKED_SESSIONS) sessionBuckets.delete(sessionBuckets.keys().next().value!);
        sessionBuckets.set(session, (bucket = new TokenBucket(SESSION_REPORTS)));
      }
      return bucket;
    };
    http.post<{ Params: { id: string }; Body: ReportBody }>(
      '/stations/:id/reports',
      {
        config: ctx.auth.rule.roles('listener'),
        schema: {
          tags: ['radio'],
          summary: "A player's health report; underruns are added to radio_underruns_total{side=\"client\"}",
          params: stationIdParams,
          body: reportSchema,
          response: { 202: { type: 'object', properties: { accepted: { type: 'boolean' } } }, ...errors },
        },
      },
      async (req, reply) => {
        const station = find(req.params.id);
        const session = req.identity!.user!;
        if (!bucketOf(session).take(1)) throw new AirwavesError(Errors.rateLimited, 'too many reports from this listener session; at most one every 5 s');
        metrics.clientReports.inc({ station: station.spec.id });
        station.reportClientUnderruns(req.body.underruns, session);
        return reply.status(202).send({ accepted: true });
      },
    );

  },
};
