/**
 * @module apps/studio/routes/jobs
 * Generation jobs: queue one (progress on the hub channel studio:job:<id>), list the recent ones,
 * read one, cancel one.
 */
import type { FastifyInstance } from 'fastify';
import { AirwavesError, Errors } from '../../../core/errors.js';
import { UUID_RE } from '../filters.js';
import { jobChannel } from '../jobs.js';
import { getJob, insertJob, missingScenarios, recentJobs, templateExists } from '../queries.js';
import { curator, errors, jobItem, tags, uuidParam } from './schemas.js';
import type { StudioRouteContext } from './context.js';

export function registerJobRoutes(http: FastifyInstance, { db, jobs, generatorName }: StudioRouteContext): void {
  const withChannel = <T extends { id: string }>(j: T) => ({ ...j, channel: jobChannel(j.id) });
  http.post<{ Body: { templateId: string; scenarioIds?: string[]; count: number } }>(
    '/jobs',
    {
      config: curator,
      schema: {
        tags,
        summary: 'Queue a generation job; progress is pushed on the hub channel studio:job:<id>',
        body: {
          type: 'object',
          required: ['templateId', 'count'],
          additionalProperties: false,
          properties: {
            templateId: { type: 'string', pattern: UUID_RE.source },
            scenarioIds: { type: 'array', maxItems: 100, uniqueItems: true, items: { type: 'string', pattern: UUID_RE.source } },
            count: { type: 'integer', minimum: 1, maximum: 100_000 },
          },
        },
        response: { 201: jobItem, ...errors },
      },
    },
    async (req, reply) => {
      const { templateId, scenarioIds = [], count } = req.body;
      if (!(await templateExists(db, templateId))) throw new AirwavesError(Errors.badRequest, `templateId: template ${templateId} does not exist`);
      const missing = await missingScenarios(db, scenarioIds);
      if (missing.length) throw new AirwavesError(Errors.badRequest, `scenarioIds: scenario ${missing[0]} does not exist`);
      const job = await insertJob(db, { templateId, scenarioIds, count, generator: generatorName });
      jobs.notify();
      return reply.status(201).send(withChannel(job));
    },
  );
  http.get('/jobs', { config: curator, schema: { tags, summary: 'The 50 most recent generation jobs', response: { 200: { type: 'object', properties: { items: { type: 'array', items: jobItem } } } } } }, async () => ({
    items: (await recentJobs(db, 50)).map(withChannel),
  }));
  http.get<{ Params: { id: string } }>('/jobs/:id', { config: curator, schema: { tags, summary: 'One generation job', params: uuidParam, response: { 200: jobItem, ...errors } } }, async (req) => {
    const job = await getJob(db, req.params.id);
    if (!job) throw new AirwavesError(Errors.notFound, `job ${req.params.id} does not exist`);
    return withChannel(job);
  });
  http.post<{ Params: { id: string } }>('/jobs/:id/cancel', { config: curator, schema: { tags, summary: 'Cancel a queued or running job', params: uuidParam, response: { 200: jobItem, ...errors } } }, async (req) => {
    const cancelled = await jobs.cancel(req.params.id);
    const job = await getJob(db, req.params.id);
    if (!job) throw new AirwavesError(Errors.notFound, `job ${req.params.id} does not exist`);
    if (!cancelled) throw new AirwavesError(Errors.conflict, `job ${req.params.id} is already ${job.status}`);
    return withChannel(job);
  });
}
