/**
 * @module apps/studio/routes/conversations
 * Browse and review: list (filters, sort, keyset pages), count, stats, one conversation, and
 * status changes one at a time or in bulk, and corrections of a turn (its earlier text kept). Parameters a schema cannot judge (cursors, status
 * lists, JSON filters) are checked in filters.ts; refusals are 400 naming the parameter.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AirwavesError, Errors } from '../../../core/errors.js';
import { LIST_FIELDS, SORT_COLUMNS, UUID_RE, parseFields, parseFilters, parseSort, type FilterQuery, type ListQuery } from '../filters.js';
import { bulkChangeStatus, changeStatus, countConversations, getConversationJson, listPageJson, studioStats } from '../queries.js';
import type { ConversationStatus } from '../types.js';
import { TURN_MAX_CHARS, editTurn } from '../turn-edits.js';
import { JSON_TYPE, conversationItem, curator, errors, filterProps, statusBody, tags, uuidParam } from './schemas.js';
import type { StudioRouteContext } from './context.js';

/**
 * Who decided: the signed-in user, from the auth model. Only the admin (the API key, a tool acting
 * for people) may name someone else in `reviewer`; anyone else's `reviewer` is not trusted.
 */
function reviewerOf(req: FastifyRequest<{ Body: { reviewer?: string } }>): string | null {
  const identity = req.identity;
  if (identity?.roles.includes('admin') && req.body.reviewer) return req.body.reviewer;
  return identity?.user ?? null;
}

export function registerConversationRoutes(http: FastifyInstance, { db, shared, statsCache }: StudioRouteContext): void {
  http.get<{ Querystring: ListQuery }>(
    '/conversations',
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
    '/conversations/count',
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
    '/stats',
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
    '/conversations/:id',
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
              turns: { type: 'array', items: { type: 'object', properties: { turn: { type: 'integer' }, role: { type: 'string' }, content: { type: 'string' }, tokens: { type: 'integer' }, edits: { type: 'array', description: 'earlier texts of the turn, oldest first, with who changed them and when' } } } },
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
    '/conversations/:id',
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
      const row = await changeStatus(db, req.params.id, { ...req.body, reviewer: reviewerOf(req) });
      statsCache.invalidate();
      return row;
    },
  );

  http.post<{ Body: { ids: string[]; status: ConversationStatus; note?: string; reviewer?: string } }>(
    '/conversations/bulk',
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
      const result = await bulkChangeStatus(db, req.body.ids, { ...req.body, reviewer: reviewerOf(req) });
      statsCache.invalidate();
      return result;
    },
  );

  http.patch<{ Params: { id: string; turn: number }; Body: { content: string; expected?: string } }>(
    '/conversations/:id/turns/:turn',
    {
      config: curator,
      schema: {
        tags,
        summary: "Correct one turn's text; the text before is kept in the turn's edits with who and when",
        params: { type: 'object', required: ['id', 'turn'], properties: { ...uuidParam.properties, turn: { type: 'integer', minimum: 0, maximum: 10_000 } } },
        body: {
          type: 'object',
          required: ['content'],
          additionalProperties: false,
          properties: {
            content: { type: 'string', minLength: 1, maxLength: TURN_MAX_CHARS },
            expected: { type: 'string', maxLength: TURN_MAX_CHARS * 2, description: 'the text the editor saw: 409 conflict if it changed meanwhile' },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              turn: { type: 'integer' },
              role: { type: 'string' },
              content: { type: 'string' },
              tokens: { type: 'integer' },
              edits: { type: 'array', items: { type: 'object', properties: { at: { type: 'string' }, editor: { type: ['string', 'null'] }, before: { type: 'string' } } } },
            },
          },
          ...errors,
        },
      },
    },
    async (req) => {
      const edited = await editTurn(db, { id: req.params.id, turn: req.params.turn, content: req.body.content, expected: req.body.expected, editor: req.identity?.user ?? null });
      statsCache.invalidate();
      return edited;
    },
  );
}
