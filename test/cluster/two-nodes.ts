/**
 * @module test/cluster/two-nodes
 * The cluster tests' common rig: two in-process nodes (A and B) on one Redis backend, a real
 * redis-server of their own unless the test brings another (a Sentinel group), optionally with
 * node B's connections through a proxy (./redis-proxy.ts) that can cut or hold them, plus the
 * SDK clients the test opens on them; `close()` stops all of it in the right order (clients,
 * nodes, proxy, then Redis, so no command of a node is cut by Redis going first).
 */
import WebSocket from 'ws';
import { AirwavesClient } from '../../src/client/index.js';
import { startServer } from '../helpers/server.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import type { AirwavesConfig } from '../../src/config.js';
import { watch as watchOn, type Watcher } from './watchers.js';
import { RedisProxy } from './redis-proxy.js';

export type Node = Awaited<ReturnType<typeof startServer>>;

/** What the nodes connect to: a URL, the settings that go with it, and how to stop it. */
export interface RedisBackend {
  url: string;
  /** Where a proxy connects (a plain redis-server's port); needed for `proxyB`. */
  port?: number;
  config?: Partial<AirwavesConfig>;
  close(): Promise<void>;
}

/** Any node with a WebSocket endpoint: these two, or a NodeProcess the test started. */
export type Reachable = { wsUrl: string };

export interface TwoNodes<R extends RedisBackend = TestRedis> {
  redis: R;
  /** Node B's way to Redis, with `proxyB` (else undefined). */
  proxy?: RedisProxy;
  a: Node;
  b: Node;
  /** An SDK subscriber recording what `channel` delivers on a node (closed by `close()`). */
  watch(node: Reachable, channel: string): Promise<Watcher>;
  /** A connected SDK client on a node, in-process or not (closed by `close()`). */
  client(node: Reachable): Promise<AirwavesClient>;
  close(): Promise<void>;
}

/**
 * Starts nodes `<prefix>-a` and `<prefix>-b` with `config` on `backend()` (default: a fresh
 * redis-server). If a node fails to start, whatever did start is stopped before the error is thrown.
 */
export async function twoNodesOnRedis<R extends RedisBackend = TestRedis>(
  prefix: string,
  config: Partial<AirwavesConfig>,
  backend: () => Promise<R> = startRedis as unknown as () => Promise<R>,
  { proxyB = false }: { proxyB?: boolean } = {},
): Promise<TwoNodes<R>> {
  const redis = await backend();
  const nodes: Node[] = [];
  const clients: AirwavesClient[] = [];
  let proxy: RedisProxy | undefined;
  const close = async () => {
    for (const c of clients) c.close();
    await Promise.all(nodes.map((n) => n.close()));
    await proxy?.close();
    await redis.close();
  };
  try {
    if (proxyB) proxy = await RedisProxy.start(redis.port ?? Number(new URL(redis.url).port));
    for (const id of ['a', 'b']) {
      const url = id === 'b' && proxy ? proxy.url : redis.url;
      nodes.push(await startServer({ ...redis.config, ...config, redisUrl: url, nodeId: `${prefix}-${id}` }));
    }
  } catch (err) {
    await close();
    throw err;
  }
  return {
    redis,
    proxy,
    a: nodes[0],
    b: nodes[1],
    async watch(node, channel) {
      const w = await watchOn(node.wsUrl, channel);
      clients.push(w.client);
      return w;
    },
    async client(node) {
      const c = new AirwavesClient({ url: node.wsUrl, WebSocket: WebSocket as never });
      clients.push(c);
      await c.connect();
      return c;
    },
    close,
  };
}

/** A node's count of one `redis_engine_sync_events_total` event. */
export async function syncEvent(node: Node, event: string): Promise<number> {
  const metric = await node.metrics.getSingleMetric('redis_engine_sync_events_total')!.get();
  return metric.values.find((v) => v.labels.event === event)?.value ?? 0;
}
