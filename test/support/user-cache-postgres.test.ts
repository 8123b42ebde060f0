/**
 * @module test/support/user-cache-postgres
 * A role change is announced cluster-wide: two help desk nodes share one real PostgreSQL, both
 * cache a user, one node demotes the user, and the other node's cache drops the user at once
 * (it never keeps acting on the old role); a node whose LISTEN connection was cut forgets all it
 * cached, so a change it could not hear about still counts.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { startServer } from '../helpers/server.js';
import { startPostgres, type PostgresInstance } from '../helpers/postgres.js';
import { createSupportApp, type SupportApp } from '../../src/apps/support/index.js';

let pgi: PostgresInstance;
const nodes: Awaited<ReturnType<typeof startServer>>[] = [];
const apps: SupportApp[] = [createSupportApp(), createSupportApp()];
before(async () => {
  pgi = await startPostgres();
  nodes.push(await startServer({ databaseUrl: pgi.url, nodeId: 'node-a' }, { apps: [apps[0]] }));
  nodes.push(await startServer({ databaseUrl: pgi.url, nodeId: 'node-b' }, { apps: [apps[1]] }));
});
after(async () => {
  for (const n of nodes) await n.close();
  await pgi?.stop();
});

type Desk = NonNullable<SupportApp['desk']>;

/** The role `desk` reads for user `id`, polled until it is `want` or `ms` have passed. */
async function roleWithin(desk: Desk, id: string, want: string, ms: number): Promise<string | undefined> {
  const deadline = Date.now() + ms;
  let role = (await desk.user(id))?.role;
  while (role !== want && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
    role = (await desk.user(id))?.role;
  }
  return role;
}

test('an agent demoted on one node is no longer an agent on the other node', async () => {
  const [a, b] = apps.map((app) => app.desk!);
  await a.upsertUser({ id: 'agent-zoe', name: 'Zoe', role: 'agent' });
  assert.equal((await b.user('agent-zoe'))?.role, 'agent', 'node b cached the agent');
  assert.equal((await b.user('agent-zoe'))?.role, 'agent');
  await a.upsertUser({ id: 'agent-zoe', name: 'Zoe', role: 'customer' });
  assert.equal(await roleWithin(b, 'agent-zoe', 'customer', 2000), 'customer', 'node b dropped its cached agent');
  assert.equal(await b.canWatchRoom('agent-zoe', 'some-other-ticket'), false, 'no agent rights left on node b');
});

test('a node whose listening connection was cut forgets its cached users, so a change it missed still counts', async () => {
  const [a, b] = apps.map((app) => app.desk!);
  await a.upsertUser({ id: 'agent-kim', name: 'Kim', role: 'agent' });
  assert.equal((await b.user('agent-kim'))?.role, 'agent', 'node b cached the agent');
  const admin = new pg.Client({ connectionString: pgi.url });
  await admin.connect();
  try {
    // Cut every LISTEN connection (both nodes'), then demote while they are down: the NOTIFY is missed.
    const cut = await admin.query(`select pg_terminate_backend(pid) from pg_stat_activity where query = 'listen airwaves_support_users'`);
    assert.equal(cut.rowCount, 2, 'both nodes were listening');
    await admin.query(`update support_users set role = 'customer' where id = 'agent-kim'`);
  } finally {
    await admin.end();
  }
  assert.equal(await roleWithin(b, 'agent-kim', 'customer', 15_000), 'customer', 'node b dropped its cache when its listener came back');
});
