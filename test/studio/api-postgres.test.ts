/**
 * The studio API on a real PostgreSQL 15 cluster (started by the test), plus what needs a
 * database that outlives a server: a job interrupted by a shutdown resumes on the next start;
 * and the pg_stat_statements admin endpoint.
 */
import { describe, before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { studioApiSuite } from './api-suite.js';
import { startServer, adminFetch } from '../helpers/server.js';
import { startPostgres, type PostgresInstance } from '../helpers/postgres.js';
import { createStudioApp } from '../../src/apps/studio/index.js';
import { ensureSamples } from '../../src/apps/studio/seed.js';

let pg: PostgresInstance;
before(async () => {
  pg = await startPostgres({ settings: { shared_preload_libraries: 'pg_stat_statements' } });
});
after(async () => pg?.stop());

studioApiSuite({ engine: 'postgres', databaseUrl: () => pg.url });

describe('studio on PostgreSQL, across restarts', () => {
  test('a job left running by a shutdown resumes on the next start and writes each conversation once', async () => {
    const url = pg.url.replace(/\/[^/]+$/, '/postgres');
    const first = await startServer({ databaseUrl: url }, { apps: [createStudioApp({ onReady: async (d) => void (await ensureSamples(d.db)) })] });
    const templates = (await (await adminFetch(`${first.url}/api/v1/studio/templates`)).json()) as { items: { id: string }[] };
    const count = 2000;
    const res = await adminFetch(`${first.url}/api/v1/studio/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ templateId: templates.items[0].id, count }) });
    const job = (await res.json()) as { id: string };
    let state = { status: 'queued', completed: 0 };
    for (let i = 0; i < 200 && state.completed === 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
      state = (await (await adminFetch(`${first.url}/api/v1/studio/jobs/${job.id}`)).json()) as typeof state;
    }
    assert.ok(state.completed > 0, 'the job started');
    await first.close();

    const second = await startServer({ databaseUrl: url }, { apps: [createStudioApp()] });
    try {
      const interrupted = (await (await adminFetch(`${second.url}/api/v1/studio/jobs/${job.id}`)).json()) as typeof state;
      assert.ok(interrupted.completed < count, `the shutdown interrupted the job (at ${interrupted.completed})`);
      for (let i = 0; i < 400 && state.status !== 'completed'; i++) {
        await new Promise((r) => setTimeout(r, 50));
        state = (await (await adminFetch(`${second.url}/api/v1/studio/jobs/${job.id}`)).json()) as typeof state;
      }
      assert.deepEqual([state.status, state.completed], ['completed', count]);
      const made = (await (await adminFetch(`${second.url}/api/v1/studio/conversations/count?job_id=${job.id}`)).json()) as { count: number };
      assert.equal(made.count, count, 'exactly one conversation per position, none twice');
    } finally {
      await second.close();
    }
  });

  test('the admin endpoint reads pg_stat_statements with the API key', async () => {
    const server = await startServer({ databaseUrl: pg.url }, { apps: [createStudioApp({ worker: false })] });
    try {
      await adminFetch(`${server.url}/api/v1/studio/conversations?limit=5`);
      const anon = await fetch(`${server.url}/api/v1/studio/admin/pg-stat-statements`);
      assert.equal(anon.status, 401);
      const res = await adminFetch(`${server.url}/api/v1/studio/admin/pg-stat-statements?limit=50`);
      assert.equal(res.status, 200);
      const body = (await res.json()) as { items: { query: string; calls: number; mean_ms: number }[] };
      assert.ok(body.items.some((i) => i.query.includes('studio_conversations') && i.calls > 0));
    } finally {
      await server.close();
    }
  });
});
