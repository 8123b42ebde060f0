/**
 * @module apps/studio/routes
 * The studio HTTP API under /api/v1/studio. Every route has a JSON schema (so it is in
 * /openapi.json and bad shapes are refused before any SQL); parameters a schema cannot judge
 * (cursors, status lists, JSON filters) are checked in filters.ts. All refusals are
 * 400 {error:{code:'bad_request', message}} naming the parameter.
 */
import type { FastifyInstance } from 'fastify';
import { sql, type Kysely } from 'kysely';
import { AirwavesError, Errors } from '../../core/errors.js';
import { errorResponseSchema } from '../../http/errors.js';
import { rule } from '../../auth/rules.js';
import type { AirwavesConfig } from '../../core/config.js';
import { isUniqueViolation, type Database } from '../../db/database.js';
import { SharedReads, TtlCache } from './cache.js';
import { EXPORT_FORMATS, exportStream, type ExportFormat } from './export.js';
import { LIST_FIELDS, SORT_COLUMNS, UUID_RE, parseFields, parseFilters, parseSort, type FilterQuery, type ListQuery } from './filters.js';
import { jobChannel, type JobRunner } from './jobs.js';
import { CONVERSATION_STATUSES, TIERS } from './vocabulary.js';
import { kindOf, type StudioMetrics } from './observability.js';
import { bulkChangeStatus, changeStatus, countConversations, getConversationJson, listPageJson, studioStats } from './queries.js';
import type { ConversationStatus, StudioDB, TemplateVariable, Tier } from './types.js';

export const PREFIX = '/api/v1/studio';
const CACHE_TTL_MS = 5 * 60 * 1000;
/** Bodies already serialised as JSON text are sent with this type and skip the serialiser. */
const JSON_TYPE = 'application/json; charset=utf-8';

const errors = { 400: errorResponseSchema, 401: errorResponseSchema, 403: errorResponseSchema, 404: errorResponseSchema, 409: errorResponseSchema, 429: errorResponseSchema };
/** Every studio route, reads included: the data is the product (a curator, or the admin). */
const curator = rule.roles('curator');
/** Exports are download links: the token may come as ?access_token= (a link cannot send a header). */
const curatorDownload = { auth: { roles: ['curator'] as const, queryToken: true } };
const tags = ['studio'];
const uuidParam = { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: UUID_RE.source } } } as const;

const filterProps = {
  status: { type: 'string', maxLength: 200, description: `comma-separated: ${CONVERSATION_STATUSES.join(', ')}` },
  tier: { type: 'string', maxLength: 100, description: `comma-separated: ${TIERS.join(', ')}` },
  category: { type: 'string', maxLength: 1000, description: 'comma-separated; rows with any of them' },
  quality_min: { type: 'number', minimum: 0, maximum: 10 },
  quality_max: { type: 'number', minimum: 0, maximum: 10 },
  created_from: { type: 'string', maxLength: 40, description: 'ISO 8601, inclusive' },
  created_to: { type: 'string', maxLength: 40, description: 'ISO 8601, exclusive' },
  params: { type: 'string', maxLength: 2000, description: 'JSON object: rows whose parameters contain it' },
  q: { type: 'string', maxLength: 200, description: 'full-text search (websearch syntax); sort=relevance (the default) ranks the newest 1,000 matches' },
  template_id: { type: 'string', maxLength: 40 },
  scenario_id: { type: 'string', maxLength: 40 },
  job_id: { type: 'string', maxLength: 40 },
  reviewed_by: { type: 'string', minLength: 1, maxLength: 100, description: 'rows whose review history has an entry by this reviewer' },
} as const;

const conversationItem = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    title: { type: 'string' },
    persona: { type: 'string' },
    emotion: { type: 'string' },
    tier: { type: 'string' },
    status: { type: 'string' },
    category: { type: 'array', items: { type: 'string' } },
    quality_score: { type: 'number' },
    parameters: { type: 'object', additionalProperties: true },
    review_history: { type: 'array', items: { type: 'object', additionalProperties: true } },
    template_id: { type: ['string', 'null'] },
    scenario_id: { type: ['string', 'null'] },
    job_id: { type: ['string', 'null'] },
    template_name: { type: ['string', 'null'] },
    scenario_name: { type: ['string', 'null'] },
    turn_count: { type: 'integer' },
    prompt_tokens: { type: 'integer' },
    completion_tokens: { type: 'integer' },
    total_tokens: { type: 'integer' },
    created_at: { type: 'string', format: 'date-time' },
    updated_at: { type: 'string', format: 'date-time' },
  },
} as const;

const statusBody = {
  type: 'object',
  required: ['status'],
  additionalProperties: false,
  properties: {
    status: { type: 'string', enum: [...CONVERSATION_STATUSES] },
    expected: { type: 'string', enum: [...CONVERSATION_STATUSES], description: 'refuse with 409 unless the conversation is in this status' },
    note: { type: 'string', maxLength: 2000 },
    reviewer: { type: 'string', maxLength: 100 },
  },
} as const;

const templateBody = {
  type: 'object',
  required: ['name', 'system_prompt', 'opening_line'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 120 },
    description: { type: 'string', maxLength: 2000 },
    tier: { type: 'string', enum: [...TIERS] },
    system_prompt: { type: 'string', minLength: 1, maxLength: 8000 },
    opening_line: { type: 'string', minLength: 1, maxLength: 4000 },
    variables: {
      type: 'array',
      maxItems: 50,
      items: {
        type: 'object',
        required: ['name', 'values'],
        additionalProperties: false,
        properties: { name: { type: 'string', pattern: '^[A-Za-z_]{1,40}$' }, values: { type: 'array', maxItems: 200, items: { type: 'string', maxLength: 500 } } },
      },
    },
  },
} as const;
const templateItem = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    ...templateBody.properties,
    created_at: { type: 'string', format: 'date-time' },
    updated_at: { type: 'string', format: 'date-time' },
  },
} as const;

const scenarioBody = {
  type: 'object',
  required: ['name', 'persona', 'emotion'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 120 },
    description: { type: 'string', maxLength: 2000 },
    persona: { type: 'string', minLength: 1, maxLength: 200 },
    emotion: { type: 'string', minLength: 1, maxLength: 100 },
    category: { type: 'array', maxItems: 20, items: { type: 'string', minLength: 1, maxLength: 64 } },
    context: { type: 'string', maxLength: 4000 },
    parameters: { type: 'object', additionalProperties: true },
  },
} as const;
const scenarioItem = {
  type: 'object',
  properties: { id: { type: 'string' }, ...scenarioBody.properties, created_at: { type: 'string', format: 'date-time' }, updated_at: { type: 'string', format: 'date-time' } },
} as const;

const jobItem = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    template_id: { type: 'string' },
    scenario_ids: { type: 'array', items: { type: 'string' } },
    requested: { type: 'integer' },
    completed: { type: 'integer' },
    failed: { type: 'integer' },
    status: { type: 'string' },
    generator: { type: 'string' },
    error: { type: ['string', 'null'] },
    channel: { type: 'string' },
    created_at: { type: 'string', format: 'date-time' },
    started_at: { type: ['string', 'null'], format: 'date-time' },
    finished_at: { type: ['string', 'null'], format: 'date-time' },
  },
} as const;

interface TemplateInput {
  name: string;
  description?: string;
  tier?: Tier;
  system_prompt: string;
  opening_line: string;
  variables?: TemplateVariable[];
}
interface ScenarioInput {
  name: string;
  description?: string;
  persona: string;
  emotion: string;
  category?: string[];
  context?: string;
  parameters?: Record<string, unknown>;
}

/** Unique-name violations are the caller's mistake, not a server fault. */
function conflictOnDuplicate(err: unknown, what: string): never {
  if (isUniqueViolation(err)) throw new AirwavesError(Errors.conflict, `a ${what} with that name already exists`);
  throw err;
}

export interface StudioRouteDeps {
  database: Database<StudioDB>;
  config: AirwavesConfig;
  metrics: StudioMetrics;
  jobs: JobRunner;
  generatorName: string;
}

export function registerStudioRoutes(http: FastifyInstance, deps: StudioRouteDeps): void {
  const { database, metrics, jobs } = deps;
  const db: Kysely<StudioDB> = database.db;
  const templatesCache = new TtlCache<unknown>('templates', CACHE_TTL_MS, metrics.cache);
  const scenariosCache = new TtlCache<unknown>('scenarios', CACHE_TTL_MS, metrics.cache);
  // Stats are aggregates over the whole table: a few seconds stale is fine, a scan per page view is not.
  const statsCache = new TtlCache<unknown>('stats', 5_000, metrics.cache);
  // Identical conversation reads in flight at the same time share one query; any statement that is
  // not a plain read (insert, update, delete, begin/commit) detaches them (see SharedReads).
  const shared = new SharedReads('shared_reads', metrics.cache);
  const stopWatchingWrites = database.onQuery((_ms, text) => {
    const kind = kindOf(text);
    if (kind !== 'select' && kind !== 'explain') shared.invalidate();
  });
  http.addHook('onClose', async () => void stopWatchingWrites());

  // ------------------------------------------------------------------ conversations
  http.get<{ Querystring: ListQuery }>(
    `${PREFIX}/conversations`,
    {
      config: curator,
      schema: {
        tags,
        summary: 'List conversations: filters, sort, keyset pagination (pass nextCursor back as cursor)',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            ...filterProps,
            sort: { type: 'string', enum: [...SORT_COLUMNS] },
            order: { type: 'string', enum: ['asc', 'desc'] },
            cursor: { type: 'string', maxLength: 1000 },
            limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
            fields: { type: 'string', maxLength: 1000, description: `comma-separated: ${LIST_FIELDS.join(', ')}` },
          },
        },
        response: { 200: { type: 'object', properties: { items: { type: 'array', items: conversationItem }, nextCursor: { type: ['string', 'null'] } } }, ...errors },
      },
    },
    async (req, reply) => {
      const filters = parseFilters(req.query);
      const sort = parseSort(req.query, filters);
      const fields = parseFields(req.query.fields);
      // The body is JSON text written by the database: sent as is (the schema above documents it).
      const body = await shared.run(req.url, () => listPageJson(db, { filters, sort, fields, cursor: req.query.cursor, limit: req.query.limit ?? 50 }));
      return reply.type(JSON_TYPE).send(body);
    },
  );

  http.get<{ Querystring: FilterQuery }>(
    `${PREFIX}/conversations/count`,
    {
      config: curator,
      schema: {
        tags,
        summary: 'Count conversations matching the filters (exact up to 10,000, a planner estimate beyond; an estimate of 20,000 or more is answered without counting)',
        querystring: { type: 'object', additionalProperties: false, properties: filterProps },
        response: { 200: { type: 'object', properties: { count: { type: 'integer' }, exact: { type: 'boolean' } } }, ...errors },
      },
    },
    async (req) => {
      const filters = parseFilters(req.query);
      return shared.run(req.url, () => countConversations(db, filters));
    },
  );

  http.get(
    `${PREFIX}/stats`,
    {
      config: curator,
      schema: {
        tags,
        summary: 'Totals by status and tier, average quality (cached 5 s)',
        response: {
          200: {
            type: 'object',
            properties: {
              total: { type: 'integer' },
              byStatus: { type: 'object', additionalProperties: { type: 'integer' } },
              byTier: { type: 'object', additionalProperties: { type: 'integer' } },
              avgQuality: { type: 'number' },
            },
          },
        },
      },
    },
    async () => statsCache.get('all', () => studioStats(db)),
  );

  http.get<{ Params: { id: string } }>(
    `${PREFIX}/conversations/:id`,
    {
      config: curator,
      schema: {
        tags,
        summary: 'One conversation with its turns',
        params: uuidParam,
        response: {
          200: {
            type: 'object',
            properties: {
              ...conversationItem.properties,
              turns: { type: 'array', items: { type: 'object', properties: { turn: { type: 'integer' }, role: { type: 'string' }, content: { type: 'string' }, tokens: { type: 'integer' } } } },
            },
          },
          ...errors,
        },
      },
    },
    async (req, reply) => {
      const body = await shared.run(req.url, () => getConversationJson(db, req.params.id));
      if (!body) throw new AirwavesError(Errors.notFound, `conversation ${req.params.id} does not exist`);
      return reply.type(JSON_TYPE).send(body);
    },
  );

  http.patch<{ Params: { id: string }; Body: { status: ConversationStatus; expected?: ConversationStatus; note?: string; reviewer?: string } }>(
    `${PREFIX}/conversations/:id`,
    {
      config: curator,
      schema: {
        tags,
        summary: 'Change one conversation\'s status (appends to its review history)',
        params: uuidParam,
        body: statusBody,
        response: { 200: { type: 'object', properties: { id: { type: 'string' }, status: { type: 'string' }, updated_at: { type: 'string', format: 'date-time' }, review_history: conversationItem.properties.review_history } }, ...errors },
      },
    },
    async (req) => {
      const row = await changeStatus(db, req.params.id, req.body);
      statsCache.invalidate();
      return row;
    },
  );

  http.post<{ Body: { ids: string[]; status: ConversationStatus; note?: string; reviewer?: string } }>(
    `${PREFIX}/conversations/bulk`,
    {
      config: curator,
      schema: {
        tags,
        summary: 'Set the status of many conversations at once (each history records its own previous status)',
        body: {
          type: 'object',
          required: ['ids', 'status'],
          additionalProperties: false,
          properties: {
            ids: { type: 'array', minItems: 1, maxItems: 5000, uniqueItems: true, items: { type: 'string', pattern: UUID_RE.source } },
            status: statusBody.properties.status,
            note: statusBody.properties.note,
            reviewer: statusBody.properties.reviewer,
          },
        },
        response: { 200: { type: 'object', properties: { updated: { type: 'integer' }, ids: { type: 'array', items: { type: 'string' } } } }, ...errors },
      },
    },
    async (req) => {
      const result = await bulkChangeStatus(db, req.body.ids, req.body);
      statsCache.invalidate();
      return result;
    },
  );

  // ------------------------------------------------------------------ templates and scenarios
  http.get(`${PREFIX}/templates`, { config: curator, schema: { tags, summary: 'All templates (cached 5 min, invalidated on write)', response: { 200: { type: 'object', properties: { items: { type: 'array', items: templateItem } } } } } }, async () =>
    templatesCache.get('all', async () => ({ items: await db.selectFrom('studio_templates').selectAll().orderBy('name').execute() })),
  );
  http.post<{ Body: TemplateInput }>(
    `${PREFIX}/templates`,
    { config: curator, schema: { tags, summary: 'Create a template', body: templateBody, response: { 201: templateItem, ...errors } } },
    async (req, reply) => {
      const b = req.body;
      const row = await db
        .insertInto('studio_templates')
        .values({ ...b, variables: JSON.stringify(b.variables ?? []) })
        .returningAll()
        .executeTakeFirstOrThrow()
        .catch((err) => conflictOnDuplicate(err, 'template'));
      templatesCache.invalidate();
      return reply.status(201).send(row);
    },
  );
  http.put<{ Params: { id: string }; Body: TemplateInput }>(
    `${PREFIX}/templates/:id`,
    { config: curator, schema: { tags, summary: 'Replace a template', params: uuidParam, body: templateBody, response: { 200: templateItem, ...errors } } },
    async (req) => {
      const b = req.body;
      const row = await db
        .updateTable('studio_templates')
        .set({ ...b, variables: JSON.stringify(b.variables ?? []), updated_at: sql<Date>`now()` })
        .where('id', '=', req.params.id)
        .returningAll()
        .executeTakeFirst()
        .catch((err) => conflictOnDuplicate(err, 'template'));
      if (!row) throw new AirwavesError(Errors.notFound, `template ${req.params.id} does not exist`);
      templatesCache.invalidate();
      return row;
    },
  );
  http.delete<{ Params: { id: string } }>(
    `${PREFIX}/templates/:id`,
    { config: curator, schema: { tags, summary: 'Delete a template (its conversations keep their data)', params: uuidParam, response: { 204: { type: 'null' }, ...errors } } },
    async (req, reply) => {
      const inUse = await db.selectFrom('studio_generation_jobs').select('id').where('template_id', '=', req.params.id).where('status', 'in', ['queued', 'running']).executeTakeFirst();
      if (inUse) throw new AirwavesError(Errors.conflict, `template is used by running job ${inUse.id}`);
      const res = await db.deleteFrom('studio_templates').where('id', '=', req.params.id).executeTakeFirst();
      if (!Number(res.numDeletedRows)) throw new AirwavesError(Errors.notFound, `template ${req.params.id} does not exist`);
      templatesCache.invalidate();
      return reply.status(204).send();
    },
  );

  http.get(`${PREFIX}/scenarios`, { config: curator, schema: { tags, summary: 'All scenarios (cached 5 min, invalidated on write)', response: { 200: { type: 'object', properties: { items: { type: 'array', items: scenarioItem } } } } } }, async () =>
    scenariosCache.get('all', async () => ({ items: await db.selectFrom('studio_scenarios').selectAll().orderBy('name').execute() })),
  );
  http.post<{ Body: ScenarioInput }>(
    `${PREFIX}/scenarios`,
    { config: curator, schema: { tags, summary: 'Create a scenario', body: scenarioBody, response: { 201: scenarioItem, ...errors } } },
    async (req, reply) => {
      const b = req.body;
      const row = await db
        .insertInto('studio_scenarios')
        .values({ ...b, parameters: JSON.stringify(b.parameters ?? {}) })
        .returningAll()
        .executeTakeFirstOrThrow()
        .catch((err) => conflictOnDuplicate(err, 'scenario'));
      scenariosCache.invalidate();
      return reply.status(201).send(row);
    },
  );
  http.put<{ Params: { id: string }; Body: ScenarioInput }>(
    `${PREFIX}/scenarios/:id`,
    { config: curator, schema: { tags, summary: 'Replace a scenario', params: uuidParam, body: scenarioBody, response: { 200: scenarioItem, ...errors } } },
    async (req) => {
      const b = req.body;
      const row = await db
        .updateTable('studio_scenarios')
        .set({ ...b, category: b.category ?? [], parameters: JSON.stringify(b.parameters ?? {}), updated_at: sql<Date>`now()` })
        .where('id', '=', req.params.id)
        .returningAll()
        .executeTakeFirst()
        .catch((err) => conflictOnDuplicate(err, 'scenario'));
      if (!row) throw new AirwavesError(Errors.notFound, `scenario ${req.params.id} does not exist`);
      scenariosCache.invalidate();
      return row;
    },
  );
  http.delete<{ Params: { id: string } }>(
    `${PREFIX}/scenarios/:id`,
    { config: curator, schema: { tags, summary: 'Delete a scenario', params: uuidParam, response: { 204: { type: 'null' }, ...errors } } },
    async (req, reply) => {
      const res = await db.deleteFrom('studio_scenarios').where('id', '=', req.params.id).executeTakeFirst();
      if (!Number(res.numDeletedRows)) throw new AirwavesError(Errors.notFound, `scenario ${req.params.id} does not exist`);
      scenariosCache.invalidate();
      return reply.status(204).send();
    },
  );

  // ------------------------------------------------------------------ generation jobs
  const withChannel = <T extends { id: string }>(j: T) => ({ ...j, channel: jobChannel(j.id) });
  http.post<{ Body: { templateId: string; scenarioIds?: string[]; count: number } }>(
    `${PREFIX}/jobs`,
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
      const template = await db.selectFrom('studio_templates').select('id').where('id', '=', templateId).executeTakeFirst();
      if (!template) throw new AirwavesError(Errors.badRequest, `templateId: template ${templateId} does not exist`);
      if (scenarioIds.length) {
        const found = await db.selectFrom('studio_scenarios').select('id').where('id', 'in', scenarioIds).execute();
        const missing = scenarioIds.filter((id) => !found.some((f) => f.id === id));
        if (missing.length) throw new AirwavesError(Errors.badRequest, `scenarioIds: scenario ${missing[0]} does not exist`);
      }
      const job = await db
        .insertInto('studio_generation_jobs')
        .values({ template_id: templateId, scenario_ids: scenarioIds, requested: count, generator: deps.generatorName })
        .returningAll()
        .executeTakeFirstOrThrow();
      jobs.notify();
      return reply.status(201).send(withChannel(job));
    },
  );
  http.get(`${PREFIX}/jobs`, { config: curator, schema: { tags, summary: 'The 50 most recent generation jobs', response: { 200: { type: 'object', properties: { items: { type: 'array', items: jobItem } } } } } }, async () => ({
    items: (await db.selectFrom('studio_generation_jobs').selectAll().orderBy('created_at', 'desc').limit(50).execute()).map(withChannel),
  }));
  http.get<{ Params: { id: string } }>(`${PREFIX}/jobs/:id`, { config: curator, schema: { tags, summary: 'One generation job', params: uuidParam, response: { 200: jobItem, ...errors } } }, async (req) => {
    const job = await db.selectFrom('studio_generation_jobs').selectAll().where('id', '=', req.params.id).executeTakeFirst();
    if (!job) throw new AirwavesError(Errors.notFound, `job ${req.params.id} does not exist`);
    return withChannel(job);
  });
  http.post<{ Params: { id: string } }>(`${PREFIX}/jobs/:id/cancel`, { config: curator, schema: { tags, summary: 'Cancel a queued or running job', params: uuidParam, response: { 200: jobItem, ...errors } } }, async (req) => {
    const cancelled = await jobs.cancel(req.params.id);
    const job = await db.selectFrom('studio_generation_jobs').selectAll().where('id', '=', req.params.id).executeTakeFirst();
    if (!job) throw new AirwavesError(Errors.notFound, `job ${req.params.id} does not exist`);
    if (!cancelled) throw new AirwavesError(Errors.conflict, `job ${req.params.id} is already ${job.status}`);
    return withChannel(job);
  });

  // ------------------------------------------------------------------ export
  http.get<{ Querystring: FilterQuery & { format: ExportFormat } }>(
    `${PREFIX}/export`,
    {
      config: curatorDownload,
      schema: {
        tags,
        summary: 'Stream the filtered conversations as JSONL (OpenAI chat fine-tuning, ShareGPT or Alpaca)',
        produces: ['application/x-ndjson'],
        querystring: { type: 'object', additionalProperties: false, required: ['format'], properties: { ...filterProps, format: { type: 'string', enum: [...EXPORT_FORMATS] } } },
        response: { 400: errorResponseSchema },
      },
    },
    async (req, reply) => {
      const filters = parseFilters(req.query);
      const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');
      reply
        .header('content-type', 'application/x-ndjson; charset=utf-8')
        .header('content-disposition', `attachment; filename="studio-${req.query.format}-${stamp}.jsonl"`);
      return reply.send(exportStream(db, filters, req.query.format));
    },
  );

  // ------------------------------------------------------------------ admin
  http.get<{ Querystring: { limit?: number } }>(
    `${PREFIX}/admin/pg-stat-statements`,
    {
      config: rule.apiKey,
      schema: {
        tags,
        summary: 'Top statements by total time from pg_stat_statements (PostgreSQL with the extension preloaded)',
        querystring: { type: 'object', additionalProperties: false, properties: { limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 } } },
        response: {
          200: {
            type: 'object',
            properties: {
              items: {
                type: 'array',
                items: { type: 'object', properties: { query: { type: 'string' }, calls: { type: 'integer' }, total_ms: { type: 'number' }, mean_ms: { type: 'number' }, rows: { type: 'integer' } } },
              },
            },
          },
          401: errorResponseSchema,
          403: errorResponseSchema,
          409: errorResponseSchema,
        },
      },
    },
    async (req) => {
      if (database.engine !== 'postgres') throw new AirwavesError(Errors.conflict, 'pg_stat_statements needs PostgreSQL (DATABASE_URL=postgres://…); this server runs on PGlite');
      try {
        await sql`create extension if not exists pg_stat_statements`.execute(db);
        const { rows } = await sql<{ query: string; calls: number; total_ms: number; mean_ms: number; rows: number }>`
          select query, calls::int as calls, total_exec_time as total_ms, mean_exec_time as mean_ms, rows::int as rows
          from pg_stat_statements where dbid = (select oid from pg_database where datname = current_database())
          order by total_exec_time desc limit ${req.query.limit ?? 20}`.execute(db);
        return { items: rows };
      } catch (err) {
        throw new AirwavesError(Errors.conflict, `pg_stat_statements is not enabled: add it to shared_preload_libraries (${(err as Error).message})`);
      }
    },
  );
}
