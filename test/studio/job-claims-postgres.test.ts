/**
 * @module test/studio/job-claims-postgres
 * Two nodes sharing one real PostgreSQL run a job once: claims with FOR UPDATE SKIP LOCKED and a
 * lease, progress fenced on the holder, (job, position) unique. A job whose holder died (its
 * lease ran out) is taken over by a live node and still written exactly once.
 */
import { describe, before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { startServer, TEST_API_KEY } from '../helpers/server.js';
import { startPostgres, type PostgresInstance } from '../helpers/postgres.js';
import { createStudioApp } from '../../src/apps/studio/index.js';
import { ensureSamples } from '../../src/apps/studio/seed.js';

const headers = { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' };

describe('studio jobs on two nodes sharing PostgreSQL', () => {
  let pgi: PostgresInstance;
  let nodes: Awaited<ReturnType<typeof startServer>>[] = [];
  let client: pg.Client;
  before(async () => {
    pgi = await startPostgres();
    const app = () => createStudioApp({ jobLeaseMs: 1500, onReady: async (d) => void (await ensureSamples(d.db)) });
    // Distinct node ids: claims are per node.
    nodes = [await startServer({ databaseUrl: pgi.url, nodeId: 'node-a' }, { apps: [app()] })];
    nodes.push(await startServer({ databaseUrl: pgi.url, nodeId: 'node-b' }, { apps: [app()] }));
    client = new pg.Client({ connectionString: pgi.url });
    await client.connect();
  });
  after(async () => {
    await client?.end();
    for (const n of nodes) await n.close();
    await pgi?.stop();
  });

  async function templateId(): Promise<string> {
    const res = await fetch(`${nodes[0].url}/api/v1/studio/templates`, { headers });
    return ((await res.json()) as { items: { id: string }[] }).items[0].id;
  }

  async function waitDone(id: string, timeoutMs = 120_000): Promise<{ status: string; completed: number }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { rows } = await client.query<{ status: string; completed: number }>('select status, completed from studio_generation_jobs where id = $1', [id]);
      if (rows[0].status !== 'queued' && rows[0].status !== 'running') return rows[0];
      if (Date.now() > deadline) throw new Error(`job ${id} still ${rows[0].status} at ${rows[0].completed}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async function outputs(id: string) {
    const { rows } = await client.query<{ n: number; positions: number; lo: number; hi: number }>(
      'select count(*)::int as n, count(distinct job_position)::int as positions, min(job_position) as lo, max(job_position) as hi from studio_conversations where job_id = $1',
      [id],
    );
    return rows[0];
  }

  test('a job queued on one node is run once by the two: every position written exactly once', async () => {
    const count = 600;
    const res = await fetch(`${nodes[1].url}/api/v1/studio/jobs`, { method: 'POST', headers, body: JSON.stringify({ templateId: await templateId(), count }) });
    assert.equal(res.status, 201, await res.clone().text());
    const job = (await res.json()) as { id: string };
    const done = await waitDone(job.id);
    assert.deepEqual(done, { status: 'completed', completed: count });
    assert.deepEqual(await outputs(job.id), { n: count, positions: count, lo: 0, hi: count - 1 });
  });

  test('the database refuses a second output for the same (job, position)', async () => {
    const { rows } = await client.query<{ job_id: string }>('select job_id from studio_conversations where job_id is not null limit 1');
    await assert.rejects(
      client.query(`insert into studio_conversations (title, tier, job_id, job_position) values ('dup', 'template', $1, 0)`, [rows[0].job_id]),
      (err: Error & { code?: string }) => err.code === '23505',
    );
  });

  test('a job whose holder died is taken over once its lease expires, and written once', async () => {
    const count = 300;
    const res = await fetch(`${nodes[0].url}/api/v1/studio/jobs`, { method: 'POST', headers, body: JSON.stringify({ templateId: await templateId(), count }) });
    const job = (await res.json()) as { id: string };
    // A node that claimed the job, wrote nothing yet and died: its lease runs another second.
    await client.query(`update studio_generation_jobs set status = 'running', claimed_by = 'node-dead', lease_until = now() + interval '1 second' where id = $1 and completed = 0`, [job.id]);
    const claimedAt = Date.now();
    const done = await waitDone(job.id);
    assert.deepEqual(done, { status: 'completed', completed: count });
    assert.deepEqual(await outputs(job.id), { n: count, positions: count, lo: 0, hi: count - 1 });
    const { rows } = await client.query<{ claimed_by: string }>('select claimed_by from studio_generation_jobs where id = $1', [job.id]);
    assert.ok(['node-a', 'node-b'].includes(rows[0].claimed_by), `taken over by a live node, not ${rows[0].claimed_by}`);
    assert.ok(Date.now() - claimedAt >= 900, 'the live nodes waited for the lease');
  });
});
