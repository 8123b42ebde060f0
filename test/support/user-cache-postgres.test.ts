/**
 * @module test/support/user-cache-postgres
 * A role change is announced cluster-wide: two help desk nodes share one real PostgreSQL, both
 * cache a user, one node demotes the user, and the other node's cache drops the user at once
 * (it never keeps acting on the old role).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
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

test('an agent demoted on one node is no longer an agent on the other node', async () => {
  const [a, b] = apps.map((app) => app.desk!);
  await a.upsertUser({ id: 'agent-zoe', name: 'Zoe', role: 'agent' });
  assert.equal((await b.user('agent-zoe'))?.role, 'agent', 'node b cached the agent');
  assert.equal((await b.user('agent-zoe'))?.role, 'agent');
  await a.upsertUser({ id: 'agent-zoe', name: 'Zoe', role: 'customer' });
  const deadline = Date.now() + 2000;
  let role = (await b.user('agent-zoe'))?.role;
  while (role !== 'customer' && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
    role = (await b.user('agent-zoe'))?.role;
  }
  assert.equal(role, 'customer', 'node b dropped its cached agent');
  assert.equal(await b.canWatchRoom('agent-zoe', 'some-other-ticket'), false, 'no agent rights left on node b');
});
