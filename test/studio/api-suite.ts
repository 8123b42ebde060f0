/**
 * The studio API specification, run against one database engine (api-pglite.test.ts and
 * api-postgres.test.ts each call it): filters, every sort, cursors under concurrent inserts,
 * ranked search, status changes and bulk actions, caches, export, jobs and bad input.
 */
import { describe, before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type Server } from 'node:http';
import { sql } from 'kysely';
import { startServer, RawClient, adminFetch, TEST_JWT_SECRET } from '../helpers/server.js';
import { mintToken } from '../../src/auth/tokens.js';
import { createStudioApp } from '../../src/apps/studio/index.js';
import { seedStudio } from '../../src/apps/studio/seed.js';
import { insertConversations } from '../../src/apps/studio/store.js';
import { writeConversation } from '../../src/apps/studio/content.js';
import { seededRandom } from '../../src/core/random.js';
import { RANK_CANDIDATES } from '../../src/apps/studio/queries.js';
import type { Database } from '../../src/db/database.js';
import type { StudioDB } from '../../src/apps/studio/types.js';

type Server_ = Awaited<ReturnType<typeof startServer>>;
type Item = Record<string, unknown> & { id: string };
const API = '/api/v1/studio';
const SEEDED = 400;

export interface SuiteOptions {
  engine: 'pglite' | 'postgres';
  /** The database URL to use (a fresh PostgreSQL database, or pglite://memory). */
  databaseUrl(): string;
}

async function getJson<T = Record<string, unknown>>(server: Server_, path: string, init?: RequestInit): Promise<{ status: number; body: T; headers: Headers }> {
  const res = await adminFetch(server.url + path, init);
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T, headers: res.headers };
}

const post = (body: unknown, method = 'POST'): RequestInit => ({ method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** Walks every page of a list query; returns the rows in order. */
async function walk(server: Server_, query: string, limit = 50): Promise<Item[]> {
  const rows: Item[] = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 1000; pages++) {
    const page: { status: number; body: { items: Item[]; nextCursor: string | null } } = await getJson(server, `${API}/conversations?${query}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
    const { status, body } = page;
    assert.equal(status, 200, JSON.stringify(body));
    rows.push(...body.items);
    cursor = body.nextCursor;
    if (!cursor) return rows;
  }
  throw new Error('too many pages');
}

function compare(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const x = String(a);
  const y = String(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

export function studioApiSuite(options: SuiteOptions): void {
  describe(`studio API on ${options.engine}`, () => {
    let server: Server_;
    let database: Database<StudioDB>;

    before(async () => {
      server = await startServer(
        { databaseUrl: options.databaseUrl() },
        {
          apps: [
            createStudioApp({
              onReady: async (d) => {
                database = d;
              },
            }),
          ],
        },
      );
      await seedStudio(database.db, { count: SEEDED, seed: 7 });
    });
    after(async () => server?.close());

    test('the default list is newest first and its cursor pages cover every row exactly once', async () => {
      const rows = await walk(server, 'fields=id,created_at', 37);
      assert.equal(rows.length, SEEDED);
      assert.equal(new Set(rows.map((r) => r.id)).size, SEEDED);
      for (let i = 1; i < rows.length; i++) assert.ok(compare(rows[i - 1].created_at, rows[i].created_at) >= 0, 'created_at descending');
      const count = await getJson<{ count: number; exact: boolean }>(server, `${API}/conversations/count`);
      assert.deepEqual(count.body, { count: SEEDED, exact: true });
    });

    for (const sort of ['created_at', 'updated_at', 'quality_score', 'title', 'total_tokens'] as const) {
      for (const order of ['asc', 'desc'] as const) {
        test(`sort=${sort}&order=${order} is ordered by ${sort} then id and pages without gaps or repeats`, async () => {
          const rows = await walk(server, `sort=${sort}&order=${order}&fields=id,${sort}&status=pending_review,approved,generated`, 29);
          const expected = await getJson<{ count: number }>(server, `${API}/conversations/count?status=pending_review,approved,generated`);
          assert.equal(rows.length, expected.body.count);
          assert.equal(new Set(rows.map((r) => r.id)).size, rows.length);
          const sign = order === 'asc' ? 1 : -1;
          for (let i = 1; i < rows.length; i++) {
            const c = compare(rows[i - 1][sort], rows[i][sort]) || compare(rows[i - 1].id, rows[i].id);
            assert.ok(sign * c < 0, `row ${i} out of order: ${JSON.stringify(rows[i - 1])} then ${JSON.stringify(rows[i])}`);
          }
        });
      }
    }

    test('filters by status, tier, category, quality range, dates and parameter containment together', async () => {
      const from = new Date(Date.now() - 90 * 86400_000).toISOString();
      const q = `status=approved,pending_review&tier=template,scenario&category=billing,refunds,technical&quality_min=4&quality_max=9&created_from=${from}&params=${encodeURIComponent('{"language":"en"}')}`;
      const rows = await walk(server, `${q}&fields=id,status,tier,category,quality_score,created_at,parameters`);
      assert.ok(rows.length > 0, 'the seed has matching rows');
      for (const r of rows) {
        assert.ok(['approved', 'pending_review'].includes(r.status as string));
        assert.ok(['template', 'scenario'].includes(r.tier as string));
        assert.ok((r.category as string[]).some((c) => ['billing', 'refunds', 'technical'].includes(c)));
        assert.ok((r.quality_score as number) >= 4 && (r.quality_score as number) <= 9);
        assert.ok(new Date(r.created_at as string) >= new Date(from));
        assert.equal((r.parameters as { language: string }).language, 'en');
      }
      const { rows: truth } = await sql<{ n: number }>`
        select count(*)::int as n from studio_conversations where status in ('approved','pending_review') and tier in ('template','scenario')
        and category && array['billing','refunds','technical'] and quality_score between 4 and 9 and created_at >= ${from}::timestamptz
        and parameters @> '{"language":"en"}'`.execute(database.db);
      assert.equal(rows.length, truth[0].n);
      const count = await getJson<{ count: number }>(server, `${API}/conversations/count?${q}`);
      assert.equal(count.body.count, truth[0].n);
    });

    test('fields= returns only the requested columns (plus id) and resolves template names in one batch', async () => {
      const { body } = await getJson<{ items: Item[] }>(server, `${API}/conversations?fields=title,template_name&limit=20`);
      assert.equal(body.items.length, 20);
      for (const item of body.items) {
        assert.deepEqual(Object.keys(item).sort(), ['id', 'template_name', 'title']);
        assert.equal(typeof item.template_name, 'string');
      }
    });

    test('a cursor stays stable while new rows are inserted ahead of it', async () => {
      const first = await getJson<{ items: Item[]; nextCursor: string }>(server, `${API}/conversations?fields=id,created_at&limit=100`);
      const before = await walk(server, 'fields=id', 100);
      const rng = seededRandom(99);
      const fresh = Array.from({ length: 30 }, () => ({ ...writeConversation({ rng }), createdAt: new Date(Date.now() + 60_000) }));
      const freshIds = await insertConversations(database.db, fresh);
      const rest: Item[] = [];
      let cursor: string | null = first.body.nextCursor;
      while (cursor) {
        const page: { body: { items: Item[]; nextCursor: string | null } } = await getJson(server, `${API}/conversations?fields=id&limit=100&cursor=${cursor}`);
        rest.push(...page.body.items);
        cursor = page.body.nextCursor;
      }
      const seen = [...first.body.items, ...rest].map((r) => r.id);
      assert.deepEqual(seen, before.map((r) => r.id), 'the walk that started before the insert sees exactly the old rows, in order');
      assert.ok(!seen.some((id) => freshIds.includes(id)));
      await database.db.deleteFrom('studio_conversations').where('id', 'in', freshIds).execute();
    });

    test('full-text search ranks a title match above a persona-only match', async () => {
      const rng = seededRandom(5);
      const base = writeConversation({ rng });
      const [inTitle, inPersona] = await insertConversations(database.db, [
        { ...base, title: 'Zephyrine router keeps rebooting', persona: 'plumber' },
        { ...base, title: 'Unrelated question about invoices', persona: 'zephyrine collector' },
      ]);
      const { status, body } = await getJson<{ items: Item[] }>(server, `${API}/conversations?q=zephyrine&fields=id,title`);
      assert.equal(status, 200);
      assert.deepEqual(body.items.map((i) => i.id), [inTitle, inPersona]);
      const phrase = await getJson<{ items: Item[] }>(server, `${API}/conversations?q=${encodeURIComponent('"zephyrine router" -invoices')}`);
      assert.deepEqual(phrase.body.items.map((i) => i.id), [inTitle]);
      const paged = await walk(server, 'q=frustrated&fields=id', 7);
      const count = await getJson<{ count: number }>(server, `${API}/conversations/count?q=frustrated`);
      assert.ok(paged.length > 7, 'several pages of relevance-ranked results');
      assert.equal(paged.length, count.body.count);
      assert.equal(new Set(paged.map((r) => r.id)).size, paged.length);
      await database.db.deleteFrom('studio_conversations').where('id', 'in', [inTitle, inPersona]).execute();
    });

    test('a search of several words with more than RANK_CANDIDATES matches ranks exactly the newest of them', async () => {
      // Enough matches for the date-ordered walk to fill (queries.ts candidatesOf), on either engine.
      const rng = seededRandom(17);
      const base = writeConversation({ rng });
      const start = Date.now() - 3_600_000;
      const rows = Array.from({ length: RANK_CANDIDATES + 100 }, (_, i) => ({
        ...base,
        title: i % 3 ? `Quillfeather voucher question ${i}` : `Quillfeather voucher, quillfeather voucher again ${i}`,
        createdAt: new Date(start + i * 1000),
      }));
      const ids = await insertConversations(database.db, rows, { withTurns: false });
      try {
        const ranked = await walk(server, `q=${encodeURIComponent('quillfeather voucher')}&fields=id`, 200);
        const newest = new Set(ids.slice(-RANK_CANDIDATES));
        assert.equal(ranked.length, RANK_CANDIDATES);
        assert.deepEqual(new Set(ranked.map((r) => r.id)), newest, 'the newest RANK_CANDIDATES matches, each once');
        const count = await getJson<{ count: number }>(server, `${API}/conversations/count?q=${encodeURIComponent('quillfeather voucher')}`);
        assert.equal(count.body.count, RANK_CANDIDATES + 100, 'the count still counts every match');
        const first = await getJson<{ items: Item[] }>(server, `${API}/conversations?q=${encodeURIComponent('quillfeather voucher')}&fields=id,title&limit=5`);
        assert.ok(first.body.items.every((i) => /again/.test(String(i.title))), 'titles with the words twice rank first');
      } finally {
        await database.db.deleteFrom('studio_conversations').where('id', 'in', ids).execute();
      }
    });

    test('a detail carries its turns in order, template and scenario names', async () => {
      const { body: list } = await getJson<{ items: Item[] }>(server, `${API}/conversations?limit=1&fields=id,turn_count`);
      const { status, body } = await getJson<Item & { turns: { turn: number; role: string; content: string }[] }>(server, `${API}/conversations/${list.items[0].id}`);
      assert.equal(status, 200);
      assert.equal(body.turns.length, list.items[0].turn_count);
      assert.deepEqual(body.turns.map((t) => t.turn), body.turns.map((_, i) => i));
      assert.equal(body.turns[0].role, 'system');
      assert.equal(typeof body.template_name, 'string');
      const missing = await getJson(server, `${API}/conversations/00000000-0000-4000-8000-000000000000`);
      assert.equal(missing.status, 404);
      assert.equal((missing.body as { error: { code: string } }).error.code, 'not_found');
    });

    test('list items and details are the database row as JSON: ISO 8601 UTC timestamps with milliseconds, numbers, arrays, objects, names', async () => {
      const fields = 'id,title,category,quality_score,parameters,review_history,template_id,template_name,scenario_name,total_tokens,created_at,updated_at';
      const res = await adminFetch(`${server.url}${API}/conversations?status=approved&limit=5&fields=${fields}`);
      assert.match(res.headers.get('content-type') ?? '', /^application\/json; charset=utf-8/);
      const { items } = (await res.json()) as { items: Item[] };
      assert.equal(items.length, 5);
      const rows = await database.db
        .selectFrom('studio_conversations as c')
        .leftJoin('studio_templates as t', 't.id', 'c.template_id')
        .leftJoin('studio_scenarios as s', 's.id', 'c.scenario_id')
        .select(['c.id', 'c.title', 'c.category', 'c.quality_score', 'c.parameters', 'c.review_history', 'c.template_id', 't.name as template_name', 's.name as scenario_name', 'c.total_tokens', 'c.created_at', 'c.updated_at'])
        .where('c.id', 'in', items.map((i) => i.id))
        .execute();
      for (const item of items) {
        assert.deepEqual(Object.keys(item), fields.split(','), 'exactly the requested fields, in the requested order');
        const row = rows.find((r) => r.id === item.id)!;
        assert.deepEqual(item, { ...row, created_at: row.created_at.toISOString(), updated_at: row.updated_at.toISOString() });
        assert.match(item.created_at as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      }
      const detail = await getJson<Item & { turns: unknown[] }>(server, `${API}/conversations/${items[0].id}`);
      const { turns, ...rest } = detail.body;
      assert.ok(turns.length > 0);
      for (const f of fields.split(',')) assert.deepEqual(rest[f], items[0][f], `detail ${f} equals the list's`);
      assert.equal(Object.keys(rest).length, 22, 'every conversation field (with generator)');
    });

    test('a status change appends to review_history; a stale expected status is refused with 409', async () => {
      const { body: list } = await getJson<{ items: Item[] }>(server, `${API}/conversations?status=pending_review&limit=1&fields=id`);
      const id = list.items[0].id;
      const res = await getJson<{ status: string; review_history: { from: string; to: string; reviewer: string; note: string }[] }>(
        server,
        `${API}/conversations/${id}`,
        post({ status: 'approved', expected: 'pending_review', reviewer: 'tess', note: 'clean' }, 'PATCH'),
      );
      assert.equal(res.status, 200);
      assert.equal(res.body.status, 'approved');
      const last = res.body.review_history.at(-1)!;
      assert.deepEqual([last.from, last.to, last.reviewer, last.note], ['pending_review', 'approved', 'tess', 'clean']);
      const stale = await getJson<{ error: { code: string } }>(server, `${API}/conversations/${id}`, post({ status: 'rejected', expected: 'pending_review' }, 'PATCH'));
      assert.equal(stale.status, 409);
      assert.equal(stale.body.error.code, 'conflict');
    });

    test('a bulk action updates hundreds of rows in one request and records each previous status', async () => {
      const rows = await walk(server, 'status=generated&fields=id,status', 500);
      const ids = rows.slice(0, 60).map((r) => r.id);
      const res = await getJson<{ updated: number }>(server, `${API}/conversations/bulk`, post({ ids, status: 'rejected', reviewer: 'bulk-bot', note: 'off-policy' }));
      assert.equal(res.status, 200);
      assert.equal(res.body.updated, ids.length);
      const { rows: check } = await sql<{ n: number }>`
        select count(*)::int as n from studio_conversations
        where id = any(${ids}::uuid[]) and status = 'rejected' and review_history @> '[{"from":"generated","to":"rejected","bulk":true}]'`.execute(database.db);
      assert.equal(check[0].n, ids.length);
      const filtered = await getJson<{ count: number }>(server, `${API}/conversations/count?status=generated`);
      assert.equal(filtered.body.count, rows.length - ids.length);
    });

    test('templates are served from a 5-minute cache that a write invalidates', async () => {
      const hits = async () => {
        const text = await (await adminFetch(`${server.url}/metrics`)).text();
        const m = /studio_cache_requests_total\{cache="templates",result="hit"\} (\d+)/.exec(text);
        return m ? Number(m[1]) : 0;
      };
      const a = await getJson<{ items: { name: string }[] }>(server, `${API}/templates`);
      const hitsBefore = await hits();
      await getJson(server, `${API}/templates`);
      assert.equal(await hits(), hitsBefore + 1, 'second read is a cache hit');
      const created = await getJson<{ id: string }>(server, `${API}/templates`, post({ name: 'Cache probe', system_prompt: 'Be brief.', opening_line: 'Hi about {topic}', variables: [{ name: 'x', values: ['1'] }] }));
      assert.equal(created.status, 201);
      const b = await getJson<{ items: { name: string }[] }>(server, `${API}/templates`);
      assert.equal(b.body.items.length, a.body.items.length + 1);
      assert.ok(b.body.items.some((t) => t.name === 'Cache probe'));
      const dup = await getJson<{ error: { code: string } }>(server, `${API}/templates`, post({ name: 'Cache probe', system_prompt: 'x', opening_line: 'y' }));
      assert.equal(dup.status, 409);
      await getJson(server, `${API}/templates/${created.body.id}`, { method: 'DELETE' });
      const c = await getJson<{ items: unknown[] }>(server, `${API}/templates`);
      assert.equal(c.body.items.length, a.body.items.length);
    });

    test('every bad parameter is a 400 bad_request naming the parameter', async () => {
      const cases: [string, RegExp][] = [
        ['conversations?cursor=not-a-cursor', /^cursor/],
        ['conversations?status=approved,bogus', /^status: unknown value "bogus"/],
        ['conversations?tier=gold', /^tier/],
        ['conversations?params=%7Bnot-json', /^params: malformed JSON/],
        ['conversations?params=%5B1%2C2%5D', /^params: expected a JSON object/],
        ['conversations?limit=0', /limit/],
        ['conversations?quality_min=abc', /quality_min/],
        ['conversations?quality_min=8&quality_max=2', /^quality_min/],
        ['conversations?sort=relevance', /^sort/],
        ['conversations?sort=password', /sort/],
        ['conversations?created_from=yesterday', /^created_from/],
        ['conversations?template_id=42', /^template_id/],
        ['conversations?fields=id,secret', /^fields/],
        ['conversations/count?status=nope', /^status/],
        ['conversations/not-a-uuid', /id/],
        ['export?format=csv', /format/],
      ];
      for (const [path, message] of cases) {
        const { status, body } = await getJson<{ error: { code: string; message: string } }>(server, `${API}/${path}`);
        assert.equal(status, 400, path);
        assert.equal(body.error.code, 'bad_request', path);
        assert.match(body.error.message.replace(/^querystring\/|^params\//, ''), message, `${path}: ${body.error.message}`);
      }
      const first = await getJson<{ nextCursor: string }>(server, `${API}/conversations?limit=5`);
      const wrongSort = await getJson<{ error: { message: string } }>(server, `${API}/conversations?sort=title&cursor=${first.body.nextCursor}`);
      assert.equal(wrongSort.status, 400);
      assert.match(wrongSort.body.error.message, /^cursor: it belongs to sort=created_at/);
      const badBody = await getJson<{ error: { code: string; message: string } }>(server, `${API}/conversations/bulk`, post({ ids: ['x'], status: 'approved' }));
      assert.equal(badBody.status, 400);
      assert.match(badBody.body.error.message, /ids/);
      const badStatus = await getJson<{ error: { message: string } }>(server, `${API}/conversations/00000000-0000-4000-8000-000000000000`, post({ status: 'done' }, 'PATCH'));
      assert.equal(badStatus.status, 400);
      assert.match(badStatus.body.error.message, /status/);
    });

    test('responses are compressed (br or gzip) and the routes are in /openapi.json', async () => {
      const res = await adminFetch(`${server.url}${API}/conversations?limit=200`, { headers: { 'accept-encoding': 'br' } });
      assert.equal(res.headers.get('content-encoding'), 'br');
      const gz = await adminFetch(`${server.url}${API}/conversations?limit=200`, { headers: { 'accept-encoding': 'gzip' } });
      assert.equal(gz.headers.get('content-encoding'), 'gzip');
      const spec = (await (await adminFetch(`${server.url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
      for (const p of ['/api/v1/studio/conversations', '/api/v1/studio/conversations/count', '/api/v1/studio/conversations/{id}', '/api/v1/studio/export', '/api/v1/studio/jobs']) {
        assert.ok(p in spec.paths, `${p} documented`);
      }
    });

    test('export streams exactly the filtered set in OpenAI, ShareGPT and Alpaca JSONL', async () => {
      const approved = await getJson<{ count: number }>(server, `${API}/conversations/count?status=approved`);
      const openai = await adminFetch(`${server.url}${API}/export?format=openai&status=approved`);
      assert.equal(openai.status, 200);
      assert.match(openai.headers.get('content-type') ?? '', /ndjson/);
      // Streamed, not buffered: no length known up front, chunks as pages are read.
      assert.equal(openai.headers.get('content-length'), null);
      assert.match(openai.headers.get('content-disposition') ?? '', /attachment; filename="studio-openai-.*\.jsonl"/);
      const lines = (await openai.text()).trim().split('\n').map((l) => JSON.parse(l) as { messages: { role: string; content: string }[] });
      assert.equal(lines.length, approved.body.count);
      for (const l of lines) {
        assert.equal(l.messages[0].role, 'system');
        assert.equal(l.messages.at(-1)!.role, 'assistant');
      }
      const share = (await (await adminFetch(`${server.url}${API}/export?format=sharegpt&status=approved`)).text()).trim().split('\n').map((l) => JSON.parse(l));
      assert.equal(share.length, approved.body.count);
      assert.ok(share[0].conversations.some((t: { from: string }) => t.from === 'human') && share[0].conversations.at(-1).from === 'gpt');
      const alpaca = (await (await adminFetch(`${server.url}${API}/export?format=alpaca&status=approved&tier=edge_case`)).text()).trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
      const edge = await getJson<{ count: number }>(server, `${API}/conversations/count?status=approved&tier=edge_case`);
      assert.equal(alpaca.length, edge.body.count);
      for (const a of alpaca) assert.deepEqual(Object.keys(a), ['instruction', 'input', 'output']);
    });

    test('a generation job writes its conversations and pushes live progress on studio:job:<id>', async () => {
      const { body: templates } = await getJson<{ items: { id: string }[] }>(server, `${API}/templates`);
      const { body: scenarios } = await getJson<{ items: { id: string }[] }>(server, `${API}/scenarios`);
      // Job progress is curator data: an anonymous client may not follow it; a curator's claim may.
      const anonymous = await RawClient.open(server.wsUrl);
      const refused = await anonymous.request('subscribe', { channel: 'studio:job:any' });
      anonymous.close();
      assert.equal(refused.ok, false);
      assert.equal((refused.error as { code?: string } | undefined)?.code, 'unauthorized', JSON.stringify(refused));
      const token = await mintToken({ sub: 'curator-1', roles: ['curator'], subscribe: ['studio:*'] }, TEST_JWT_SECRET);
      const client = await RawClient.open(`${server.wsUrl}?token=${token}`);
      const count = 300;
      const job = await getJson<{ id: string; channel: string; status: string }>(server, `${API}/jobs`, post({ templateId: templates.items[0].id, scenarioIds: scenarios.items.slice(0, 2).map((s) => s.id), count }));
      assert.equal(job.status, 201);
      assert.equal(job.body.channel, `studio:job:${job.body.id}`);
      const sub = await client.request('subscribe', { channel: job.body.channel });
      assert.equal(sub.ok, true, JSON.stringify(sub));
      let detail = { status: 'queued', completed: 0 };
      for (let i = 0; i < 300 && detail.status !== 'completed'; i++) {
        await new Promise((r) => setTimeout(r, 50));
        detail = (await getJson<{ status: string; completed: number }>(server, `${API}/jobs/${job.body.id}`)).body;
      }
      assert.deepEqual([detail.status, detail.completed], ['completed', count]);
      // Whatever arrived live is in order and ends with the completion; the channel's history holds the rest.
      const live = client.publications(job.body.channel).map((f) => f.data as { completed: number; status: string });
      for (let i = 1; i < live.length; i++) assert.ok(live[i].completed >= live[i - 1].completed);
      const history = await client.request('history', { channel: job.body.channel, limit: 5 });
      const result = history.result as { offset: number; publications: { data: { status: string; completed: number } }[] };
      client.close();
      assert.deepEqual(result.publications.at(-1)!.data, { id: job.body.id, status: 'completed', requested: count, completed: count, failed: 0, error: null });
      assert.ok(result.offset >= count / 25, `one progress message per chunk (${result.offset} published)`);
      const made = await getJson<{ count: number }>(server, `${API}/conversations/count?job_id=${job.body.id}`);
      assert.equal(made.body.count, count);
      const pending = await getJson<{ count: number }>(server, `${API}/conversations/count?job_id=${job.body.id}&status=pending_review&tier=scenario`);
      assert.equal(pending.body.count, count, 'generated conversations wait for review');
    });

    test('a running job can be cancelled and stops writing', async () => {
      const { body: templates } = await getJson<{ items: { id: string }[] }>(server, `${API}/templates`);
      const job = await getJson<{ id: string }>(server, `${API}/jobs`, post({ templateId: templates.items[1].id, count: 100_000 }));
      await new Promise((r) => setTimeout(r, 200));
      const cancelled = await getJson<{ status: string }>(server, `${API}/jobs/${job.body.id}/cancel`, { method: 'POST' });
      assert.equal(cancelled.status, 200);
      assert.equal(cancelled.body.status, 'cancelled');
      const at = await getJson<{ count: number }>(server, `${API}/conversations/count?job_id=${job.body.id}`);
      await new Promise((r) => setTimeout(r, 300));
      const later = await getJson<{ count: number }>(server, `${API}/conversations/count?job_id=${job.body.id}`);
      assert.equal(later.body.count, at.body.count, 'no rows after cancel');
      assert.ok(at.body.count < 100_000);
      const again = await getJson<{ error: { code: string } }>(server, `${API}/jobs/${job.body.id}/cancel`, { method: 'POST' });
      assert.equal(again.status, 409);
      const badTemplate = await getJson<{ error: { message: string } }>(server, `${API}/jobs`, post({ templateId: '00000000-0000-4000-8000-000000000000', count: 5 }));
      assert.equal(badTemplate.status, 400);
      assert.match(badTemplate.body.error.message, /^templateId/);
    });

    test('metrics expose API latency per route, DB query latency and the cache hit ratio', async () => {
      const text = await (await adminFetch(`${server.url}/metrics`)).text();
      assert.match(text, /studio_api_request_duration_seconds_bucket\{[^}]*route="\/api\/v1\/studio\/conversations"/);
      assert.match(text, /studio_db_query_duration_seconds_count\{kind="select",outcome="ok"\} [1-9]/);
      assert.match(text, /studio_cache_hit_ratio\{cache="templates"\} 0\.\d+/);
      if (options.engine === 'postgres') assert.match(text, /studio_db_pool_connections\{state="total"\} \d+/);
    });
  });
}

/** A fake OpenAI-compatible endpoint: answers POST /v1/chat/completions with JSON turns. */
export async function startFakeLlm(): Promise<{ url: string; requests: Record<string, unknown>[]; authorizations: (string | undefined)[]; close(): Promise<void> }> {
  const requests: Record<string, unknown>[] = [];
  const authorizations: (string | undefined)[] = [];
  const srv: Server = createHttpServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
        res.writeHead(404).end();
        return;
      }
      const parsed = JSON.parse(body) as Record<string, unknown>;
      requests.push(parsed);
      authorizations.push(req.headers.authorization);
      // A template can ask for an overloaded model, to exercise the generator's failure path.
      if (body.includes('FORCE_LLM_FAILURE')) {
        res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'model overloaded' } }));
        return;
      }
      const content = JSON.stringify({
        title: `LLM-written conversation ${requests.length}`,
        turns: [
          { role: 'assistant', content: 'Thanks for reaching out — I can help with that.' },
          { role: 'user', content: 'Great, what do you need?' },
          { role: 'assistant', content: 'Just your order number, and I will fix it now.' },
        ],
      });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ choices: [{ message: { role: 'assistant', content } }], usage: { prompt_tokens: 50, completion_tokens: 30 } }));
    });
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const addr = srv.address() as { port: number };
  return { url: `http://127.0.0.1:${addr.port}`, requests, authorizations, close: () => new Promise((r) => srv.close(() => r())) };
}
