/**
 * @module bench/support
 * The help desk benchmark: `npm run bench -- support [--users 50,100,200,500] [--duration 12]
 * [--transports memory,redis]`.
 *
 * For each transport and user count, half the users are customers with a ticket each and half
 * are agents, one per room; everyone holds a WebSocket on their room, types like the simulated
 * typists of src/apps/support/typing-sim.ts (one typing publish per keystroke) and posts chat
 * messages over REST. Transports:
 * - `memory`: one node, embedded PGlite, events through the in-process event log;
 * - `redis`: two nodes sharing Redis (hub engine + Redis Streams event log) and PostgreSQL;
 *   customers are on node A, agents on node B, so every conversation crosses nodes.
 * Reported: p50/p95/p99 publish→client latency (chat and typing), REST send → other member's
 * receipt, the spread of p99 against the 50-user run, loss and duplicates, and the typing
 * coalescing cut. The load generator runs in a worker thread (its own event loop).
 * Results: bench/results/support.json and support.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { createServer, type AirwavesServer } from '../../src/server.js';
import { createLogger } from '../../src/core/logger.js';
import { createSupportApp, type SupportApp } from '../../src/apps/support/index.js';
import { mintToken } from '../../src/hub/auth.js';
import type { AirwavesConfig } from '../../src/core/config.js';
import { startRedis, type TestRedis } from '../../test/helpers/redis.js';
import { startPostgres, type PostgresInstance } from '../../test/helpers/postgres.js';
import type { LoadInput, LoadOutput, LoadUser } from './load.js';

const here = dirname(fileURLToPath(import.meta.url));
type Transport = 'memory' | 'redis';

interface Options {
  users: number[];
  durationMs: number;
  transports: Transport[];
}

function parseArgs(args: string[]): Options {
  const opts: Options = { users: [50, 100, 200, 500], durationMs: 12_000, transports: ['memory', 'redis'] };
  for (let i = 0; i < args.length; i++) {
    const [flag, value] = [args[i], args[i + 1]];
    if (flag === '--users') opts.users = value.split(',').map((v) => Math.max(2, Math.min(2000, Number(v))));
    else if (flag === '--duration') opts.durationMs = Math.max(2, Math.min(120, Number(value))) * 1000;
    else if (flag === '--transports') opts.transports = value.split(',') as Transport[];
    else if (flag === '--help') {
      console.log('npm run bench -- support [--users 50,100,200,500] [--duration 12] [--transports memory,redis]');
      process.exit(0);
    } else continue;
    i++;
  }
  return opts;
}

interface Env {
  nodes: { server: AirwavesServer; app: SupportApp; ws: string }[];
  jwtSecret: string;
  close(): Promise<void>;
}

const BASE: Partial<AirwavesConfig> = {
  port: 0,
  host: '127.0.0.1',
  logLevel: 'warn',
  shutdownDrainMs: 200,
  // The load generator runs every user from one address.
  maxConnectionsPerIp: 100_000,
};

async function startNode(config: Partial<AirwavesConfig>): Promise<Env['nodes'][number]> {
  const app = createSupportApp();
  const server = await createServer({ env: {}, apps: [app], logger: createLogger('warn'), config: { ...BASE, ...config } });
  await server.listen();
  return { server, app, ws: server.url.replace('http', 'ws') + '/ws' };
}

async function startEnv(transport: Transport): Promise<Env> {
  if (transport === 'memory') {
    const node = await startNode({ databaseUrl: 'pglite://memory' });
    return { nodes: [node], jwtSecret: node.server.config.jwtSecret, close: () => node.server.close() };
  }
  let redis: TestRedis | undefined;
  let pg: PostgresInstance | undefined;
  [redis, pg] = await Promise.all([startRedis(), startPostgres({ database: 'support_bench' })]);
  const a = await startNode({ redisUrl: redis.url, databaseUrl: pg.url, nodeId: 'bench-a' });
  const b = await startNode({ redisUrl: redis.url, databaseUrl: pg.url, nodeId: 'bench-b' });
  return {
    nodes: [a, b],
    jwtSecret: a.server.config.jwtSecret,
    async close() {
      await Promise.all([a.server.close(), b.server.close()]);
      await Promise.all([redis?.close(), pg?.stop()]);
      redis = undefined;
      pg = undefined;
    },
  };
}

/** Creates `count` users (half customers with a ticket each, half agents, one per room). */
async function prepareUsers(env: Env, count: number, runId: string): Promise<LoadUser[]> {
  const desk = env.nodes[0].app.desk!;
  const rooms = Math.floor(count / 2);
  const users: LoadUser[] = [];
  for (let r = 0; r < rooms; r++) {
    const customer = await desk.upsertUser({ id: `b${runId}-c${r}`, name: `Customer ${r}`, role: 'customer' });
    const agent = await desk.upsertUser({ id: `b${runId}-a${r}`, name: `Agent ${r}`, role: 'agent' });
    const { ticket } = await desk.createTicket(customer, { subject: `Bench ticket ${r}`, body: 'opening message' });
    const customerNode = env.nodes[0];
    const agentNode = env.nodes[env.nodes.length - 1];
    users.push({ id: customer.id, role: 'customer', ticketId: ticket.id, token: await mintToken({ sub: customer.id }, env.jwtSecret), wsUrl: customerNode.ws, httpUrl: customerNode.server.url });
    users.push({ id: agent.id, role: 'agent', ticketId: ticket.id, token: await mintToken({ sub: agent.id }, env.jwtSecret), wsUrl: agentNode.ws, httpUrl: agentNode.server.url });
  }
  return users;
}

function runLoad(input: LoadInput): Promise<LoadOutput> {
  return new Promise((resolve, reject) => {
    // Node 20 does not carry tsx's loader into workers: the worker registers it, then loads the TS.
    const entry = new URL('./load.ts', import.meta.url).href;
    const bootstrap = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(entry)}); })`;
    const worker = new Worker(bootstrap, { eval: true, workerData: input });
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(new Error('load worker timed out'));
    }, input.durationMs + 120_000);
    worker.once('message', (m: { ok: boolean; out?: LoadOutput; error?: string }) => {
      clearTimeout(timer);
      void worker.terminate();
      if (m.ok) resolve(m.out!);
      else reject(new Error(m.error));
    });
    worker.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

function stats(values: number[]): { n: number; p50: number; p95: number; p99: number; max: number } {
  const s = [...values].sort((a, b) => a - b);
  const r = (v: number) => Math.round(v * 100) / 100;
  return { n: s.length, p50: r(percentile(s, 50)), p95: r(percentile(s, 95)), p99: r(percentile(s, 99)), max: r(s.at(-1) ?? NaN) };
}

interface StepResult {
  transport: Transport;
  users: number;
  rooms: number;
  chat: ReturnType<typeof stats>;
  typing: ReturnType<typeof stats>;
  endToEnd: ReturnType<typeof stats>;
  messagesSent: number;
  sendErrors: number;
  expectedDeliveries: number;
  delivered: number;
  lost: number;
  duplicates: number;
  typingOffered: number;
  typingAbsorbed: number;
  coalescingCut: number;
  typingReceived: number;
  spreadP99VsFirst?: number;
}

export async function main(args: string[]): Promise<void> {
  const opts = parseArgs(args);
  const started = Date.now();
  console.log(`support benchmark: users ${opts.users.join(', ')}; ${opts.durationMs / 1000} s per step; transports ${opts.transports.join(', ')}`);
  const steps: StepResult[] = [];
  for (const transport of opts.transports) {
    const env = await startEnv(transport);
    try {
      for (const [index, count] of opts.users.entries()) {
        const before = env.nodes.map((n) => ({ ...n.app.typing!.stats }));
        const users = await prepareUsers(env, count, `${transport[0]}${index}`);
        const out = await runLoad({ users, durationMs: opts.durationMs, seed: index + 1 });
        const after = env.nodes.map((n) => n.app.typing!.stats);
        const offered = after.reduce((s, a, i) => s + a.offered - before[i].offered, 0);
        const absorbed = after.reduce((s, a, i) => s + a.absorbed - before[i].absorbed, 0);
        const step: StepResult = {
          transport,
          users: users.length,
          rooms: users.length / 2,
          chat: stats(out.chatLatencies),
          typing: stats(out.typingLatencies),
          endToEnd: stats(out.endToEnd),
          messagesSent: out.messagesSent,
          sendErrors: out.sendErrors,
          expectedDeliveries: out.expectedDeliveries,
          delivered: out.delivered,
          lost: Math.max(0, out.expectedDeliveries - out.delivered),
          duplicates: out.duplicates,
          typingOffered: offered,
          typingAbsorbed: absorbed,
          coalescingCut: offered ? Math.round((absorbed / offered) * 1000) / 10 : 0,
          typingReceived: out.typingReceived,
        };
        const first = steps.find((s) => s.transport === transport);
        if (first) step.spreadP99VsFirst = Math.round(((step.chat.p99 - first.chat.p99) / first.chat.p99) * 1000) / 10;
        steps.push(step);
        console.log(
          `[${transport}] ${step.users} users / ${step.rooms} rooms: chat publish→client p50 ${step.chat.p50} p95 ${step.chat.p95} p99 ${step.chat.p99} ms (n=${step.chat.n}); ` +
            `typing p99 ${step.typing.p99} ms; send→other p99 ${step.endToEnd.p99} ms; lost ${step.lost}/${step.expectedDeliveries}, dup ${step.duplicates}, send errors ${step.sendErrors}; ` +
            `coalescing cut ${step.coalescingCut}% (${absorbed}/${offered})` +
            (step.spreadP99VsFirst !== undefined ? `; p99 spread vs ${first!.users} users ${step.spreadP99VsFirst}%` : ''),
        );
      }
    } finally {
      await env.close();
    }
  }
  const results = {
    benchmark: 'support',
    date: new Date().toISOString(),
    wallSeconds: Math.round((Date.now() - started) / 1000),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version },
    options: opts,
    target: 'redis, 2 nodes, 500 users: chat p99 < 20 ms, zero loss, p99 spread (vs 50 users) < 20%',
    steps,
  };
  const dir = join(here, '..', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'support.json'), JSON.stringify(results, null, 2));
  writeFileSync(join(dir, 'support.md'), renderMarkdown(results));
  console.log(`\nwrote bench/results/support.json and support.md (${results.wallSeconds} s)`);
}

function renderMarkdown(r: { date: string; machine: { cpus: number; cpuModel: string; node: string }; options: Options; target: string; steps: StepResult[] }): string {
  const rows = r.steps.map(
    (s) =>
      `| ${s.transport} | ${s.users} | ${s.chat.p50} | ${s.chat.p95} | ${s.chat.p99} | ${s.spreadP99VsFirst ?? '—'} | ${s.typing.p99} | ${s.endToEnd.p50} / ${s.endToEnd.p99} | ${s.messagesSent} | ${s.lost} | ${s.duplicates} | ${s.coalescingCut}% |`,
  );
  return [
    '# Help desk benchmark',
    '',
    `${r.date} · ${r.machine.cpus} × ${r.machine.cpuModel} · Node ${r.machine.node} · ${r.options.durationMs / 1000} s per step`,
    '',
    `Target: ${r.target}.`,
    '',
    'Latencies in ms. "chat" is publish→client: from the event\'s creation on the server (after the message is stored) to its receipt by a room member. "send→other" is REST send → receipt by the other member (includes the database insert). Spread: p99 change against the first (smallest) step of the same transport. Cut: typing publishes absorbed by the 100 ms coalescing window.',
    '',
    '| transport | users | chat p50 | chat p95 | chat p99 | p99 spread % | typing p99 | send→other p50 / p99 | messages | lost | dup | coalescing cut |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}
