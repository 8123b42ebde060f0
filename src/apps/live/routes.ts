/**
 * @module apps/live/routes
 * The live REST API under /api/v1/streams: streams (list, get, create, end), their metrics
 * history, stream keys (create, list, rotate, revoke) and the ingest address. Every route has a
 * JSON schema (it shows in /openapi.json) and declares who may call it (apps/live/access).
 */
import type { FastifyInstance } from 'fastify';
import { AirwavesError, Errors } from '../../core/errors.js';
import { errorResponseSchema } from '../../http/errors.js';
import { PUBLIC, STREAMER, isAdmin, ownerOf, requireOwner } from './access.js';
import { STREAM_STATUSES, type StreamStatus } from './migrations.js';
import type { LiveService } from './service.js';

const errors = { 400: errorResponseSchema, 401: errorResponseSchema, 403: errorResponseSchema, 404: errorResponseSchema, 409: errorResponseSchema };
const nullableString = { type: ['string', 'null'] } as const;
const uuid = { type: 'string', format: 'uuid' } as const;

export const streamSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    keyId: { type: 'string' },
    owner: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'string', enum: [...STREAM_STATUSES] },
    ingest: { type: 'string', enum: ['embedded', 'nginx'] },
    createdAt: { type: 'string' },
    startedAt: nullableString,
    endedAt: nullableString,
    durationMs: { type: ['integer', 'null'] },
    failureReason: nullableString,
    viewers: { type: 'integer' },
    peakViewers: { type: 'integer' },
    codecs: { type: 'string' },
    width: { type: 'integer' },
    height: { type: 'integer' },
    playback: { type: 'object', properties: { llhls: { type: 'string' }, hls: { type: 'string' }, dash: { type: 'string' }, master: { type: 'string' } }, required: ['llhls', 'hls', 'dash', 'master'] },
  },
  required: ['id', 'keyId', 'owner', 'title', 'status', 'ingest', 'createdAt', 'startedAt', 'endedAt', 'durationMs', 'failureReason', 'viewers', 'peakViewers', 'codecs', 'width', 'height', 'playback'],
} as const;

const keySchema = {
  type: 'object',
  properties: { id: { type: 'string' }, owner: { type: 'string' }, label: { type: 'string' }, prefix: { type: 'string' }, createdAt: { type: 'string' }, rotatedAt: nullableString, revokedAt: nullableString },
  required: ['id', 'owner', 'label', 'prefix', 'createdAt', 'rotatedAt', 'revokedAt'],
} as const;

const keyWithSecret = {
  type: 'object',
  properties: { ...keySchema.properties, key: { type: 'string', description: 'the stream key; shown only in this response' }, ingestUrl: { type: 'string' } },
  required: [...keySchema.required, 'key', 'ingestUrl'],
} as const;

const sampleSchema = {
  type: 'object',
  properties: { at: { type: 'string' }, viewers: { type: 'integer' }, bitrateKbps: { type: 'integer' }, fps: { type: 'number' }, droppedFrames: { type: 'integer' }, segmentMs: { type: ['integer', 'null'] } },
  required: ['at', 'viewers', 'bitrateKbps', 'fps', 'droppedFrames', 'segmentMs'],
} as const;

const idParams = { type: 'object', properties: { id: uuid }, required: ['id'] } as const;
const keyParams = { type: 'object', properties: { keyId: uuid }, required: ['keyId'] } as const;

export interface RouteOptions {
  service: LiveService;
  /** rtmp://host:port/app as streamers should publish (without the key). */
  ingestUrl(): string;
}

export function registerStreamRoutes(http: FastifyInstance, { service, ingestUrl }: RouteOptions): void {
  const store = service.store;
  const tags = ['live'];
  const findStream = async (id: string) => {
    const row = await store.getStream(id);
    if (!row) throw new AirwavesError(Errors.notFound, `no stream ${id}`);
    return row;
  };
  const findKey = async (id: string) => {
    const row = await store.getKey(id);
    if (!row) throw new AirwavesError(Errors.notFound, `no stream key ${id}`);
    return row;
  };

  http.get<{ Querystring: { status?: StreamStatus | 'ALL'; owner?: string; q?: string; limit?: number } }>(
    '',
    {
      config: PUBLIC,
      schema: {
        tags,
        summary: 'List streams: the ACTIVE ones by default; filter by status (or ALL), owner and title',
        querystring: { type: 'object', additionalProperties: false, properties: { status: { type: 'string', enum: [...STREAM_STATUSES, 'ALL'] }, owner: { type: 'string', maxLength: 120 }, q: { type: 'string', maxLength: 120 }, limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 } } },
        response: { 200: { type: 'object', properties: { streams: { type: 'array', items: streamSchema } }, required: ['streams'] }, ...errors },
      },
    },
    async (req) => {
      const status = req.query.status ?? 'ACTIVE';
      const rows = await store.listStreams({ status: status === 'ALL' ? undefined : status, owner: req.query.owner, q: req.query.q, limit: req.query.limit ?? 50 });
      return { streams: rows.map((r) => service.view(r)) };
    },
  );

  http.get(
    '/ingest',
    { config: PUBLIC, schema: { tags, summary: 'Where streamers publish: rtmp://host:port/app/<stream key>', response: { 200: { type: 'object', properties: { rtmpUrl: { type: 'string' } }, required: ['rtmpUrl'] } } } },
    async () => ({ rtmpUrl: ingestUrl() }),
  );

  http.get<{ Params: { id: string } }>(
    '/:id',
    { config: PUBLIC, schema: { tags, summary: 'One stream: status, lifecycle times, viewers now and at peak, playback URLs', params: idParams, response: { 200: streamSchema, ...errors } } },
    async (req) => service.view(await findStream(req.params.id)),
  );

  http.get<{ Params: { id: string }; Querystring: { from?: string; to?: string; limit?: number } }>(
    '/:id/metrics',
    {
      config: STREAMER,
      schema: {
        tags,
        summary: "A stream's time series (viewers, ingest bitrate, frame rate, dropped frames, segment time), oldest first",
        params: idParams,
        querystring: { type: 'object', additionalProperties: false, properties: { from: { type: 'string', format: 'date-time' }, to: { type: 'string', format: 'date-time' }, limit: { type: 'integer', minimum: 1, maximum: 10_000, default: 2000 } } },
        response: { 200: { type: 'object', properties: { stream: streamSchema, samples: { type: 'array', items: sampleSchema } }, required: ['stream', 'samples'] }, ...errors },
      },
    },
    async (req) => {
      const row = await findStream(req.params.id);
      requireOwner(req, row.owner);
      const { from, to, limit } = req.query;
      if (from && to && Date.parse(from) > Date.parse(to)) throw new AirwavesError(Errors.badRequest, 'from is after to');
      return { stream: service.view(row), samples: await service.history(row.id, from ? new Date(from) : null, to ? new Date(to) : null, limit ?? 2000) };
    },
  );

  http.post<{ Body: { title: string; keyId: string } }>(
    '',
    {
      config: STREAMER,
      schema: {
        tags,
        summary: 'Schedule a stream (PENDING); it goes ACTIVE when its key publishes',
        body: { type: 'object', additionalProperties: false, required: ['title', 'keyId'], properties: { title: { type: 'string', minLength: 1, maxLength: 200 }, keyId: uuid } },
        response: { 201: streamSchema, ...errors },
      },
    },
    async (req, reply) => {
      const key = await findKey(req.body.keyId);
      requireOwner(req, key.owner);
      if (key.revoked_at) throw new AirwavesError(Errors.conflict, 'this key is revoked');
      const row = await store.createStream(key.id, key.owner, req.body.title);
      return reply.status(201).send(service.view(row));
    },
  );

  http.delete<{ Params: { id: string } }>(
    '/:id',
    { config: STREAMER, schema: { tags, summary: 'End a stream: ACTIVE or PENDING → COMPLETED (the publisher is disconnected)', params: idParams, response: { 200: streamSchema, ...errors } } },
    async (req) => {
      const row = await findStream(req.params.id);
      requireOwner(req, row.owner);
      if (row.status === 'COMPLETED' || row.status === 'FAILED') throw new AirwavesError(Errors.conflict, `the stream already ended (${row.status})`);
      const ended = service.isLive(row.id) ? await service.end(row.id, 'COMPLETED', 'ended_by_api') : await store.endStream(row.id, 'COMPLETED', 0);
      return service.view(ended ?? (await findStream(row.id)));
    },
  );

  http.get(
    '/keys',
    { config: STREAMER, schema: { tags, summary: "The caller's stream keys (the admin sees every key); secrets are never shown again", response: { 200: { type: 'object', properties: { keys: { type: 'array', items: keySchema } }, required: ['keys'] }, ...errors } } },
    async (req) => ({ keys: await store.listKeys(isAdmin(req) ? null : ownerOf(req)) }),
  );

  http.post<{ Body: { label?: string; owner?: string } }>(
    '/keys',
    {
      config: STREAMER,
      schema: {
        tags,
        summary: 'Create a stream key; the key is in this response only (stored as its SHA-256)',
        body: { type: 'object', additionalProperties: false, properties: { label: { type: 'string', maxLength: 120 }, owner: { type: 'string', minLength: 1, maxLength: 120, description: 'admin only: create the key for this streamer' } } },
        response: { 201: keyWithSecret, ...errors },
      },
    },
    async (req, reply) => {
      if (req.body?.owner && !isAdmin(req)) throw new AirwavesError(Errors.forbidden, 'only the admin creates keys for someone else');
      const { view, key } = await store.createKey(ownerOf(req, req.body?.owner), req.body?.label ?? '');
      return reply.status(201).send({ ...view, key, ingestUrl: ingestUrl() });
    },
  );

  http.post<{ Params: { keyId: string } }>(
    '/keys/:keyId/rotate',
    { config: STREAMER, schema: { tags, summary: 'Replace a key\'s secret (the old one stops working now); the new key is in this response only', params: keyParams, response: { 200: keyWithSecret, ...errors } } },
    async (req) => {
      requireOwner(req, (await findKey(req.params.keyId)).owner);
      const rotated = await store.rotateKey(req.params.keyId);
      if (!rotated) throw new AirwavesError(Errors.conflict, 'this key is revoked');
      return { ...rotated.view, key: rotated.key, ingestUrl: ingestUrl() };
    },
  );

  http.delete<{ Params: { keyId: string } }>(
    '/keys/:keyId',
    { config: STREAMER, schema: { tags, summary: 'Revoke a key: it can never publish again, and its live stream ends', params: keyParams, response: { 200: keySchema, ...errors } } },
    async (req) => {
      requireOwner(req, (await findKey(req.params.keyId)).owner);
      const revoked = await store.revokeKey(req.params.keyId);
      if (!revoked) throw new AirwavesError(Errors.conflict, 'this key is already revoked');
      const live = service.liveStreamOfKey(req.params.keyId);
      if (live) await service.end(live, 'COMPLETED', 'key_revoked');
      return revoked;
    },
  );
}
