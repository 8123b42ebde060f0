/**
 * @module test/cluster/redis-cluster-rig
 * A real Redis Cluster for the tests: N cluster-enabled redis-servers on random loopback ports,
 * joined by `redis-cli --cluster create` (masters only), ready once every node says
 * `cluster_state:ok`. As a backend for ./two-nodes.ts its URL is the seed list and its config
 * sets `redisCluster`.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import type { AirwavesConfig } from '../../src/config.js';

const run = promisify(execFile);

export interface TestRedisCluster {
  masters: TestRedis[];
  /** Every master's URL, comma-separated: the seeds. */
  url: string;
  config: Partial<AirwavesConfig>;
  close(): Promise<void>;
}

/** Polls `check` until it holds, failing with `what` after `timeoutMs`. */
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what} not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function startRedisCluster(size = 3): Promise<TestRedisCluster> {
  const masters: TestRedis[] = [];
  const close = async () => {
    for (const m of masters) await m.close();
  };
  try {
    for (let i = 0; i < size; i++) masters.push(await startRedis({ args: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '5000'] }));
    await run('redis-cli', ['--cluster', 'create', ...masters.map((m) => `127.0.0.1:${m.port}`), '--cluster-replicas', '0', '--cluster-yes'], { timeout: 60_000 });
    for (const m of masters) await waitFor(`cluster_state:ok on ${m.port}`, async () => (await m.client().cluster('INFO')).includes('cluster_state:ok'));
  } catch (err) {
    await close();
    throw err;
  }
  return { masters, url: masters.map((m) => m.url).join(','), config: { redisCluster: true }, close };
}
