/**
 * @module test/studio/generator-plans
 * Query plans of the generator filter, run on PostgreSQL and on PGlite (query-plans-*.test.ts):
 * a catalogue where most rows come from jobs and 2 % are seed rows. `generator=seed` (job_id is
 * null) reads its partial index newest first and its count reads an index; without
 * that index (dropped inside a rolled-back transaction, the peer in the same test) the same page
 * examines many times more rows.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sql, type Kysely, type RawBuilder } from 'kysely';
import { countConversations, listQuery } from '../../src/apps/studio/queries.js';
import { DEFAULT_FIELDS, parseFilters, parseSort, whereOf, type ListQuery } from '../../src/apps/studio/filters.js';
import type { StudioDB } from '../../src/apps/studio/types.js';

export interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  'Rows Removed by Filter'?: number;
  Plans?: PlanNode[];
}

export const planNodes = (plan: PlanNode): PlanNode[] => [plan, ...(plan.Plans ?? []).flatMap(planNodes)];

const SEED_INDEX = 'studio_conversations_seed_created_idx';
/** One row in this many has no job (a seed row). */
const SEED_EVERY = 50;

/** `rows` conversations: one in SEED_EVERY without a job, a quarter of the rest by an LLM job, the others by an offline job. */
export async function seedGeneratorMix(db: Kysely<StudioDB>, rows: number): Promise<{ seedRows: number }> {
  const template = (
    await sql<{ id: string }>`insert into studio_templates (name, system_prompt, opening_line) values ('plans', 'You help.', 'Hello') returning id`.execute(db)
  ).rows[0].id;
  const job = async (generator: string) =>
    (await sql<{ id: string }>`insert into studio_generation_jobs (template_id, scenario_ids, requested, status, generator) values (${template}::uuid, '{}', ${rows}, 'completed', ${generator}) returning id`.execute(db)).rows[0].id;
  const offline = await job('offline');
  const llm = await job('openai-compatible');
  await sql`
    insert into studio_conversations (title, tier, status, quality_score, job_id, created_at, updated_at)
    select 'conversation ' || g, 'template', (array['generated', 'pending_review', 'approved', 'rejected'])[1 + g % 4], (g % 101) / 10.0,
      case when g % ${SEED_EVERY}::int = 0 then null when g % 4 = 1 then ${llm}::uuid else ${offline}::uuid end,
      now() - g * interval '1 minute', now() - g * interval '1 minute'
    from generate_series(1, ${rows}::int) g`.execute(db);
  // Index-only scans need the visibility map; a table this old has been vacuumed already.
  await sql`vacuum analyze studio_conversations`.execute(db);
  await sql`analyze studio_generation_jobs`.execute(db);
  return { seedRows: Math.floor(rows / SEED_EVERY) };
}

/** The generator filter's plan tests against `db()` (seeded with seedGeneratorMix). */
export function generatorPlanTests(db: () => Kysely<StudioDB>, seedRows: () => number): void {
  const list = (q: ListQuery) => {
    const filters = parseFilters(q);
    return listQuery({ filters, sort: parseSort(q, filters), limit: 50, fields: DEFAULT_FIELDS });
  };
  const explain = async (query: RawBuilder<unknown>, analyse: boolean, on: Kysely<StudioDB> = db()) => {
    const json = await sql<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>`explain (${sql.raw(analyse ? 'analyze, ' : '')}format json) ${query}`.execute(on);
    const root = json.rows[0]['QUERY PLAN'][0].Plan;
    return { nodes: planNodes(root), text: JSON.stringify(root, null, 1) };
  };
  /** Rows the plan read from studio_conversations (returned plus filtered out, over every loop). */
  const examined = (nodes: PlanNode[]) =>
    nodes.filter((n) => n['Relation Name'] === 'studio_conversations').reduce((sum, n) => sum + ((n['Actual Rows'] ?? 0) + (n['Rows Removed by Filter'] ?? 0)) * (n['Actual Loops'] ?? 1), 0);

  test('generator=seed: the page reads the seed rows\' partial index newest first; without it the same page examines many times more rows', async () => {
    const { nodes, text } = await explain(list({ generator: 'seed' }), true);
    const onTable = nodes.filter((n) => n['Relation Name'] === 'studio_conversations');
    assert.deepEqual(onTable.map((n) => n['Index Name']), [SEED_INDEX], `one read, of the seed index\n${text}`);
    assert.ok(!nodes.some((n) => n['Node Type'] === 'Sort'), `already in order: no sort\n${text}`);
    const withIndex = examined(nodes);
    assert.ok(withIndex <= 51, `a page examines ${withIndex} rows`);

    // The peer: the same statement without the index, in a transaction that is rolled back.
    let withoutIndex = 0;
    await db()
      .transaction()
      .execute(async (tx) => {
        await sql`drop index ${sql.id(SEED_INDEX)}`.execute(tx);
        withoutIndex = examined((await explain(list({ generator: 'seed' }), true, tx)).nodes);
        throw new Error('roll back');
      })
      .catch((err: Error) => assert.equal(err.message, 'roll back'));
    assert.ok(withoutIndex >= 10 * withIndex, `without the index ${withoutIndex} rows examined, with it ${withIndex}`);
    const still = await sql<{ n: number }>`select count(*)::int as n from pg_indexes where indexname = ${SEED_INDEX}`.execute(db());
    assert.equal(still.rows[0].n, 1, 'the index is back after the rollback');

    const { rows } = await list({ generator: 'seed' }).execute(db());
    const truth = await sql<{ id: string }>`select id from studio_conversations where job_id is null order by created_at desc, id desc limit 51`.execute(db());
    assert.deepEqual(rows.map((r) => r.id), truth.rows.map((r) => r.id), 'the newest seed rows, in order');
  });

  test('generator=seed: the count is exact and reads an index, not the table', async () => {
    const filters = parseFilters({ generator: 'seed' });
    assert.deepEqual(await countConversations(db(), filters), { count: seedRows(), exact: true });
    const { nodes, text } = await explain(sql`select count(*) from (select 1 from studio_conversations c where ${whereOf(filters)} limit 10001) s`, false);
    const onTable = nodes.filter((n) => n['Relation Name'] === 'studio_conversations');
    // Either index finds the rows of `job_id is null` (PGlite chose an index-only scan of the
    // job_id btree, PostgreSQL a bitmap of it); what matters is that no plan reads the whole table.
    assert.ok(onTable.length > 0, text);
    for (const n of onTable) assert.notEqual(n['Node Type'], 'Seq Scan', text);
    const indexes = nodes.map((n) => n['Index Name']).filter(Boolean);
    assert.ok(indexes.length > 0 && indexes.every((name) => /^studio_conversations_(seed_created|job)_idx$/.test(name!)), text);
  });

  test('generator=seed with a status or another generator: no sequential scan, and the rows the filter means', async () => {
    const llmJob = sql`(select id from studio_generation_jobs where generator = 'openai-compatible')`;
    const cases: [ListQuery, RawBuilder<unknown>][] = [
      [{ generator: 'seed', status: 'approved' }, sql`job_id is null and status = 'approved'`],
      [{ generator: 'seed,openai-compatible' }, sql`job_id is null or job_id in ${llmJob}`],
      [{ generator: 'openai-compatible' }, sql`job_id in ${llmJob}`],
    ];
    for (const [q, meaning] of cases) {
      const { nodes, text } = await explain(list(q), false);
      for (const n of nodes.filter((n) => n['Relation Name'] === 'studio_conversations')) assert.notEqual(n['Node Type'], 'Seq Scan', `${JSON.stringify(q)}: sequential scan\n${text}`);
      const { rows } = await list(q).execute(db());
      const truth = await sql<{ id: string }>`select id from studio_conversations where ${meaning} order by created_at desc, id desc limit 51`.execute(db());
      assert.equal(rows.length, 51, `${JSON.stringify(q)}: a full page`);
      assert.deepEqual(rows.map((r) => r.id), truth.rows.map((r) => r.id), `${JSON.stringify(q)}: the newest matching rows`);
    }
  });
}
