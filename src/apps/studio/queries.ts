/**
 * @module apps/studio/queries
 * The reads and writes behind the conversation API. Lists page by keyset (never OFFSET), the
 * count is exact up to a cap and a planner estimate beyond it, a detail is one statement with its
 * turns aggregated in, and every status change appends to review_history in the same UPDATE.
 * List pages and details come back as JSON text built by the database, sent as they are.
 */
import { sql, type Kysely, type RawBuilder } from 'kysely';
import { AirwavesError, Errors } from '../../core/errors.js';
import {
  afterCursor,
  tsQuery,
  decodeCursor,
  encodeCursor,
  isoUtc,
  LIST_FIELDS,
  orderBy,
  sortExpression,
  whereOf,
  type Filters,
  type ListField,
  type Sort,
} from './filters.js';
import { turnEditsJson } from './turn-edits.js';
import { GENERATOR_SEED } from './shared/vocabulary.js';
import type { ConversationStatus, ScenarioInput, StudioDB, TemplateInput } from './types.js';

export type Row = Record<string, unknown> & { id: string };

/** The list fields that are columns (the *_name ones are looked up, see fieldSql). */
const LOOKED_UP = new Set<ListField>(['template_name', 'scenario_name', 'generator']);
const SQL_FIELDS = new Set<ListField>(LIST_FIELDS.filter((f) => !LOOKED_UP.has(f)));

export interface ListArgs {
  filters: Filters;
  sort: Sort;
  cursor?: string;
  limit: number;
  fields: ListField[];
  /** Select each item as one JSON text column `j` (see listPageJson) instead of its columns. */
  json?: boolean;
}

/** The SQL expression one list field is written from, in the item's JSON. */
function fieldSql(field: ListField, alias: string): RawBuilder<unknown> {
  if (field === 'created_at' || field === 'updated_at') return isoUtc(sql.ref(`${alias}.${field}`));
  // The name directories are a handful of rows: one primary-key probe per item.
  if (field === 'template_name') return sql`(select t.name from studio_templates t where t.id = ${sql.ref(`${alias}.template_id`)})`;
  if (field === 'scenario_name') return sql`(select s.name from studio_scenarios s where s.id = ${sql.ref(`${alias}.scenario_id`)})`;
  // A job's rows carry its generator's name; rows without a job were written by the seed, whose
  // writer is the offline one (GENERATOR_SEED).
  if (field === 'generator') return sql`coalesce((select j.generator from studio_generation_jobs j where j.id = ${sql.ref(`${alias}.job_id`)}), ${GENERATOR_SEED})`;
  return sql.ref(`${alias}.${field}`);
}

/**
 * One item as JSON text, written by the database. The server then neither parses the row (dates,
 * text[] and jsonb are the costly ones in pg's parsers) nor serialises it again: under load those
 * two steps were most of the server's own CPU per list request.
 */
function itemJson(fields: ListField[], alias = 'c'): RawBuilder<string> {
  const pairs = fields.flatMap((f) => [sql.lit(f), fieldSql(f, alias)]);
  return sql<string>`json_build_object(${sql.join(pairs)})::text`;
}

/** Every field of a detail, in the order the list's schema gives them. */
const DETAIL_FIELDS: ListField[] = [
  'id', 'title', 'persona', 'emotion', 'tier', 'status', 'category', 'quality_score', 'parameters', 'review_history', 'template_id',
  'scenario_id', 'job_id', 'template_name', 'scenario_name', 'generator', 'turn_count', 'prompt_tokens', 'completion_tokens', 'total_tokens',
  'created_at', 'updated_at',
];

/**
 * Relevance ranks at most this many matches, the newest ones: beyond it a search answers with the
 * most relevant of the newest 1,000 (sort by created_at to walk every match). See docs/studio.md.
 */
export const RANK_CANDIDATES = 1000;

/**
 * How many of the newest rows a multi-word search reads in date order before it falls back to the
 * GIN index (see candidatesOf): a query matching at least RANK_CANDIDATES / WALK_BUDGET = 2 % of
 * them is answered by the walk alone.
 */
export const WALK_BUDGET = 50_000;

/** Filters the recency indexes answer index-only in date order: a search, alone or with one status. */
function walkable(filters: Filters): boolean {
  const keys = Object.keys(filters).filter((k) => filters[k as keyof Filters] !== undefined);
  return keys.every((k) => k === 'q' || k === 'status') && (filters.status === undefined || filters.status.length === 1);
}

/**
 * The newest RANK_CANDIDATES matches (id and tsvector) of a relevance search.
 *
 * One word: the planner's own choice, which is right — its estimate for a single lexeme comes from
 * the column's statistics and was within a few % at 1M rows, so it walks the recency index
 * (newest first, testing the tsvector carried in the index tuple) for common words and reads GIN
 * for rare ones.
 *
 * Several words (websearch's AND): the planner multiplies the words' frequencies as if they were
 * independent, and words typed together are not ("gift card": 2.65 % of rows, estimated 0.13 %),
 * so it took the GIN plan and read all 26,500 matches from the heap to sort them by date: 40–55 ms
 * at 1M rows. Here the walk is written out, bounded to the newest WALK_BUDGET rows (of the one
 * status): if it finds RANK_CANDIDATES matches those are exactly the newest ones (≈ 20 ms at
 * 2.65 %); if not — a rare combination — the same newest matches are taken through GIN instead,
 * after at most WALK_BUDGET index tuples (≈ 15–20 ms) spent finding that out.
 */
function candidatesOf(filters: Filters): RawBuilder<unknown> {
  const newest = (where: RawBuilder<unknown>) => sql`select c.id, c.search from studio_conversations c where ${where} order by c.created_at desc, c.id desc limit ${RANK_CANDIDATES}`;
  if (!walkable(filters) || !/\s/.test(filters.q ?? '')) return sql`(${newest(whereOf(filters))})`;
  const status = filters.status ? sql`c.status = ${filters.status[0]}` : sql`true`;
  // The LIMIT inside keeps the planner from pushing the match test down to the GIN index.
  return sql`(
    with walked as materialized (
      select w.id, w.search from (
        select c.id, c.search, c.created_at from studio_conversations c where ${status}
        order by c.created_at desc, c.id desc limit ${WALK_BUDGET}
      ) w where w.search @@ ${tsQuery(filters.q!)}
      order by w.created_at desc, w.id desc limit ${RANK_CANDIDATES}
    )
    select id, search from walked where (select count(*) from walked) = ${RANK_CANDIDATES}
    union all
    select * from (${newest(whereOf(filters))}) g where (select count(*) from walked) < ${RANK_CANDIDATES}
  )`;
}

/** The list statement itself (exported so the query-plan tests EXPLAIN exactly what the API runs). */
export function listQuery(args: ListArgs) {
  const { filters, sort, limit, fields } = args;
  const columns = new Set(fields.filter((f) => SQL_FIELDS.has(f)));
  if (fields.includes('template_name')) columns.add('template_id');
  if (fields.includes('scenario_name')) columns.add('scenario_id');
  if (fields.includes('generator')) columns.add('job_id');
  columns.add('id');
  const cursor = args.cursor ? decodeCursor(args.cursor, sort) : undefined;
  const select = args.json ? sql`${itemJson(fields)} as j, c.id` : sql.join([...columns].map((c) => sql.ref(`c.${c}`)));
  if (sort.column === 'relevance') {
    // Ranking reads every candidate's tsvector: a common word matched 23,000–52,000 of 1M rows
    // and ranking them all cost 56–125 ms. So only the newest RANK_CANDIDATES matches are ranked
    // (found through the indexes, carrying only id and tsvector: candidatesOf), the cursor walks
    // that bounded set, and the full columns are read for the one page that is returned.
    const dir = sql.raw(sort.order);
    return sql<Row & { _sort: unknown }>`
      with candidates as ${candidatesOf(filters)}, page as (
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

/**
 * The list's response body, `{"items":[…],"nextCursor":…}`, as JSON text: each item is built by the
 * database (itemJson) and the page is joined here, so the route sends it without serialising.
 */
export async function listPageJson(db: Kysely<StudioDB>, args: ListArgs): Promise<string> {
  const { sort, limit } = args;
  const { rows } = await listQuery({ ...args, json: true }).execute(db);
  const hasMore = rows.length > limit;
  const page = hasMore ? rows.slice(0, limit) : rows;
  const last = page[page.length - 1];
  const nextCursor = hasMore && last ? encodeCursor(sort, last._sort, last.id) : null;
  return `{"items":[${page.map((r) => r.j as string).join(',')}],"nextCursor":${JSON.stringify(nextCursor)}}`;
}

/** Counts at most this many rows exactly; beyond it the planner's estimate is good enough for a UI. */
export const EXACT_COUNT_CAP = 10_000;
/**
 * A planner estimate this many times over the cap is answered without counting: planning costs
 * well under a millisecond, while even the capped count reads 10,001 index entries (plus heap pages
 * for a search), which at 1M rows was 20–85 ms per count for two or three filters together. The
 * planner was within 3 % of the truth for every combination of the list's filters tried at 1M rows;
 * twice the cap leaves room for a 2× error before "exact up to 10,000" could be broken. Below it
 * the rows are counted.
 */
export const TRUSTED_ESTIMATE = 2 * EXACT_COUNT_CAP;

export async function countConversations(db: Kysely<StudioDB>, filters: Filters): Promise<{ count: number; exact: boolean }> {
  const where = whereOf(filters);
  // PGlite too: it runs one statement at a time, so an exact count of 100,000 rows stalled every
  // other request behind it (count p95 ≈ 0.5 s under 50 users).
  const plan = await sql<{ 'QUERY PLAN': [{ Plan: { 'Plan Rows': number } }] }>`explain (format json) select 1 from studio_conversations c where ${where}`.execute(db);
  const planRows = Math.round(plan.rows[0]['QUERY PLAN'][0].Plan['Plan Rows']);
  if (planRows >= TRUSTED_ESTIMATE) return { count: planRows, exact: false };
  const capped = await sql<{ n: number }>`
    select count(*)::int as n from (select 1 from studio_conversations c where ${where} limit ${EXACT_COUNT_CAP + 1}) s
  `.execute(db);
  const n = capped.rows[0].n;
  if (n <= EXACT_COUNT_CAP) return { count: n, exact: true };
  if (planRows > EXACT_COUNT_CAP) return { count: planRows, exact: false };
  // The planner thinks the cap is not reached after all (it counted more than that): count exactly.
  const exact = await sql<{ n: number }>`select count(*)::int as n from studio_conversations c where ${where}`.execute(db);
  return { count: exact.rows[0].n, exact: true };
}

/** One conversation with its turns as JSON text (the detail's response body), or null if there is none. */
export async function getConversationJson(db: Kysely<StudioDB>, id: string): Promise<string | null> {
  // Built by the database like the list's items: the turns' content is most of a detail's bytes,
  // and parsing then re-serialising it was the server's main cost per detail.
  const fields = DETAIL_FIELDS.flatMap((f) => [sql.lit(f), fieldSql(f, 'c')]);
  const { rows } = await sql<{ j: string }>`
    select json_build_object(${sql.join(fields)},
      'turns', coalesce((select json_agg(json_build_object('turn', ct.turn_number, 'role', ct.role, 'content', ct.content, 'tokens', ct.tokens, 'edits', ${turnEditsJson(sql`ct`)}) order by ct.turn_number)
        from studio_conversation_turns ct where ct.conversation_id = c.id), '[]'::json))::text as j
    from studio_conversations c
    where c.id = ${id}::uuid
  `.execute(db);
  return rows[0]?.j ?? null;
}

export interface StatusChange {
  status: ConversationStatus;
  note?: string | null;
  reviewer?: string | null;
}

/** The SET list of a status change: the new status, and its entry appended to review_history. */
function statusAssignments(change: StatusChange, bulk = false): RawBuilder<unknown> {
  return sql`
      status = ${change.status},
      updated_at = now(),
      review_history = c.review_history || jsonb_build_array(jsonb_build_object(
        'at', ${isoUtc(sql`now()`)}, 'from', c.status, 'to', ${change.status}::text,
        'reviewer', ${change.reviewer ?? null}::text, 'note', ${change.note ?? null}::text${bulk ? sql`, 'bulk', true` : sql``}))`;
}

/** Sets one conversation's status; `expected` guards against two reviewers racing. */
export async function changeStatus(db: Kysely<StudioDB>, id: string, change: StatusChange & { expected?: ConversationStatus }): Promise<Row> {
  const { rows } = await sql<Row>`
    update studio_conversations c set ${statusAssignments(change)}
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
    update studio_conversations c set ${statusAssignments(change, true)}
    where c.id = any(${ids}::uuid[])
    returning c.id
  `.execute(db);
  return { updated: rows.length, ids: rows.map((r) => r.id) };
}

export async function studioStats(db: Kysely<StudioDB>): Promise<{ total: number; byStatus: Record<string, number>; byTier: Record<string, number>; avgQuality: number }> {
  // One scan for every figure: grouping sets give a row per status (g = 1), per tier (g = 2) and the whole table (g = 3).
  const { rows } = await sql<{ status: string; tier: string; g: number; n: number; q: number | null }>`
    select status, tier, grouping(status, tier) as g, count(*)::int as n, avg(quality_score)::float8 as q
    from studio_conversations group by grouping sets ((status), (tier), ())
  `.execute(db);
  const byStatus: Record<string, number> = {};
  const byTier: Record<string, number> = {};
  let total = 0;
  let avg = 0;
  for (const r of rows) {
    if (r.g === 1) byStatus[r.status] = r.n;
    else if (r.g === 2) byTier[r.tier] = r.n;
    else {
      total = r.n;
      avg = r.q ?? 0;
    }
  }
  return { total, byStatus, byTier, avgQuality: Math.round(avg * 100) / 100 };
}

// ------------------------------------------------------------------ templates and scenarios

export const listTemplates = (db: Kysely<StudioDB>) => db.selectFrom('studio_templates').selectAll().orderBy('name').execute();

export const insertTemplate = (db: Kysely<StudioDB>, b: TemplateInput) =>
  db
    .insertInto('studio_templates')
    .values({ ...b, variables: JSON.stringify(b.variables ?? []) })
    .returningAll()
    .executeTakeFirstOrThrow();

export const updateTemplate = (db: Kysely<StudioDB>, id: string, b: TemplateInput) =>
  db
    .updateTable('studio_templates')
    .set({ ...b, variables: JSON.stringify(b.variables ?? []), updated_at: sql<Date>`now()` })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();

/** A queued or running job generating from the template, if any (it may not be deleted then). */
export const activeJobOfTemplate = (db: Kysely<StudioDB>, templateId: string) =>
  db.selectFrom('studio_generation_jobs').select('id').where('template_id', '=', templateId).where('status', 'in', ['queued', 'running']).executeTakeFirst();

/** Deletes one row; whether it existed. */
export async function deleteTemplate(db: Kysely<StudioDB>, id: string): Promise<boolean> {
  return Number((await db.deleteFrom('studio_templates').where('id', '=', id).executeTakeFirst()).numDeletedRows) > 0;
}

export const listScenarios = (db: Kysely<StudioDB>) => db.selectFrom('studio_scenarios').selectAll().orderBy('name').execute();

export const insertScenario = (db: Kysely<StudioDB>, b: ScenarioInput) =>
  db
    .insertInto('studio_scenarios')
    .values({ ...b, parameters: JSON.stringify(b.parameters ?? {}) })
    .returningAll()
    .executeTakeFirstOrThrow();

export const updateScenario = (db: Kysely<StudioDB>, id: string, b: ScenarioInput) =>
  db
    .updateTable('studio_scenarios')
    .set({ ...b, category: b.category ?? [], parameters: JSON.stringify(b.parameters ?? {}), updated_at: sql<Date>`now()` })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();

export async function deleteScenario(db: Kysely<StudioDB>, id: string): Promise<boolean> {
  return Number((await db.deleteFrom('studio_scenarios').where('id', '=', id).executeTakeFirst()).numDeletedRows) > 0;
}

// ------------------------------------------------------------------ generation jobs

export const templateExists = async (db: Kysely<StudioDB>, id: string) => (await db.selectFrom('studio_templates').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;

/** The ids among `ids` that name no scenario. */
export async function missingScenarios(db: Kysely<StudioDB>, ids: string[]): Promise<string[]> {
  if (!ids.length) return [];
  const found = new Set((await db.selectFrom('studio_scenarios').select('id').where('id', 'in', ids).execute()).map((f) => f.id));
  return ids.filter((id) => !found.has(id));
}

export const insertJob = (db: Kysely<StudioDB>, job: { templateId: string; scenarioIds: string[]; count: number; generator: string }) =>
  db
    .insertInto('studio_generation_jobs')
    .values({ template_id: job.templateId, scenario_ids: job.scenarioIds, requested: job.count, generator: job.generator })
    .returningAll()
    .executeTakeFirstOrThrow();

export const recentJobs = (db: Kysely<StudioDB>, limit: number) => db.selectFrom('studio_generation_jobs').selectAll().orderBy('created_at', 'desc').limit(limit).execute();

export const getJob = (db: Kysely<StudioDB>, id: string) => db.selectFrom('studio_generation_jobs').selectAll().where('id', '=', id).executeTakeFirst();

// ------------------------------------------------------------------ operations

/** Top statements by total time (PostgreSQL with pg_stat_statements preloaded). */
export async function topStatements(db: Kysely<StudioDB>, limit: number) {
  await sql`create extension if not exists pg_stat_statements`.execute(db);
  const { rows } = await sql<{ query: string; calls: number; total_ms: number; mean_ms: number; rows: number }>`
    select query, calls::int as calls, total_exec_time as total_ms, mean_exec_time as mean_ms, rows::int as rows
    from pg_stat_statements where dbid = (select oid from pg_database where datname = current_database())
    order by total_exec_time desc limit ${limit}`.execute(db);
  return rows;
}

