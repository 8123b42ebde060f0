/**
 * The studio API on embedded PGlite, plus what only needs one engine: the rate limit, the LLM
 * generator against a fake OpenAI-compatible endpoint, and the admin endpoint's refusal on PGlite.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { studioApiSuite, startFakeLlm } from './api-suite.js';
import { startServer, adminFetch } from '../helpers/server.js';
import { createStudioApp } from '../../src/apps/studio/index.js';

studioApiSuite({ engine: 'pglite', databaseUrl: () => 'pglite://memory' });

describe('studio on PGlite, single-engine behaviour', () => {
  // One server for both (a PGlite start costs seconds). The auth hook runs first: anonymous
  // refusals cost no quota, the admin's requests count toward the limit.
  test('the pg_stat_statements endpoint needs the API key and PostgreSQL; the studio routes are rate limited per client with a 429', async () => {
    const server = await startServer({ databaseUrl: 'pglite://memory' }, { apps: [createStudioApp({ rateLimitPerMinute: 7, worker: false })] });
    try {
      const anon = await fetch(`${server.url}/api/v1/studio/admin/pg-stat-statements`);
      assert.equal(anon.status, 401);
      const keyed = await adminFetch(`${server.url}/api/v1/studio/admin/pg-stat-statements`);
      assert.equal(keyed.status, 409);
      assert.match(((await keyed.json()) as { error: { message: string } }).error.message, /PostgreSQL/);

      const statuses: number[] = [];
      for (let i = 0; i < 7; i++) statuses.push((await adminFetch(`${server.url}/api/v1/studio/templates`)).status);
      assert.deepEqual(statuses, [200, 200, 200, 200, 200, 200, 429]);
      const res = await adminFetch(`${server.url}/api/v1/studio/templates`);
      const body = (await res.json()) as { error: { code: string; message: string } };
      assert.equal(body.error.code, 'rate_limited');
      assert.match(body.error.message, /7 requests per minute/);
      assert.equal((await fetch(`${server.url}/healthz`)).status, 200, 'core routes are not limited');
      const admin = await adminFetch(`${server.url}/api/v1/studio/admin/pg-stat-statements`);
      assert.equal(admin.status, 429);
    } finally {
      await server.close();
    }
  });

  test('with LLM_BASE_URL set, jobs are written by the OpenAI-compatible endpoint; an endpoint that keeps failing fails the job', async () => {
    const llm = await startFakeLlm();
    const server = await startServer({ databaseUrl: 'pglite://memory', llmBaseUrl: llm.url, llmModel: 'fake-model', llmApiKey: 'sk-fake-key' }, { apps: [createStudioApp()] });
    try {
      const templates = (await (await adminFetch(`${server.url}/api/v1/studio/templates`)).json()) as { items: { id: string }[] };
      const seedTemplate = templates.items[0]?.id
        ? templates.items[0].id
        : ((await (
            await adminFetch(`${server.url}/api/v1/studio/templates`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ name: 'LLM template', system_prompt: 'You help {persona}s.', opening_line: 'Hello about {topic}.' }),
            })
          ).json()) as { id: string }).id;
      const res = await adminFetch(`${server.url}/api/v1/studio/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ templateId: seedTemplate, count: 6 }) });
      const job = (await res.json()) as { id: string; generator: string };
      assert.equal(job.generator, 'openai-compatible');
      let status = '';
      for (let i = 0; i < 100 && status !== 'completed'; i++) {
        await new Promise((r) => setTimeout(r, 50));
        status = ((await (await adminFetch(`${server.url}/api/v1/studio/jobs/${job.id}`)).json()) as { status: string }).status;
      }
      assert.equal(status, 'completed');
      assert.equal(llm.requests.length, 6);
      assert.equal(llm.requests[0].model, 'fake-model');
      assert.ok(llm.authorizations.every((a) => a === 'Bearer sk-fake-key'), 'LLM_API_KEY sent as a bearer token');
      const messages = llm.requests[0].messages as { role: string; content: string }[];
      assert.deepEqual(messages.map((m) => m.role), ['system', 'user']);
      const list = (await (await adminFetch(`${server.url}/api/v1/studio/conversations?job_id=${job.id}&fields=id,title`)).json()) as { items: { id: string; title: string }[] };
      assert.equal(list.items.length, 6);
      assert.match(list.items[0].title, /^LLM-written conversation/);
      const detail = (await (await adminFetch(`${server.url}/api/v1/studio/conversations/${list.items[0].id}`)).json()) as { turns: { role: string; content: string }[] };
      assert.deepEqual(detail.turns.map((t) => t.role), ['system', 'user', 'assistant', 'user', 'assistant']);
      assert.equal(detail.turns.at(-1)!.content, 'Just your order number, and I will fix it now.');

      const failing = (await (
        await adminFetch(`${server.url}/api/v1/studio/templates`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ name: 'Overloaded', system_prompt: 'FORCE_LLM_FAILURE for {persona}.', opening_line: 'Hello about {topic}.' }),
        })
      ).json()) as { id: string };
      const doomed = (await (await adminFetch(`${server.url}/api/v1/studio/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ templateId: failing.id, count: 500 }) })).json()) as { id: string };
      let final = { status: '', completed: -1, failed: 0, error: '' as string | null };
      for (let i = 0; i < 200 && final.status !== 'failed'; i++) {
        await new Promise((r) => setTimeout(r, 50));
        final = (await (await adminFetch(`${server.url}/api/v1/studio/jobs/${doomed.id}`)).json()) as typeof final;
      }
      assert.equal(final.status, 'failed');
      assert.equal(final.completed, 0);
      assert.match(final.error ?? '', /LLM endpoint answered 503/);
    } finally {
      await server.close();
      await llm.close();
    }
  });
});
