/**
 * @module apps/studio/filters
 * Turns the list's query parameters into validated filters, a sort and a cursor, and those into
 * SQL fragments (every value a bind parameter, every identifier from a fixed list). The same
 * filters drive the list, the count and the export, so they always agree on what is selected.
 */
import { sql, type RawBuilder } from 'kysely';
import { AirwavesError, Errors } from '../../core/errors.js';
import { CONVERSATION_STATUSES, GENERATORS, GENERATOR_SEED, TIERS, type GeneratorName } from './shared/vocabulary.js';
import type { ConversationStatus, Tier } from './types.js';

export const SORT_COLUMNS = ['created_at', 'updated_at', 'quality_score', 'title', 'total_tokens', 'relevance'] as const;
export type SortColumn = (typeof SORT_COLUMNS)[number];
export type SortOrder = 'asc' | 'desc';

/**
 * Columns a client may ask for with `fields=`; template_name and scenario_name are looked up by id
 * in the same statement, generator (what wrote the text: the job's generator, or `seed`) too.
 */
export const LIST_FIELDS = [
  'id', 'title', 'persona', 'emotion', 'tier', 'status', 'category', 'quality_score', 'parameters', 'review_history', 'template_id',
  'scenario_id', 'job_id', 'turn_count', 'prompt_tokens', 'completion_tokens', 'total_tokens', 'created_at', 'updated_at',
  'template_name', 'scenario_name', 'generator',
] as const;
export type ListField = (typeof LIST_FIELDS)[number];
export const DEFAULT_FIELDS: ListField[] = ['id', 'title', 'persona', 'emotion', 'tier', 'status', 'category', 'quality_score', 'total_tokens', 'turn_count', 'created_at', 'updated_at', 'template_name', 'scenario_name'];

/** An ISO 8601 UTC timestamp with milliseconds, exactly as Date#toISOString writes it. */
export const isoUtc = (time: RawBuilder<unknown>) => sql`to_char(${time} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The raw query string, as it arrives (Fastify has already checked simple shapes). */
export interface FilterQuery {
  status?: string;
  tier?: string;
  category?: string;
  quality_min?: number;
  quality_max?: number;
  created_from?: string;
  created_to?: string;
  params?: string;
  q?: string;
  template_id?: string;
  scenario_id?: string;
  job_id?: string;
  reviewed_by?: string;
  generator?: string;
}

export interface ListQuery extends FilterQuery {
  sort?: SortColumn;
  order?: SortOrder;
  cursor?: string;
  limit?: number;
  fields?: string;
}

export interface Filters {
  status?: ConversationStatus[];
  tier?: Tier[];
  category?: string[];
  qualityMin?: number;
  qualityMax?: number;
  createdFrom?: Date;
  createdTo?: Date;
  params?: Record<string, unknown>;
  q?: string;
  templateId?: string;
  scenarioId?: string;
  jobId?: string;
  reviewedBy?: string;
  /** What wrote the rows: `seed` (no job), or a job's generator. */
  generator?: GeneratorName[];
}

export interface Cursor {
  value: string | number;
  id: string;
}

const bad = (message: string) => new AirwavesError(Errors.badRequest, message);

function csv<T extends string>(name: string, raw: string | undefined, allowed: readonly T[]): T[] | undefined {
  if (raw === undefined || raw === '') return undefined;
  const values = raw.split(',').map((v) => v.trim()).filter(Boolean);
  for (const v of values) if (!allowed.includes(v as T)) throw bad(`${name}: unknown value "${v.slice(0, 40)}"; expected one of ${allowed.join(', ')}`);
  return [...new Set(values)] as T[];
}

function date(name: string, raw: string | undefined): Date | undefined {
  if (raw === undefined || raw === '') return undefined;
  const d = new Date(raw);
  if (Number.isNaN(d.getTime())) throw bad(`${name}: "${raw.slice(0, 40)}" is not an ISO 8601 date`);
  return d;
}

function uuid(name: string, raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (!UUID_RE.test(raw)) throw bad(`${name}: "${raw.slice(0, 40)}" is not a UUID`);
  return raw.toLowerCase();
}

export function parseFilters(query: FilterQuery): Filters {
  const f: Filters = {
    status: csv('status', query.status, CONVERSATION_STATUSES),
    tier: csv('tier', query.tier, TIERS),
    qualityMin: query.quality_min,
    qualityMax: query.quality_max,
    createdFrom: date('created_from', query.created_from),
    createdTo: date('created_to', query.created_to),
    templateId: uuid('template_id', query.template_id),
    scenarioId: uuid('scenario_id', query.scenario_id),
    jobId: uuid('job_id', query.job_id),
    generator: csv('generator', query.generator, GENERATORS),
  };
  if (query.category) {
    const cats = query.category.split(',').map((c) => c.trim()).filter(Boolean);
    if (cats.some((c) => c.length > 64)) throw bad('category: each category is at most 64 characters');
    if (cats.length) f.category = cats;
  }
  if (f.qualityMin !== undefined && f.qualityMax !== undefined && f.qualityMin > f.qualityMax) throw bad('quality_min: must not exceed quality_max');
  if (query.params) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(query.params);
    } catch (err) {
      throw bad(`params: malformed JSON (${(err as Error).message})`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw bad('params: expected a JSON object, e.g. {"language":"en"}');
    f.params = parsed as Record<string, unknown>;
  }
  if (query.reviewed_by) f.reviewedBy = query.reviewed_by;
  if (query.q !== undefined) {
    const q = query.q.trim();
    if (q) f.q = q;
  }
  return f;
}

/** The tsquery of a search; websearch syntax ("quoted phrases", -excluded, or) never throws on user input. */
export const tsQuery = (q: string) => sql`websearch_to_tsquery('english', ${q})`;

/** WHERE fragments for the filters (always at least `true`). */
export function whereOf(f: Filters, alias = 'c'): RawBuilder<unknown> {
  const col = (name: string) => sql.ref(`${alias}.${name}`);
  const parts: RawBuilder<unknown>[] = [];
  // A single status is an equality, so (status, sort column, id) indexes can serve the order too.
  if (f.status?.length === 1) parts.push(sql`${col('status')} = ${f.status[0]}`);
  else if (f.status) parts.push(sql`${col('status')} = any(${f.status}::text[])`);
  if (f.tier?.length === 1) parts.push(sql`${col('tier')} = ${f.tier[0]}`);
  else if (f.tier) parts.push(sql`${col('tier')} = any(${f.tier}::text[])`);
  if (f.category) parts.push(sql`${col('category')} && ${f.category}::text[]`);
  if (f.qualityMin !== undefined) parts.push(sql`${col('quality_score')} >= ${f.qualityMin}`);
  if (f.qualityMax !== undefined) parts.push(sql`${col('quality_score')} <= ${f.qualityMax}`);
  if (f.createdFrom) parts.push(sql`${col('created_at')} >= ${f.createdFrom.toISOString()}::timestamptz`);
  if (f.createdTo) parts.push(sql`${col('created_at')} < ${f.createdTo.toISOString()}::timestamptz`);
  if (f.params) parts.push(sql`${col('parameters')} @> ${JSON.stringify(f.params)}::jsonb`);
  if (f.q) parts.push(sql`${col('search')} @@ ${tsQuery(f.q)}`);
  if (f.reviewedBy) parts.push(sql`${col('review_history')} @> ${JSON.stringify([{ reviewer: f.reviewedBy }])}::jsonb`);
  if (f.templateId) parts.push(sql`${col('template_id')} = ${f.templateId}::uuid`);
  if (f.scenarioId) parts.push(sql`${col('scenario_id')} = ${f.scenarioId}::uuid`);
  if (f.jobId) parts.push(sql`${col('job_id')} = ${f.jobId}::uuid`);
  if (f.generator) {
    // The jobs are a handful of rows: their ids by generator, then the job_id index. Seed rows
    // (no job) have a partial index of their own (migration 0006_seed_rows_index).
    const named = f.generator.filter((g) => g !== GENERATOR_SEED);
    const seed = sql`${col('job_id')} is null`;
    const byJob = sql`${col('job_id')} in (select j.id from studio_generation_jobs j where j.generator = any(${named}::text[]))`;
    const seedToo = f.generator.includes(GENERATOR_SEED);
    if (!named.length) parts.push(seedToo ? seed : sql`false`);
    else parts.push(seedToo ? sql`(${seed} or ${byJob})` : byJob);
  }
  return parts.length ? sql.join(parts, sql` and `) : sql`true`;
}

export interface Sort {
  column: SortColumn;
  order: SortOrder;
}

export function parseSort(query: ListQuery, filters: Filters): Sort {
  const column = query.sort ?? (filters.q ? 'relevance' : 'created_at');
  if (column === 'relevance' && !filters.q) throw bad('sort: "relevance" needs a search query (q)');
  const order = query.order ?? (column === 'title' ? 'asc' : 'desc');
  return { column, order };
}

/** The expression a sort orders by (relevance is the weighted rank of the search). */
export function sortExpression(sort: Sort, filters: Filters, alias = 'c'): RawBuilder<unknown> {
  if (sort.column === 'relevance') return sql`ts_rank(${sql.ref(`${alias}.search`)}, ${tsQuery(filters.q!)})::float8`;
  return sql.ref(`${alias}.${sort.column}`);
}

export function encodeCursor(sort: Sort, value: unknown, id: string): string {
  const v = value instanceof Date ? value.toISOString() : value;
  return Buffer.from(JSON.stringify([sort.column, sort.order, v, id])).toString('base64url');
}

export function decodeCursor(raw: string, sort: Sort): Cursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw bad('cursor: not a cursor returned by this API');
  }
  if (!Array.isArray(parsed) || parsed.length !== 4) throw bad('cursor: not a cursor returned by this API');
  const [column, order, value, id] = parsed as unknown[];
  if (column !== sort.column || order !== sort.order) throw bad(`cursor: it belongs to sort=${String(column)}&order=${String(order)}, not sort=${sort.column}&order=${sort.order}`);
  if (typeof id !== 'string' || !UUID_RE.test(id)) throw bad('cursor: not a cursor returned by this API');
  const numeric = sort.column === 'quality_score' || sort.column === 'total_tokens' || sort.column === 'relevance';
  if (numeric ? typeof value !== 'number' || !Number.isFinite(value) : typeof value !== 'string') throw bad('cursor: not a cursor returned by this API');
  if ((sort.column === 'created_at' || sort.column === 'updated_at') && Number.isNaN(new Date(value as string).getTime())) throw bad('cursor: not a cursor returned by this API');
  return { value: value as string | number, id };
}

/** `(sort, id) < (cursor)` (or `>` ascending): a row comparison the (column, id) btree answers directly. */
export function afterCursor(sort: Sort, filters: Filters, cursor: Cursor, alias = 'c'): RawBuilder<unknown> {
  const expr = sortExpression(sort, filters, alias);
  const op = sql.raw(sort.order === 'desc' ? '<' : '>');
  const value =
    sort.column === 'created_at' || sort.column === 'updated_at'
      ? sql`${cursor.value}::timestamptz`
      : sort.column === 'quality_score'
        ? sql`${cursor.value}::real`
        : sort.column === 'total_tokens'
          ? sql`${cursor.value}::int`
          : sort.column === 'relevance'
            ? sql`${cursor.value}::float8`
            : sql`${cursor.value}::text`;
  return sql`(${expr}, ${sql.ref(`${alias}.id`)}) ${op} (${value}, ${cursor.id}::uuid)`;
}

export function orderBy(sort: Sort, filters: Filters, alias = 'c'): RawBuilder<unknown> {
  const dir = sql.raw(sort.order);
  return sql`${sortExpression(sort, filters, alias)} ${dir}, ${sql.ref(`${alias}.id`)} ${dir}`;
}

export function parseFields(raw: string | undefined): ListField[] {
  if (!raw) return DEFAULT_FIELDS;
  const fields = csv('fields', raw, LIST_FIELDS) ?? DEFAULT_FIELDS;
  return fields.includes('id') ? fields : ['id', ...fields];
}
