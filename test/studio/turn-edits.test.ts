/**
 * The studio's provenance: a curator corrects a turn and its earlier text is kept with who and
 * when; every conversation says which generator wrote it (a job's generator, or the seed); the
 * stats follow a job's writes at once instead of a cached total lagging the list.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Kysely } from 'kysely';
import { startServer } from '../helpers/server.js';
import { createStudioApp } from '../../src/apps/studio/index.js';
import { seedStudio } from '../../src/apps/studio/seed.js';
import type { StudioDB } from '../../src/apps/studio/types.js';
import { mintToken } from '../../src/auth/index.js';

let server: Awaited<ReturnType<typeof startServer>>;
let db: Kysely<StudioDB>;
let curatorToken = '';

interface Turn {
  turn: number;
  role: string;
  content: string;
  tokens: number;
  edits: { at: string; editor: string | null; before: string }[];
}
interface Detail {
  id: string;
  generator: string;
  total_tokens: number;
  updated_at: string;
  turns: Turn[];
}

before(async () => {
  const app = createStudioApp({ onReady: (database) => void (db = database.db) });
  server = await startServer({ databaseUrl: 'pglite://memory' }, { apps: [app] });
  await seedStudio(db, { count: 5, seed: 3 });
  curatorToken = await mintToken({ sub: 'cora-curator', roles: ['curator'] }, server.config.jwtSecret, 600);
});

after(async () => {
  await server?.close();
});

const studio = (path: string, init: RequestInit = {}) =>
  fetch(`${server.url}/api/v1/studio${path}`, { ...init, headers: { authorization: `Bearer ${curatorToken}`, 'content-type': 'application/json', ...init.headers } });
const detail = async (id: string) => (await (await studio(`/conversations/${id}`)).json()) as Detail;
const editTurn = (id: string, turn: number, body: unknown) => studio(`/conversations/${id}/turns/${turn}`, { method: 'PATCH', body: JSON.stringify(body) });

test('a curator corrects a turn: the new text is served, the old one is kept with who and when, token counts follow; a stale edit is refused', async () => {
  const id = (await db.selectFrom('studio_conversations').select('id').orderBy('created_at').executeTakeFirstOrThrow()).id;
  const before = await detail(id);
  const turn = before.turns.find((t) => t.role === 'assistant')!;
  assert.deepEqual(turn.edits, [], 'a generated turn has no edits');

  const corrected = 'Thanks for waiting. I have refunded the order in full; it shows on your statement within five working days.';
  const res = await editTurn(id, turn.turn, { content: corrected, expected: turn.content });
  assert.equal(res.status, 200, await res.clone().text());
  const edited = (await res.json()) as Turn;
  assert.equal(edited.content, corrected);
  assert.equal(edited.edits.length, 1);
  assert.equal(edited.edits[0]!.editor, 'cora-curator', 'the editor is the signed-in user');
  assert.equal(edited.edits[0]!.before, turn.content, 'the earlier text is kept');
  assert.ok(!Number.isNaN(Date.parse(edited.edits[0]!.at)));

  const after = await detail(id);
  assert.equal(after.turns.find((t) => t.turn === turn.turn)!.content, corrected, 'the detail serves the new text');
  assert.equal(after.total_tokens - before.total_tokens, edited.tokens - turn.tokens, 'the conversation total follows the turn');
  assert.ok(after.updated_at > before.updated_at, 'the conversation is marked updated');

  // Someone edits on the text they loaded before this edit: refused, not overwritten.
  const stale = await editTurn(id, turn.turn, { content: 'my own version', expected: turn.content });
  assert.equal(stale.status, 409);
  assert.match(((await stale.json()) as { error: { message: string } }).error.message, /changed by someone else/);
  // A second edit on the current text stacks in the history, oldest first.
  await editTurn(id, turn.turn, { content: `${corrected} Anything else?`, expected: corrected });
  assert.deepEqual(
    (await detail(id)).turns.find((t) => t.turn === turn.turn)!.edits.map((e) => e.before),
    [turn.content, corrected],
  );
  // The same text again records nothing.
  await editTurn(id, turn.turn, { content: `${corrected} Anything else?` });
  assert.equal((await detail(id)).turns.find((t) => t.turn === turn.turn)!.edits.length, 2);
});

test('turn edits refuse what they cannot do, with precise errors', async () => {
  const id = (await db.selectFrom('studio_conversations').select('id').orderBy('created_at', 'desc').executeTakeFirstOrThrow()).id;
  const missing = await editTurn(id, 999, { content: 'x' });
  assert.equal(missing.status, 404);
  assert.match(((await missing.json()) as { error: { message: string } }).error.message, /has no turn 999/);
  const empty = await editTurn(id, 1, { content: '' });
  assert.equal(empty.status, 400);
  const long = await editTurn(id, 1, { content: 'x'.repeat(20_001) });
  assert.equal(long.status, 400);
  assert.match(((await long.json()) as { error: { message: string } }).error.message, /content/);
  const anonymous = await fetch(`${server.url}/api/v1/studio/conversations/${id}/turns/1`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{"content":"x"}' });
  assert.equal(anonymous.status, 401);
});

test("every conversation names its generator (the seed's rows: seed; a job's: its generator), the list filters by it, and the stats count a job's rows as soon as it is done", async () => {
  const seeded = (await (await studio('/conversations?fields=id,generator&limit=50')).json()) as { items: { generator: string }[] };
  assert.ok(seeded.items.length >= 5);
  assert.ok(seeded.items.every((r) => r.generator === 'seed'), JSON.stringify(seeded.items));

  const statsBefore = (await (await studio('/stats')).json()) as { total: number }; // now cached for 5 s
  const template = (await db.selectFrom('studio_templates').select('id').executeTakeFirstOrThrow()).id;
  const job = (await (await studio('/jobs', { method: 'POST', body: JSON.stringify({ templateId: template, count: 7 }) })).json()) as { id: string };
  let status = '';
  for (const started = Date.now(); status !== 'completed' && Date.now() - started < 120_000; ) {
    await new Promise((r) => setTimeout(r, 50));
    status = ((await (await studio(`/jobs/${job.id}`)).json()) as { status: string }).status;
  }
  assert.equal(status, 'completed');
  const statsAfter = (await (await studio('/stats')).json()) as { total: number };
  assert.equal(statsAfter.total, statsBefore.total + 7, 'the stats include the job at once');
  const count = (await (await studio('/conversations/count')).json()) as { count: number };
  assert.equal(statsAfter.total, count.count, 'the stats agree with the list');

  const made = (await (await studio(`/conversations?job_id=${job.id}&fields=id,generator`)).json()) as { items: { id: string; generator: string }[] };
  assert.equal(made.items.length, 7);
  assert.ok(made.items.every((r) => r.generator === 'offline'));
  assert.equal((await detail(made.items[0]!.id)).generator, 'offline', 'the detail names it too');

  // And the list filters by it: the seed's rows, a job's generator, both; an unknown one is a 400.
  const ids = async (query: string) => ((await (await studio(`/conversations?fields=id,generator&limit=500&${query}`)).json()) as { items: { id: string; generator: string }[] }).items;
  const offline = await ids('generator=offline');
  assert.deepEqual(offline.map((r) => r.id).sort(), made.items.map((r) => r.id).sort(), "generator=offline is exactly the job's rows");
  const seed = await ids('generator=seed');
  assert.equal(seed.length, count.count - 7);
  assert.ok(seed.every((r) => r.generator === 'seed'));
  assert.equal((await ids('generator=seed,offline')).length, count.count);
  assert.equal((await ids('generator=openai-compatible')).length, 0);
  assert.equal(((await (await studio('/conversations/count?generator=offline')).json()) as { count: number }).count, 7, 'the count agrees');
  const bogus = await studio('/conversations?generator=gpt-9');
  assert.equal(bogus.status, 400);
  assert.match(((await bogus.json()) as { error: { message: string } }).error.message, /^generator: unknown value "gpt-9"; expected one of seed, offline, openai-compatible/);
});
