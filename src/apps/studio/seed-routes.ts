/**
 * @module apps/studio/seed-routes
 * Seeding through the running server. An embedded database belongs to one process (db/data-dir-lock),
 * so `npm run studio:seed` cannot write the directory while the server holds it; it asks the server
 * instead: `POST /api/v1/studio/admin/seed` starts one seed run inside this process (admin API key),
 * `GET /api/v1/studio/admin/seed/:id` reports its progress for the script's progress bar. One run
 * at a time; a run stops between batches when the server shuts down (what was written stays).
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { AirwavesError, Errors } from '../../core/errors.js';
import { errorResponseSchema } from '../../http/errors.js';
import { rule } from '../../auth/index.js';
import type { Logger } from '../../core/logger.js';
import { seedStudio, seedStudioBulk } from './seed.js';
import type { StudioDB } from './types.js';

/** Under the studio's mount (`/api/v1/studio`, apps/app `apiPrefix`). */
export const SEED_PATH = '/admin/seed';
export const MAX_SEED_COUNT = 10_000_000;

export interface SeedRequest {
  count: number;
  seed?: number;
  withTurns?: boolean;
  batchSize?: number;
  /** The database copies and varies generated rows (seed.ts seedStudioBulk). */
  fast?: boolean;
}

export interface SeedRun {
  id: string;
  status: 'running' | 'completed' | 'failed' | 'stopped';
  total: number;
  done: number;
  inserted: number;
  error: string | null;
  startedAt: string;
  ms: number;
}

class SeedStopped extends Error {}

const runSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    status: { type: 'string', enum: ['running', 'completed', 'failed', 'stopped'] },
    total: { type: 'integer' },
    done: { type: 'integer' },
    inserted: { type: 'integer' },
    error: { type: ['string', 'null'] },
    startedAt: { type: 'string' },
    ms: { type: 'integer' },
  },
} as const;

export function registerSeedRoutes(http: FastifyInstance, deps: { db: Kysely<StudioDB>; log: Logger; onClose(fn: () => Promise<void>): void }): void {
  const { db, log } = deps;
  const runs = new Map<string, SeedRun>();
  let active: { run: SeedRun; finished: Promise<void> } | null = null;
  let stopping = false;
  const errors = { 400: errorResponseSchema, 401: errorResponseSchema, 403: errorResponseSchema, 404: errorResponseSchema, 409: errorResponseSchema };

  http.post<{ Body: SeedRequest }>(
    SEED_PATH,
    {
      // The admin API key only, checked by the auth hook before the body is read or validated.
      config: rule.apiKey,
      schema: {
        tags: ['studio'],
        summary: 'Seed sample conversations inside this server (what npm run studio:seed uses while the server runs)',
        security: [{ apiKey: [] }],
        body: {
          type: 'object',
          required: ['count'],
          additionalProperties: false,
          properties: {
            count: { type: 'integer', minimum: 1, maximum: MAX_SEED_COUNT },
            seed: { type: 'integer' },
            withTurns: { type: 'boolean', default: true },
            batchSize: { type: 'integer', minimum: 1, maximum: 20_000 },
            fast: { type: 'boolean', default: false },
          },
        },
        response: { 202: runSchema, ...errors },
      },
    },
    async (req, reply) => {
      if (stopping) throw new AirwavesError(Errors.conflict, 'the server is shutting down');
      if (active) throw new AirwavesError(Errors.conflict, `seed run ${active.run.id} is still running (${active.run.done}/${active.run.total}); wait for it`);
      const body = req.body;
      const run: SeedRun = { id: randomUUID(), status: 'running', total: body.count, done: 0, inserted: 0, error: null, startedAt: new Date().toISOString(), ms: 0 };
      const started = Date.now();
      const onProgress = (done: number) => {
        if (stopping) throw new SeedStopped('the server shut down during the seed run');
        run.done = done;
        run.ms = Date.now() - started;
      };
      const options = { count: body.count, seed: body.seed ?? 42, withTurns: body.withTurns !== false, onProgress };
      const work = body.fast ? seedStudioBulk(db, options) : seedStudio(db, { ...options, batchSize: body.batchSize ?? 2000 });
      runs.set(run.id, run);
      if (runs.size > 20) runs.delete(runs.keys().next().value!);
      const finished = work.then(
        (result) => {
          Object.assign(run, { status: 'completed', done: run.total, inserted: result.inserted, ms: Date.now() - started });
          log.info({ run: run.id, inserted: result.inserted, ms: run.ms }, 'studio seed run completed');
        },
        (err: Error) => {
          Object.assign(run, { status: err instanceof SeedStopped ? 'stopped' : 'failed', error: err.message, ms: Date.now() - started });
          log.warn({ err, run: run.id }, 'studio seed run ended early');
        },
      );
      active = { run, finished: finished.finally(() => (active = null)) };
      return reply.status(202).send(run);
    },
  );

  http.get<{ Params: { id: string } }>(
    `${SEED_PATH}/:id`,
    {
      config: rule.apiKey,
      schema: {
        tags: ['studio'],
        summary: 'Progress of a seed run',
        security: [{ apiKey: [] }],
        params: { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 64 } } },
        response: { 200: runSchema, ...errors },
      },
    },
    async (req) => {
      const run = runs.get(req.params.id);
      if (!run) throw new AirwavesError(Errors.notFound, `seed run "${req.params.id}" is unknown to this server (runs are kept in memory until it restarts)`);
      return run;
    },
  );

  deps.onClose(async () => {
    stopping = true;
    await active?.finished;
  });
}
