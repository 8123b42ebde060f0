/**
 * @module apps/studio/routes/exports
 * The dataset out: the filtered conversations streamed as JSONL (a download link, so the token
 * may come as ?access_token=), and the admin's view of the slowest statements.
 */
import type { FastifyInstance } from 'fastify';
import { AirwavesError, Errors } from '../../../core/errors.js';
import { errorResponseSchema } from '../../../http/errors.js';
import { rule } from '../../../auth/rules.js';
import { EXPORT_FORMATS, exportStream, type ExportFormat } from '../export.js';
import { parseFilters, type FilterQuery } from '../filters.js';
import { topStatements } from '../queries.js';
import { curatorDownload, filterProps, tags } from './schemas.js';
import type { StudioRouteContext } from './context.js';

export function registerExportRoutes(http: FastifyInstance, { db, database }: StudioRouteContext): void {
  http.get<{ Querystring: FilterQuery & { format: ExportFormat } }>(
    '/export',
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

  http.get<{ Querystring: { limit?: number } }>(
    '/admin/pg-stat-statements',
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
        return { items: await topStatements(db, req.query.limit ?? 20) };
      } catch (err) {
        throw new AirwavesError(Errors.conflict, `pg_stat_statements is not enabled: add it to shared_preload_libraries (${(err as Error).message})`);
      }
    },
  );
}
