/**
 * The README's cluster recipe, run as written: its shell lines (build once, shared settings, two
 * nodes in the background) with only the addresses and ports replaced by this test's Redis,
 * PostgreSQL and free ports. A ticket written through node A is read through node B, and a chat
 * message posted on A reaches an agent's client connected to B. A Redis node without a shared
 * database or API key refuses to start, naming what to set.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { AirwavesClient, type Publication } from '../../src/client/index.js';
import { freePort, startRedis, type TestRedis } from '../helpers/redis.js';
import { startPostgres, type PostgresInstance } from '../helpers/postgres.js';
import { sleep } from '../helpers/server.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
let redis: TestRedis;
let pg: PostgresInstance;
let shell: ChildProcess | undefined;
let output = '';
const ports = { a: 0, b: 0 };
const clients: AirwavesClient[] = [];

/** The sh block between the README's cluster-recipe markers. */
function recipe(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const m = /<!-- cluster-recipe:start -->\s*```sh\n([\s\S]*?)```\s*<!-- cluster-recipe:end -->/.exec(readme);
  assert.ok(m, 'README.md has a cluster recipe between <!-- cluster-recipe:start/end --> markers');
  return m[1];
}

/** Replaces one literal of the recipe, insisting it is there (so the test follows the README). */
function swap(script: string, literal: string, value: string): string {
  assert.ok(script.includes(literal), `the recipe mentions ${literal}`);
  return script.split(literal).join(value);
}

/** The test's own environment for the shell: nothing of ours leaks in but PATH and HOME. */
const baseEnv = (): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  AIRWAVES_LOG_LEVEL: 'warn',
  AIRWAVES_HOST: '127.0.0.1',
  // Radio synthesis runs continuously: not what this test is about, and it would load the machine.
  AIRWAVES_RADIO_ENABLED: 'false',
  // The test signs in as the help desk's demo people (demo logins exist only in demo mode).
  AIRWAVES_DEMO: 'true',
});

async function waitReady(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      // ?apps=all: the help desk's routes answer (plain /readyz is 200 while the apps still start).
      const res = await fetch(`http://127.0.0.1:${port}/readyz?apps=all`, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) return;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`node on port ${port} not ready after ${timeoutMs} ms:\n${output}`);
    await sleep(100);
  }
}

async function call<T>(port: number, token: string | null, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`http://127.0.0.1:${port}/api/v1/support${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as T };
}

before(async () => {
  [redis, pg] = await Promise.all([startRedis(), startPostgres({ database: 'airwaves_recipe' })]);
  ports.a = await freePort();
  ports.b = await freePort();
  let script = recipe();
  script = swap(script, 'redis://127.0.0.1:6379', redis.url);
  script = swap(script, 'postgres://postgres@127.0.0.1:5432/airwaves', pg.url);
  script = swap(script, 'AIRWAVES_PORT=8081', `AIRWAVES_PORT=${ports.a}`);
  script = swap(script, 'AIRWAVES_PORT=8082', `AIRWAVES_PORT=${ports.b}`);
  // Its own process group, so the nodes it leaves in the background are stopped with it.
  shell = spawn('sh', ['-e', '-c', script], { cwd: root, env: baseEnv(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (d: Buffer) => (output = (output + d.toString()).slice(-20_000));
  shell.stdout?.on('data', keep);
  shell.stderr?.on('data', keep);
  // The build runs first (a minute or two on a loaded 2-core machine).
  await Promise.all([waitReady(ports.a, 300_000), waitReady(ports.b, 300_000)]);
});

after(async () => {
  for (const c of clients) c.close();
  if (shell?.pid) {
    try {
      process.kill(-shell.pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
    await sleep(1500);
    try {
      process.kill(-shell.pid, 'SIGKILL');
    } catch {
      /* stopped on SIGTERM */
    }
  }
  await Promise.all([redis?.close(), pg?.stop()]);
});

test('the README recipe: a ticket written on node A is read on node B, and a message posted on A reaches a client on B', { timeout: 360_000 }, async () => {
  const login = async (port: number, userId: string) => (await call<{ token: string }>(port, null, 'POST', '/demo-login', { userId })).body.token;
  const customer = await login(ports.a, 'cust-carla');
  const agent = await login(ports.b, 'agent-ana');

  const opened = await call<{ ticket: { id: string; subject: string } }>(ports.a, customer, 'POST', '/tickets', { subject: 'Recipe ticket', body: 'hello from A' });
  assert.equal(opened.status, 201, JSON.stringify(opened.body));
  const ticketId = opened.body.ticket.id;
  const read = await call<{ ticket: { id: string; subject: string } }>(ports.b, agent, 'GET', `/tickets/${ticketId}`);
  assert.equal(read.status, 200, JSON.stringify(read.body));
  assert.equal(read.body.ticket.subject, 'Recipe ticket');

  const client = new AirwavesClient({ url: `ws://127.0.0.1:${ports.b}/ws`, token: agent, WebSocket: WebSocket as never });
  clients.push(client);
  await client.connect();
  const bodies: string[] = [];
  const sub = client.subscribe(`support:room:${ticketId}`, {
    publication: (p: Publication) => {
      const e = p.data as { type: string; payload: { body?: string } };
      if (e.type === 'chat_message') bodies.push(e.payload.body!);
    },
  });
  await sub.ready;
  const posted = await call(ports.a, customer, 'POST', `/tickets/${ticketId}/messages`, { body: 'posted on A' });
  assert.equal(posted.status, 201, JSON.stringify(posted.body));
  const deadline = Date.now() + 10_000;
  while (!bodies.includes('posted on A')) {
    assert.ok(Date.now() < deadline, `the message posted on A reached the client on B (got ${JSON.stringify(bodies)})`);
    await sleep(20);
  }
});

test('a Redis node without DATABASE_URL or AIRWAVES_API_KEY refuses to start and says what to set', () => {
  const run = (extra: Record<string, string>) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], { cwd: root, env: { ...baseEnv(), AIRWAVES_REDIS_URL: redis.url, AIRWAVES_PORT: '0', ...extra }, encoding: 'utf8', timeout: 60_000 });
  const noDb = run({ AIRWAVES_API_KEY: 'a-long-enough-shared-key-0123456789abcdef' });
  assert.equal(noDb.status, 78, noDb.stderr);
  assert.match(noDb.stderr, /DATABASE_URL is not/);
  assert.doesNotMatch(noDb.stderr, /AIRWAVES_API_KEY is not/);
  const noKey = run({ DATABASE_URL: pg.url });
  assert.equal(noKey.status, 78, noKey.stderr);
  assert.match(noKey.stderr, /AIRWAVES_API_KEY is not/);
});
