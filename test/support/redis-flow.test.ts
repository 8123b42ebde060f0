/**
 * The help desk on two nodes sharing Redis (hub engine and event log on Redis Streams) and one
 * PostgreSQL: a conversation keeps flowing, without loss or duplicates, while the node the agent
 * is connected to restarts, and while the node taking the customer's requests restarts.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { AirwavesClient, type Publication } from '../../src/client/index.js';
import { createSupportApp } from '../../src/apps/support/index.js';
import { startServer, sleep } from '../helpers/server.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { startPostgres, type PostgresInstance } from '../helpers/postgres.js';
import type { AirwavesConfig } from '../../src/config.js';

type Node = Awaited<ReturnType<typeof startServer>>;
let redis: TestRedis;
let pg: PostgresInstance;
const nodes: Record<'a' | 'b', Node | undefined> = { a: undefined, b: undefined };
const clients: AirwavesClient[] = [];

function nodeConfig(id: string, port = 0): Partial<AirwavesConfig> {
  return { redisUrl: redis.url, databaseUrl: pg.url, nodeId: id, port, shutdownDrainMs: 200 };
}

async function startNode(name: 'a' | 'b', port = 0): Promise<Node> {
  const node = await startServer(nodeConfig(`support-${name}`, port), { apps: [createSupportApp()] });
  nodes[name] = node;
  return node;
}

async function waitForGroups(count: number): Promise<void> {
  const probe = redis.client();
  const deadline = Date.now() + 10_000;
  for (;;) {
    const groups = (await probe.xinfo('GROUPS', 'events:chat').catch(() => [])) as unknown[];
    if (groups.length >= count) return;
    assert.ok(Date.now() < deadline, `${count} consumer groups on events:chat`);
    await sleep(25);
  }
}

async function call<T>(node: Node, token: string | null, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${node.url}/api/v1/support${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as T };
}

async function tokenOf(node: Node, userId: string): Promise<string> {
  return (await call<{ token: string }>(node, null, 'POST', '/demo-login', { userId })).body.token;
}

before(async () => {
  [redis, pg] = await Promise.all([startRedis({ persistent: true }), startPostgres({ database: 'support_cluster' })]);
  await startNode('a');
  await startNode('b');
  await waitForGroups(2);
});

after(async () => {
  for (const c of clients) c.close();
  await Promise.all([nodes.a?.close(), nodes.b?.close()]);
  await Promise.all([redis?.close(), pg?.stop()]);
});

/** An agent's SDK client on `node`, collecting the room's chat bodies. */
async function watchRoom(node: Node, token: string, ticketId: string) {
  const client = new AirwavesClient({ url: node.wsUrl, token, WebSocket: WebSocket as never, reconnect: { initialDelayMs: 100, maxDelayMs: 400 } });
  clients.push(client);
  await client.connect();
  const bodies: string[] = [];
  const recoveries: boolean[] = [];
  const sub = client.subscribe(`support:room:${ticketId}`, {
    publication: (p: Publication) => {
      const e = p.data as { type: string; payload: { body?: string } };
      if (e.type === 'chat_message') bodies.push(e.payload.body!);
    },
    recovered: (r) => recoveries.push(r.recovered),
  });
  await sub.ready;
  return { client, bodies, recoveries };
}

async function until(cond: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

test('chat through Redis Streams: no message lost or doubled while the agent\'s node restarts mid-conversation', async () => {
  const b = nodes.b!;
  const [customer, agent] = await Promise.all([tokenOf(b, 'cust-carla'), tokenOf(b, 'agent-ana')]);
  const opened = await call<{ ticket: { id: string } }>(b, customer, 'POST', '/tickets', { subject: 'Cluster ticket', body: 'm0' });
  assert.equal(opened.status, 201);
  const ticketId = opened.body.ticket.id;
  const watcher = await watchRoom(nodes.a!, agent, ticketId);
  const expected = ['m0'];

  for (let i = 1; i <= 10; i++) {
    expected.push(`m${i}`);
    assert.equal((await call(b, customer, 'POST', `/tickets/${ticketId}/messages`, { body: `m${i}` })).status, 201);
  }
  await until(() => watcher.bodies.length >= 10, 'the first messages on node A');

  // Node A goes away (its clients are told to reconnect); the conversation goes on through B.
  const portA = new URL(nodes.a!.url).port;
  await nodes.a!.close();
  for (let i = 11; i <= 20; i++) {
    expected.push(`m${i}`);
    assert.equal((await call(b, customer, 'POST', `/tickets/${ticketId}/messages`, { body: `m${i}` })).status, 201);
  }
  await startNode('a', Number(portA));
  for (let i = 21; i <= 25; i++) {
    expected.push(`m${i}`);
    assert.equal((await call(b, customer, 'POST', `/tickets/${ticketId}/messages`, { body: `m${i}` })).status, 201);
  }
  // m0 was published before the agent subscribed: a fresh subscription starts at the present.
  const live = expected.slice(1);
  await until(() => watcher.bodies.length >= live.length, `all ${live.length} messages after the restart`);
  await sleep(300);
  assert.deepEqual(watcher.bodies, live);
  assert.ok(watcher.recoveries.length >= 1 && watcher.recoveries.every(Boolean), `recovered: ${watcher.recoveries.join(',')}`);
  const streamLength = await redis.client().xlen('events:chat');
  assert.ok(streamLength >= 2 * 25, `chat events went through Redis Streams (${streamLength} entries, room + agents list)`);
});

test('no loss while the node taking the requests restarts: its events were appended to Redis before it answered', async () => {
  const a = nodes.a!;
  const [customer, agent] = await Promise.all([tokenOf(a, 'cust-dev'), tokenOf(a, 'agent-ben')]);
  const opened = await call<{ ticket: { id: string } }>(a, customer, 'POST', '/tickets', { subject: 'Second ticket', body: 'first' });
  const ticketId = opened.body.ticket.id;
  const watcher = await watchRoom(nodes.b!, agent, ticketId);
  const sent: string[] = [];
  // Fire a burst and restart the serving node right after the last answer.
  for (let i = 1; i <= 30; i++) {
    sent.push(`n${i}`);
    assert.equal((await call(a, customer, 'POST', `/tickets/${ticketId}/messages`, { body: `n${i}` })).status, 201);
  }
  const port = new URL(a.url).port;
  await a.close();
  await startNode('a', Number(port));
  const status = await call<{ ticket: { status: string } }>(nodes.a!, agent, 'PUT', `/tickets/${ticketId}/status`, { status: 'pending' });
  assert.equal(status.body.ticket.status, 'pending');
  await until(() => watcher.bodies.length >= sent.length, `all ${sent.length} messages on node B`);
  await sleep(300);
  assert.deepEqual(watcher.bodies, sent);
  const stored = await call<{ messages: { body: string }[] }>(nodes.b!, agent, 'GET', `/tickets/${ticketId}/messages?limit=200`);
  assert.deepEqual(stored.body.messages.map((m) => m.body), ['first', ...sent]);
});
