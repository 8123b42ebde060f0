/**
 * @module test/studio/job-notify-postgres
 * On a shared PostgreSQL an idle job worker waits on LISTEN, not on a poll: a job queued on a
 * node whose own worker is off is claimed and run by the other node's idle worker at once — long
 * before the one look per lease period (two minutes here) that the lease fallback would take.
 */
import { describe, before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { startServer, TEST_API_KEY, sleep } from '../helpers/server.js';
import { startPostgres, type PostgresInstance } from '../helpers/postgres.js';
import { createStudioApp } from '../../src/apps/studio/index.js';
import { ensureSamples } from '../../src/apps/studio/seed.js';

const headers = { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' };
const LEASE_MS = 120_000;

describe('studio job worker wake-up on PostgreSQL (LISTEN/NOTIFY)', () => {
  let pgi: PostgresInstance;
  let queuer: Awaited<ReturnType<typeof startServer>>;
  let worker: Awaited<ReturnType<typeof startServer>>;
  let client: pg.Client;
  before(async () => {
    pgi = await startPostgres();
    queuer = await startServer({ databaseUrl: pgi.url, nodeId: 'queuer' }, { apps: [createStudioApp({ worker: false, jobLeaseMs: LEASE_MS, onReady: async (d) => void (await ensureSamples(d.db)) })] });
    worker = await startServer({ databaseUrl: pgi.url, nodeId: 'worker' }, { apps: [createStudioApp({ jobLeaseMs: LEASE_MS })] });
    client = new pg.Client({ connectionString: pgi.url });
    await client.connect();
  });
  after(async () => {
    await client?.end();
    await worker?.close();
    await queuer?.close();
    await pgi?.stop();
  });

  test('a job queued on another node is run by the idle worker within seconds, not at its next lease-period look', async () => {
    // The worker has looked once at start, found nothing and is waiting now.
    await sleep(1000);
    const { rows: listening } = await client.query<{ n: number }>(`select count(*)::int as n from pg_stat_activity where query ilike 'listen airwaves_studio_jobs%'`);
    assert.ok(listening[0]!.n >= 1, 'the idle worker holds a LISTEN connection');
    const templates = (await (await fetch(`${queuer.url}/api/v1/studio/templates`, { headers })).json()) as { items: { id: string }[] };
    const queuedAt = Date.now();
    const res = await fetch(`${queuer.url}/api/v1/studio/jobs`, { method: 'POST', headers, body: JSON.stringify({ templateId: templates.items[0]!.id, count: 10 }) });
    assert.equal(res.status, 201, await res.clone().text());
    const job = (await res.json()) as { id: string };
    // Generous for a loaded machine, and still far below the lease period the fallback waits.
    const deadline = queuedAt + LEASE_MS / 2;
    type JobRow = { status: string; completed: number; claimed_by: string | null };
    let row: JobRow | undefined;
    for (;;) {
      ({ rows: [row] } = await client.query<JobRow>('select status, completed, claimed_by from studio_generation_jobs where id = $1', [job.id]));
      if (row!.status === 'completed' || Date.now() > deadline) break;
      await sleep(100);
    }
    console.log(`# job queued on one node, completed by the other's idle worker ${Date.now() - queuedAt} ms later (lease fallback: ${LEASE_MS} ms)`);
    assert.deepEqual({ status: row!.status, completed: row!.completed, claimedBy: row!.claimed_by }, { status: 'completed', completed: 10, claimedBy: 'worker' });
  });
});
