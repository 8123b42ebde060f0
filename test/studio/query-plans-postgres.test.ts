/**
 * On PostgreSQL with 100,000 conversations (ANALYZEd), the statements the API runs for the list,
 * its filters and sorts, page 2 via a cursor, full-text search, the count and the review queue
 * are answered through indexes: no sequential scan of studio_conversations in any plan.
 */
import { describe, before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql, type RawBuilder } from 'kysely';
import { startPostgres, type PostgresInstance } from '../helpers/postgres.js';
import { openDatabase, type Database } from '../../src/db/database.js';
import { migrations } from '../../src/apps/studio/migrations.js';
import { seedStudioBulk } from '../../src/apps/studio/seed.js';
import { EXACT_COUNT_CAP, RANK_CANDIDATES, TRUSTED_ESTIMATE, WALK_BUDGET, countConversations, listQuery } from '../../src/apps/studio/queries.js';
import { DEFAULT_FIELDS, encodeCursor, parseFilters, parseSort, whereOf, type ListQuery } from '../../src/apps/studio/filters.js';
import type { StudioDB } from '../../src/apps/studio/types.js';
import { generatorPlanTests, seedGeneratorMix } from './generator-plans.js';

const ROWS = 100_000;

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

describe('studio query plans on PostgreSQL with 100,000 rows', () => {
  let pg: PostgresInstance;
  let database: Database<StudioDB>;

  before(async () => {
    pg = await startPostgres();
    database = await openDatabase<StudioDB>({ url: pg.url, dataDir: '.', poolSize: 4 });
    await database.migrate('studio', migrations);
    // Plans depend on rows and statistics, not on turn text: seed without turns, and let the
    // database copy a pool of distinct conversations with generate_series (seconds, not minutes).
    await seedStudioBulk(database.db, { count: ROWS, withTurns: false });
    // Statistics from every row rather than a 30,000-row sample: a common word sits near the point
    // where walking the recency index and reading GIN cost the same at this size, and a sampled
    // frequency estimate now and then tipped the planner to the other side (a flaky plan test).
    await sql`alter table studio_conversations alter column search set statistics 1000`.execute(database.db);
    await sql`analyze studio_conversations`.execute(database.db);
  });
  after(async () => {
    await database?.close();
    await pg?.stop();
  });

  /** The executed plan's nodes, with their actual row counts (EXPLAIN ANALYZE). */
  async function analysedNodes(query: RawBuilder<unknown>): Promise<PlanNode[]> {
    const json = await sql<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>`explain (analyze, format json) ${query}`.execute(database.db);
    return nodes(json.rows[0]['QUERY PLAN'][0].Plan);
  }

  async function plan(query: RawBuilder<unknown>): Promise<{ root: PlanNode; text: string }> {
    const json = await sql<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>`explain (format json) ${query}`.execute(database.db);
    const text = await sql<{ 'QUERY PLAN': string }>`explain ${query}`.execute(database.db);
    return { root: json.rows[0]['QUERY PLAN'][0].Plan, text: text.rows.map((r) => r['QUERY PLAN']).join('\n') };
  }

  async function assertIndexed(name: string, query: RawBuilder<unknown>, expectIndex?: RegExp): Promise<void> {
    const { root, text } = await plan(query);
    const onTable = nodes(root).filter((n) => n['Relation Name'] === 'studio_conversations');
    assert.ok(onTable.length > 0, `${name}: the plan reads studio_conversations\n${text}`);
    for (const n of onTable) assert.notEqual(n['Node Type'], 'Seq Scan', `${name}: sequential scan\n${text}`);
    const indexes = nodes(root).map((n) => n['Index Name']).filter(Boolean).join(' ');
    if (expectIndex) assert.match(indexes, expectIndex, `${name}: expected ${expectIndex}\n${text}`);
  }

  const list = (q: ListQuery) => {
    const filters = parseFilters(q);
    return listQuery({ filters, sort: parseSort(q, filters), limit: q.limit ?? 50, fields: DEFAULT_FIELDS, cursor: q.cursor });
  };

  test('the bulk seeder puts back every index it dropped, the seed rows\' partial one with its predicate', async () => {
    const { rows } = await sql<{ name: string; def: string }>`select indexname as name, indexdef as def from pg_indexes where tablename = 'studio_conversations' order by 1`.execute(database.db);
    const seedIndex = rows.find((r) => r.name === 'studio_conversations_seed_created_idx');
    assert.ok(seedIndex, 'the seed index exists after a bulk seed');
    assert.match(seedIndex.def, /\(created_at DESC, id DESC\) WHERE \(job_id IS NULL\)/);
    const fresh = await openDatabase<StudioDB>({ url: pg.url.replace(/\/[^/]*$/, '/postgres'), dataDir: '.', poolSize: 1 });
    try {
      await sql.raw('create database studio_plans_indexes').execute(fresh.db);
    } finally {
      await fresh.close();
    }
    const migrated = await openDatabase<StudioDB>({ url: pg.url.replace(/\/[^/]*$/, '/studio_plans_indexes'), dataDir: '.', poolSize: 1 });
    try {
      await migrated.migrate('studio', migrations);
      const expected = await sql<{ name: string; def: string }>`select indexname as name, indexdef as def from pg_indexes where tablename = 'studio_conversations' order by 1`.execute(migrated.db);
      assert.deepEqual(rows, expected.rows, 'the same indexes as a freshly migrated database');
    } finally {
      await migrated.close();
    }
  });

  test('the seeded table has 100,000 analysed rows', async () => {
    const { rows } = await sql<{ n: number; reltuples: number }>`
      select (select count(*)::int from studio_conversations) as n, reltuples::int as reltuples from pg_class where relname = 'studio_conversations'`.execute(database.db);
    assert.equal(rows[0].n, ROWS);
    assert.ok(rows[0].reltuples > ROWS * 0.9, 'ANALYZE ran');
  });

  test('the default list and every sort read an index in order', async () => {
    await assertIndexed('list', list({}), /studio_conversations_created_idx/);
    await assertIndexed('updated', list({ sort: 'updated_at' }), /updated_idx/);
    await assertIndexed('quality asc', list({ sort: 'quality_score', order: 'asc' }), /quality_idx/);
    await assertIndexed('title', list({ sort: 'title' }), /title_idx/);
    await assertIndexed('tokens', list({ sort: 'total_tokens', order: 'desc' }), /tokens_idx/);
  });

  test('page 2 (keyset cursor) seeks the index instead of skipping rows', async () => {
    const { rows } = await list({ limit: 50 }).execute(database.db);
    const last = rows[49] as { _sort: Date; id: string };
    const cursor = Buffer.from(JSON.stringify(['created_at', 'desc', last._sort.toISOString(), last.id])).toString('base64url');
    await assertIndexed('page 2', list({ cursor }), /created_idx/);
    const { text } = await plan(list({ cursor }));
    assert.match(text, /Index Cond: \(ROW\(created_at, id\) < ROW/);
  });

  test('filters use their indexes', async () => {
    await assertIndexed('status', list({ status: 'approved' }), /status_created_idx/);
    await assertIndexed('status by quality', list({ status: 'approved', sort: 'quality_score' }), /status_quality_idx/);
    await assertIndexed('tier and status', list({ tier: 'edge_case', status: 'rejected' }), /tier_status_created_idx|status_created_idx/);
    await assertIndexed('category', list({ category: 'privacy', sort: 'quality_score' }), /category_idx|quality_idx/);
    await assertIndexed('parameters containment', list({ params: '{"language":"en-GB","exchanges":4}', sort: 'quality_score' }), /parameters_idx|quality_idx/);
    // A reviewer with a handful of reviews: selective, so the GIN index beats any scan.
    await sql`update studio_conversations set review_history = review_history || '[{"reviewer":"zoe","to":"approved"}]'::jsonb
      where id in (select id from studio_conversations order by id limit 20)`.execute(database.db);
    const reviewed = parseFilters({ reviewed_by: 'zoe' });
    await assertIndexed('review history containment (count)', sql`select count(*) from studio_conversations c where ${whereOf(reviewed)}`, /review_history_idx/);
  });

  test('full-text search goes through the GIN index on the stored tsvector', async () => {
    await assertIndexed('rare word', list({ q: 'xylophone' }), /search_idx/);
    await assertIndexed('search with status', list({ q: 'thermostat offline', status: 'approved' }), /search_idx|status_created_idx/);
  });

  test('a common word finds its newest matches on index tuples alone: the recency index carries the tsvector', async () => {
    for (const q of [{ q: 'zipper' }, { q: 'frustrated', status: 'pending_review' }] as ListQuery[]) {
      type Walk = PlanNode & { Filter?: string; 'Heap Fetches'?: number; 'Actual Rows'?: number; 'Rows Removed by Filter'?: number };
      const walk = (await analysedNodes(list(q))).find((n) => n['Node Type'] === 'Index Only Scan') as Walk | undefined;
      assert.ok(walk, `${JSON.stringify(q)}: an index-only scan`);
      assert.match(walk['Index Name'] ?? '', q.status ? /status_created_idx/ : /^studio_conversations_created_idx$/);
      assert.match(walk.Filter ?? '', /search @@/, 'the match test runs on the index tuple');
      const walked = (walk['Actual Rows'] ?? 0) + (walk['Rows Removed by Filter'] ?? 0);
      // A few pages may not be marked all-visible yet; the match test itself never needs the heap.
      assert.ok((walk['Heap Fetches'] ?? 0) <= walked / 100, `${JSON.stringify(q)}: the heap is (almost) never visited\n${JSON.stringify(walk)}`);
      assert.ok(walk['Actual Rows'] === RANK_CANDIDATES, 'stops at the RANK_CANDIDATES-th match');
    }
  });

  test('relevance ranks at most the newest RANK_CANDIDATES matches of a common word, page after page', async () => {
    const q = 'frustrated';
    const matches = (await sql<{ n: number }>`select count(*)::int as n from studio_conversations c where ${whereOf(parseFilters({ q }))}`.execute(database.db)).rows[0].n;
    assert.ok(matches > RANK_CANDIDATES, `a common word: ${matches} matches`);
    const newest = new Set(
      (await sql<{ id: string }>`select c.id from studio_conversations c where ${whereOf(parseFilters({ q }))} order by c.created_at desc, c.id desc limit ${RANK_CANDIDATES}`.execute(database.db)).rows.map((r) => r.id),
    );
    const seen: { id: string; rank: number }[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 10; page++) {
      const { rows } = await list({ q, limit: 400, cursor }).execute(database.db);
      const items = rows.slice(0, 400) as unknown as { id: string; _sort: number }[];
      seen.push(...items.map((r) => ({ id: r.id, rank: r._sort })));
      if (rows.length <= 400) break;
      cursor = encodeCursor({ column: 'relevance', order: 'desc' }, items[items.length - 1]._sort, items[items.length - 1].id);
    }
    assert.equal(seen.length, RANK_CANDIDATES);
    assert.deepEqual(new Set(seen.map((r) => r.id)), newest, 'exactly the newest matches, each once');
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i - 1].rank >= seen[i].rank, 'ranked, best first, across pages');
  });

  test('a multi-word search walks the newest rows in date order, and falls back to GIN only when the walk finds too few', async () => {
    type Analysed = PlanNode & { 'Actual Loops'?: number; 'Actual Rows'?: number };
    const newestMatches = async (q: ListQuery) =>
      new Set((await sql<{ id: string }>`select c.id from studio_conversations c where ${whereOf(parseFilters(q))} order by c.created_at desc, c.id desc limit ${RANK_CANDIDATES}`.execute(database.db)).rows.map((r) => r.id));
    // Words typed together are correlated: the planner's estimate for their AND is far too low,
    // which is what the written-out walk is for. The most frequent of these pairs at this size:
    const pairs = ['gift card', 'software engineer', 'startup founder', 'flight rebooking'];
    const inWalk = async (q: string) =>
      (await sql<{ n: number }>`select count(*)::int as n from (select c.search from studio_conversations c order by c.created_at desc, c.id desc limit ${WALK_BUDGET}) w
        where w.search @@ websearch_to_tsquery('english', ${q})`.execute(database.db)).rows[0].n;
    const counts = await Promise.all(pairs.map(inWalk));
    const common = pairs[counts.indexOf(Math.max(...counts))];
    assert.ok(Math.max(...counts) >= RANK_CANDIDATES, `a pair with ${RANK_CANDIDATES} matches among the newest ${WALK_BUDGET} rows: ${counts.join(', ')}`);
    const cases: { q: ListQuery; walkFills: boolean; walkIndex: RegExp }[] = [
      { q: { q: common }, walkFills: true, walkIndex: /^studio_conversations_created_idx$/ },
      // A quarter of the rows are approved: the walk reads all of them and finds fewer than RANK_CANDIDATES.
      { q: { q: common, status: 'approved' }, walkFills: false, walkIndex: /status_created_idx/ },
      { q: { q: 'xylophone quartz' }, walkFills: false, walkIndex: /^studio_conversations_created_idx$/ },
    ];
    for (const { q, walkFills, walkIndex } of cases) {
      const all = (await analysedNodes(list({ ...q, limit: RANK_CANDIDATES }))) as Analysed[];
      const walk = all.find((n) => n['Node Type'] === 'Index Only Scan' && walkIndex.test(n['Index Name'] ?? ''));
      assert.ok(walk && walk['Actual Loops'] === 1, `${JSON.stringify(q)}: walks ${walkIndex} newest first`);
      assert.ok((walk['Actual Rows'] ?? 0) <= WALK_BUDGET, 'the walk is bounded');
      const gin = all.find((n) => n['Index Name'] === 'studio_conversations_search_idx');
      assert.ok(gin, `${JSON.stringify(q)}: the GIN fallback is planned`);
      assert.equal(gin['Actual Loops'], walkFills ? 0 : 1, `${JSON.stringify(q)}: GIN ${walkFills ? 'never executed' : 'read'}`);
      const { rows } = await list({ ...q, limit: RANK_CANDIDATES }).execute(database.db);
      const expected = await newestMatches(q);
      assert.equal(rows.length, expected.size, `${JSON.stringify(q)}: one page holds every candidate`);
      assert.deepEqual(new Set(rows.map((r) => r.id)), expected, `${JSON.stringify(q)}: exactly the newest matches`);
      if (walkFills) assert.equal(expected.size, RANK_CANDIDATES);
    }
  });

  test('the review queue reads its partial index', async () => {
    await assertIndexed('review queue', list({ status: 'pending_review', sort: 'created_at', order: 'asc' }), /review_queue_idx|status_created_idx/);
    const pending = sql`select id from studio_conversations c where c.status = 'pending_review' order by c.created_at, c.id limit 51`;
    await assertIndexed('review queue (direct)', pending, /review_queue_idx/);
  });

  test('the count answers a broad filter from the planner estimate alone and counts a narrow one exactly', async () => {
    const statements: string[] = [];
    const stop = database.onQuery((_ms, text) => statements.push(text.trimStart().split(/\s+/)[0]));
    try {
      const truth = async (q: ListQuery) => (await sql<{ n: number }>`select count(*)::int as n from studio_conversations c where ${whereOf(parseFilters(q))}`.execute(database.db)).rows[0].n;
      const broad = await countConversations(database.db, parseFilters({ status: 'pending_review' }));
      assert.deepEqual(statements, ['explain'], 'planning only: no row is read');
      assert.equal(broad.exact, false);
      assert.ok(broad.count >= TRUSTED_ESTIMATE);
      const actual = await truth({ status: 'pending_review' });
      assert.ok(Math.abs(broad.count - actual) / actual < 0.1, `estimate ${broad.count} vs ${actual}`);
      statements.length = 0;
      const narrow = await countConversations(database.db, parseFilters({ status: 'failed', tier: 'edge_case' }));
      assert.deepEqual(narrow, { count: await truth({ status: 'failed', tier: 'edge_case' }), exact: true });
      assert.ok(narrow.count <= EXACT_COUNT_CAP);
      assert.deepEqual(statements.slice(0, 2), ['explain', 'select']);
    } finally {
      stop();
    }
  });

  test('the capped count of a filter bar (status, tier, quality, category) is an index-only scan of the count index', async () => {
    for (const q of [
      { status: 'approved', tier: 'scenario', category: 'refunds' },
      { status: 'needs_revision', tier: 'scenario', quality_min: 6 },
      { status: 'pending_review', quality_min: 8, category: 'shipping' },
    ] as ListQuery[]) {
      const capped = sql`select count(*) from (select 1 from studio_conversations c where ${whereOf(parseFilters(q))} limit ${EXACT_COUNT_CAP + 1}) s`;
      const { root, text } = await plan(capped);
      const onTable = nodes(root).filter((n) => n['Relation Name'] === 'studio_conversations');
      assert.deepEqual(onTable.map((n) => `${n['Node Type']} ${n['Index Name']}`), ['Index Only Scan studio_conversations_count_idx'], `${JSON.stringify(q)}\n${text}`);
    }
  });

  test('the capped count reads an index, not the table', async () => {
    const filters = parseFilters({ status: 'approved', tier: 'template' });
    await assertIndexed('count', sql`select count(*) from (select 1 from studio_conversations c where ${whereOf(filters)} limit 10001) s`);
  });
});

describe('studio query plans on PostgreSQL: the generator filter', () => {
  let pg: PostgresInstance;
  let database: Database<StudioDB>;
  let seedRows = 0;
  before(async () => {
    pg = await startPostgres();
    database = await openDatabase<StudioDB>({ url: pg.url, dataDir: '.', poolSize: 2 });
    await database.migrate('studio', migrations);
    ({ seedRows } = await seedGeneratorMix(database.db, 40_000));
  });
  after(async () => {
    await database?.close();
    await pg?.stop();
  });
  generatorPlanTests(
    () => database.db,
    () => seedRows,
  );
});
