/**
 * @module apps/studio/queries
 * The reads and writes behind the conversation API. Lists page by keyset (never OFFSET), the
 * count is exact up to a cap and a planner estimate beyond it, a detail is one statement with its
 * turns aggregated in, and every status change appends to review_history in the same UPDATE.
 */
import DataLoader from 'dataloader';
import { sql, type Kysely } from 'kysely';
import { AirwavesError, Errors } from '../../core/errors.js';
import {
  afterCursor,
  decodeCursor,
  encodeCursor,
  orderBy,
  sortExpression,
  whereOf,
  type Filters,
  type ListField,
  type Sort,
} from './filters.js';
import type { ConversationStatus, StudioDB } from './types.js';

export type Row = Record<string, unknown> & { id: string };

export interface ListResult {
  items: Row[];
  nextCursor: string | null;
}

/** Every template's (or scenario's) name by id: reference data, small, read on every page. */
export type NameDirectory = (table: 'studio_templates' | 'studio_scenarios') => Promise<Map<string, string>>;

/**
 * Loads template and scenario names for a page of rows: one batch per kind, answered from the
 * cached name directory when one is given (no query at all on the common path), and by one
 * query for whatever the directory does not know (a row written since the cache was filled).
 */
export function nameLoaders(db: Kysely<StudioDB>, directory?: NameDirectory) {
  const loader = (table: 'studio_templates' | 'studio_scenarios') =>
    new DataLoader<string, string | null>(async (ids) => {
      const known = directory ? await directory(table) : new Map<string, string>();
      const missing = ids.filter((id) => !known.has(id));
      const byId = new Map(known);
      if (missing.length) {
        const rows = await db.selectFrom(table).select(['id', 'name']).where('id', 'in', missing).execute();
        for (const r of rows) byId.set(r.id, r.name);
      }
      return ids.map((id) => byId.get(id) ?? null);
    });
  return { templates: loader('studio_templates'), scenarios: loader('studio_scenarios') };
}
export type NameLoaders = ReturnType<typeof nameLoaders>;

const SQL_FIELDS = new Set<string>([
  'id', 'title', 'persona', 'emotion', 'tier', 'status', 'category', 'quality_score', 'parameters', 'review_history', 'template_id',
  'scenario_id', 'job_id', 'turn_count', 'prompt_tokens', 'completion_tokens', 'total_tokens', 'created_at', 'updated_at',
]);

export interface ListArgs {
  filters: Filters;
  sort: Sort;
  cursor?: string;
  limit: number;
  fields: ListField[];
  loaders?: NameLoaders;
}

/**
 * Relevance ranks at most this many matches, the newest ones: beyond it a search answers with the
 * most relevant of the newest 1,000 (sort by created_at to walk every match). See docs/studio.md.
 */
export const RANK_CANDIDATES = 1000;

/** The list statement itself (exported so the query-plan tests EXPLAIN exactly what the API runs). */
export function listQuery(args: ListArgs) {
  const { filters, sort, limit, fields } = args;
  const columns = new Set(fields.filter((f) => SQL_FIELDS.has(f)));
  if (fields.includes('template_name')) columns.add('template_id');
  if (fields.includes('scenario_name')) columns.add('scenario_id');
  columns.add('id');
  const cursor = args.cursor ? decodeCursor(args.cursor, sort) : undefined;
  const select = sql.join([...columns].map((c) => sql.ref(`c.${c}`)));
  if (sort.column === 'relevance') {
    // Ranking reads every candidate's tsvector: a common word matched 23,000–52,000 of 1M rows
    // and ranking them all cost 56–125 ms. So only the newest RANK_CANDIDATES matches are ranked
    // (found through the indexes, carrying only id and tsvector), the cursor walks that bounded
    // set, and the full columns are read for the one page that is returned.
    const dir = sql.raw(sort.order);
    return sql<Row & { _sort: unknown }>`
      with candidates as (
        select c.id, c.search from studio_conversations c where ${whereOf(filters)}
        order by c.created_at + interval '0 s' desc, c.id desc limit ${RANK_CANDIDATES}
      ), page as (
        select k.id, ${sortExpression(sort, filters, 'k')} as _sort from candidates k
        where ${cursor ? afterCursor(sort, filters, cursor, 'k') : sql`true`}
        order by ${orderBy(sort, filters, 'k')}
        limit ${limit + 1}
      )
      select ${select}, p._sort from page p join studio_conversations c on c.id = p.id
      order by p._sort ${dir}, p.id ${dir}
    `;
  }
  const where = cursor ? sql`${whereOf(filters)} and ${afterCursor(sort, filters, cursor)}` : whereOf(filters);
  // One extra row tells whether there is a next page without a count.
  return sql<Row & { _sort: unknown }>`
    select ${select}, ${sortExpression(sort, filters)} as _sort
    from studio_conversations c
    where ${where}
    order by ${orderBy(sort, filters)}
    limit ${limit + 1}
  `;
}

export async function listConversations(db: Kysely<StudioDB>, args: ListArgs): Promise<ListResult> {
  const { sort, limit, fields } = args;
  const { rows } = await listQuery(args).execute(db);
  const hasMore = rows.length > limit;
  const page = hasMore ? rows.slice(0, limit) : rows;
  const last = page[page.length - 1];
  const nextCursor = hasMore && last ? encodeCursor(sort, last._sort, last.id) : null;
  const loaders = args.loaders ?? nameLoaders(db);
  const items = await Promise.all(
    page.map(async (r) => {
      const item: Record<string, unknown> = { id: r.id };
      for (const f of fields) if (SQL_FIELDS.has(f)) item[f] = r[f];
      if (fields.includes('template_name')) item.template_name = r.template_id ? await loaders.templates.load(r.template_id as string) : null;
      if (fields.includes('scenario_name')) item.scenario_name = r.scenario_id ? await loaders.scenarios.load(r.scenario_id as string) : null;
      return item as Row;
    }),
  );
  return { items, nextCursor };
}

/** Counts at most this many rows exactly; beyond it the planner's estimate is good enough for a UI. */
export const EXACT_COUNT_CAP = 10_000;

export async function countConversations(db: Kysely<StudioDB>, engine: 'pglite' | 'postgres', filters: Filters): Promise<{ count: number; exact: boolean }> {
  const where = whereOf(filters);
  const capped = await sql<{ n: number }>`
    select count(*)::int as n from (select 1 from studio_conversations c where ${where} limit ${EXACT_COUNT_CAP + 1}) s
  `.execute(db);
  const n = capped.rows[0].n;
  if (n <= EXACT_COUNT_CAP) return { count: n, exact: true };
  const unfiltered = where.compile(db).sql === 'true';
  if (engine === 'postgres' && unfiltered) {
    const est = await sql<{ n: number }>`select greatest(reltuples, 0)::bigint::int as n from pg_class where oid = 'studio_conversations'::regclass`.execute(db);
    if (est.rows[0]?.n > EXACT_COUNT_CAP) return { count: est.rows[0].n, exact: false };
  }
  // PGlite too: it runs one statement at a time, so an exact count of 100,000 rows stalled every
  // other request behind it (count p95 ≈ 0.5 s under 50 users).
  const plan = await sql<{ 'QUERY PLAN': [{ Plan: { 'Plan Rows': number } }] }>`explain (format json) select 1 from studio_conversations c where ${where}`.execute(db);
  const planRows = plan.rows[0]['QUERY PLAN'][0].Plan['Plan Rows'];
  if (planRows > EXACT_COUNT_CAP) return { count: Math.round(planRows), exact: false };
  // The planner thinks the cap is not reached after all (it counted more than that): count exactly.
  const exact = await sql<{ n: number }>`select count(*)::int as n from studio_conversations c where ${where}`.execute(db);
  return { count: exact.rows[0].n, exact: true };
}

export async function getConversation(db: Kysely<StudioDB>, id: string): Promise<Row | null> {
  // The turns come back aggregated in the same statement: one round trip per detail, no N+1.
  const { rows } = await sql<Row>`
    select c.id, c.title, c.persona, c.emotion, c.tier, c.status, c.category, c.quality_score, c.parameters, c.review_history,
      c.template_id, c.scenario_id, c.job_id, c.turn_count, c.prompt_tokens, c.completion_tokens, c.total_tokens, c.created_at, c.updated_at,
      t.name as template_name, s.name as scenario_name,
      coalesce((select json_agg(json_build_object('turn', ct.turn_number, 'role', ct.role, 'content', ct.content, 'tokens', ct.tokens) order by ct.turn_number)
        from studio_conversation_turns ct where ct.conversation_id = c.id), '[]'::json) as turns
    from studio_conversations c
    left join studio_templates t on t.id = c.template_id
    left join studio_scenarios s on s.id = c.scenario_id
    where c.id = ${id}::uuid
  `.execute(db);
  return rows[0] ?? null;
}

export interface StatusChange {
  status: ConversationStatus;
  note?: string | null;
  reviewer?: string | null;
}

/** Sets one conversation's status; `expected` guards against two reviewers racing. */
export async function changeStatus(db: Kysely<StudioDB>, id: string, change: StatusChange & { expected?: ConversationStatus }): Promise<Row> {
  const { rows } = await sql<Row & { previous: string }>`
    update studio_conversations c set
      status = ${change.status},
      updated_at = now(),
      review_history = c.review_history || jsonb_build_array(jsonb_build_object(
        'at', to_char(now() at time zone 'utc', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'from', c.status, 'to', ${change.status}::text,
        'reviewer', ${change.reviewer ?? null}::text, 'note', ${change.note ?? null}::text))
    where c.id = ${id}::uuid ${change.expected ? sql`and c.status = ${change.expected}` : sql``}
    returning c.id, c.status, c.updated_at, c.review_history
  `.execute(db);
  if (rows[0]) return rows[0];
  const exists = await db.selectFrom('studio_conversations').select('status').where('id', '=', id).executeTakeFirst();
  if (!exists) throw new AirwavesError(Errors.notFound, `conversation ${id} does not exist`);
  throw new AirwavesError(Errors.conflict, `conversation ${id} is ${exists.status}, not ${change.expected}`);
}

/** One UPDATE for the whole selection; each row's history records its own previous status. */
export async function bulkChangeStatus(db: Kysely<StudioDB>, ids: string[], change: StatusChange): Promise<{ updated: number; ids: string[] }> {
  const { rows } = await sql<{ id: string }>`
    update studio_conversations c set
      status = ${change.status},
      updated_at = now(),
      review_history = c.review_history || jsonb_build_array(jsonb_build_object(
        'at', to_char(now() at time zone 'utc', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'from', c.status, 'to', ${change.status}::text,
        'reviewer', ${change.reviewer ?? null}::text, 'note', ${change.note ?? null}::text, 'bulk', true))
    where c.id = any(${ids}::uuid[])
    returning c.id
  `.execute(db);
  return { updated: rows.length, ids: rows.map((r) => r.id) };
}

export async function studioStats(db: Kysely<StudioDB>): Promise<{ total: number; byStatus: Record<string, number>; byTier: Record<string, number>; avgQuality: number }> {
  const [status, tier, quality] = await Promise.all([
    sql<{ k: string; n: number }>`select status as k, count(*)::int as n from studio_conversations group by status`.execute(db),
    sql<{ k: string; n: number }>`select tier as k, count(*)::int as n from studio_conversations group by tier`.execute(db),
    sql<{ q: number | null }>`select avg(quality_score)::float8 as q from studio_conversations`.execute(db),
  ]);
  const byStatus = Object.fromEntries(status.rows.map((r) => [r.k, r.n]));
  const byTier = Object.fromEntries(tier.rows.map((r) => [r.k, r.n]));
  const total = status.rows.reduce((a, r) => a + r.n, 0);
  return { total, byStatus, byTier, avgQuality: Math.round((quality.rows[0]?.q ?? 0) * 100) / 100 };
}
