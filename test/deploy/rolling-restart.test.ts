/**
 * @module test/deploy/rolling-restart
 * A rolling update as production runs it, with real processes: redis-server, PostgreSQL, two hub nodes
 * (`tsx src/cli.ts serve`), nginx in front as the Ingress/Service, SDK clients spread over both
 * nodes through it, and a publisher posting a numbered message every 25 ms. Each node in turn gets
 * SIGTERM (closing its WebSockets with 1012), exits, and is started again; the next node stops
 * the Deployment's minReadySeconds after that one is ready, as a rolling update does. Every client must
 * receive every message once and in order, reconnecting through nginx to the other node and
 * recovering from its offset, each back within 2 s of being disconnected.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { parse } from 'yaml';
import { AirwavesClient, type Subscription } from '../../src/client/index.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { startPostgres, type PostgresInstance } from '../helpers/postgres.js';
import { sleep } from '../helpers/server.js';
import { NodeProcess, API_KEY } from '../cluster/nodes.js';
import { startLoadBalancer, type LoadBalancer } from './load-balancer.js';

const CHANNEL = 'chat:rolling';
const CLIENTS = 16;
const PUBLISH_EVERY_MS = 25;
const BACK_WITHIN_MS = 2000;
/** As the Deployment's rolling update does: a restarted node serves this long before the next one stops. */
const MIN_READY_SECONDS = (parse(readFileSync('ops/kubernetes/deployment.yaml', 'utf8')) as { spec: { minReadySeconds: number } }).spec.minReadySeconds;

/** One SDK client and what it saw: every message number, each reconnection and how long it took. */
class Viewer {
  readonly received: number[] = [];
  readonly nodes: string[] = [];
  /** Milliseconds from `disconnected` to the resubscription's `recovered`, per reconnection. */
  readonly backMs: number[] = [];
  readonly unrecovered: string[] = [];
  readonly closeCodes: number[] = [];
  /** Failed reconnection attempts before each recovery (0 = the first attempt succeeded). */
  readonly failedAttempts: number[] = [];
  private attempts = 0;
  private disconnectedAt?: number;
  readonly client: AirwavesClient;
  sub?: Subscription;

  constructor(url: string) {
    this.client = new AirwavesClient({ url, WebSocket: WebSocket as never });
    this.client.on('connected', (c) => this.nodes.push(c.node));
    this.client.on('disconnected', ({ code }) => {
      this.closeCodes.push(code);
      this.disconnectedAt = performance.now();
      this.attempts = 0;
    });
    this.client.on('reconnecting', () => this.attempts++);
  }

  async start(): Promise<void> {
    await this.client.connect();
    this.sub = this.client.subscribe(CHANNEL, {
      publication: (p) => this.received.push((p.data as { n: number }).n),
      recovered: ({ recovered, replayed }) => {
        if (!recovered) this.unrecovered.push(`after ${this.received.at(-1)} (replayed ${replayed})`);
        if (this.disconnectedAt !== undefined) {
          this.backMs.push(performance.now() - this.disconnectedAt);
          this.failedAttempts.push(this.attempts - 1);
        }
        this.disconnectedAt = undefined;
      },
    });
    await this.sub.ready;
  }

  get back(): boolean {
    return this.client.state === 'connected' && this.sub?.state === 'subscribed' && this.disconnectedAt === undefined;
  }
}

/** Publishes `{n}` every PUBLISH_EVERY_MS through the load balancer; a failed post is retried with the same idempotency key. */
class Publisher {
  published = 0;
  retries = 0;
  private stopped = false;
  private done?: Promise<void>;
  constructor(private readonly url: string) {}

  start(): void {
    this.done = (async () => {
      while (!this.stopped) {
        const n = this.published + 1;
        const deadline = Date.now() + 10_000;
        for (;;) {
          const ok = await fetch(`${this.url}/api/v1/publish`, {
            method: 'POST',
            headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
            body: JSON.stringify({ channel: CHANNEL, data: { n }, idempotencyKey: `rolling-${n}` }),
            signal: AbortSignal.timeout(2000),
          }).then((r) => r.ok, () => false);
          if (ok) break;
          this.retries++;
          if (Date.now() > deadline) throw new Error(`publish of message ${n} failed for 10 s`);
          await sleep(50);
        }
        this.published = n;
        await sleep(PUBLISH_EVERY_MS);
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }
}

async function waitUntil(what: string, cond: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await sleep(20);
  }
}

describe('rolling restart of every node under load', () => {
  let redis: TestRedis;
  let postgres: PostgresInstance | undefined;
  let nodes: NodeProcess[] = [];
  let balancer: LoadBalancer | undefined;
  const viewers: Viewer[] = [];

  before(async () => {
    redis = await startRedis();
    postgres = await startPostgres();
    const env = {
      // As in production: one PostgreSQL for every node, the default drain, anonymous access chosen.
      DATABASE_URL: postgres.url,
      AIRWAVES_CLUSTER_LOCAL_DATABASE: 'false',
      AIRWAVES_SHUTDOWN_DRAIN_MS: '5000',
      AIRWAVES_ALLOW_ANONYMOUS: 'true',
      // Two nodes on one machine cannot both listen on 1935.
      AIRWAVES_LIVE_RTMP_PORT: '0',
      // The market simulator, like radio synthesis, would take CPU from the hub under test.
      AIRWAVES_MARKET_ENABLED: 'false',
    };
    nodes = await Promise.all(['roll-a', 'roll-b'].map((id) => NodeProcess.start({ id, redisUrl: redis.url, env })));
    balancer = await startLoadBalancer(nodes.map((n) => n.port));
  });

  after(async () => {
    for (const v of viewers) v.client.close();
    await balancer?.close();
    await Promise.all(nodes.map((n) => n.stop()));
    await redis?.close();
    await postgres?.stop();
  });

  test('SIGTERM each node in turn: 0 lost, 0 out of order, every client recovered and back within 2 s', async (t) => {
    for (let i = 0; i < CLIENTS; i++) {
      const v = new Viewer(balancer!.wsUrl);
      await v.start();
      viewers.push(v);
    }
    const initial = new Map<string, number>();
    for (const v of viewers) initial.set(v.nodes[0], (initial.get(v.nodes[0]) ?? 0) + 1);
    assert.deepEqual([...initial.keys()].sort(), ['roll-a', 'roll-b'], 'clients are spread over both nodes');
    assert.ok(Math.min(...initial.values()) >= CLIENTS / 4, `spread: ${JSON.stringify([...initial])}`);

    const publisher = new Publisher(balancer!.url);
    publisher.start();
    await sleep(1500);

    for (const node of nodes) {
      const id = node.options.id;
      const onIt = viewers.filter((v) => v.nodes.at(-1) === id);
      const before = publisher.published;
      await node.kill('SIGTERM');
      assert.equal(node.proc?.exitCode, 0, `${id} exits 0 after SIGTERM:\n${node.output}`);
      await waitUntil(`the ${onIt.length} clients of ${id} are back`, () => onIt.every((v) => v.back), 10_000);
      for (const v of onIt) assert.notEqual(v.nodes.at(-1), id, 'reconnected to the other node');
      assert.ok(publisher.published > before, 'the publisher kept going');
      await node.start(); // the rolling update's new node, on the same address, once ready
      await sleep(MIN_READY_SECONDS * 1000);
    }

    await sleep(500);
    await publisher.stop();
    const total = publisher.published;
    await waitUntil('every client has every message', () => viewers.every((v) => v.received.at(-1) === total), 15_000);

    const expected = Array.from({ length: total }, (_, i) => i + 1);
    const allBack: number[] = [];
    for (const [i, v] of viewers.entries()) {
      const lost = expected.filter((n) => !v.received.includes(n)).length;
      const outOfOrder = v.received.filter((n, k) => k > 0 && n <= v.received[k - 1]).length;
      assert.equal(lost, 0, `client ${i} lost ${lost} of ${total}`);
      assert.equal(outOfOrder, 0, `client ${i}: ${outOfOrder} out of order or duplicated`);
      assert.deepEqual(v.received, expected);
      assert.deepEqual(v.unrecovered, [], `client ${i} recovered every time`);
      assert.ok(v.closeCodes.length >= 1 && v.closeCodes.every((c) => c === 1012), `client ${i} was closed with 1012 only (${v.closeCodes.join(',')})`);
      assert.equal(v.backMs.length, v.closeCodes.length, `client ${i} came back after every disconnection`);
      for (const ms of v.backMs) assert.ok(ms < BACK_WITHIN_MS, `client ${i} back in ${ms.toFixed(0)} ms (target < ${BACK_WITHIN_MS}); all clients: ${viewers.map((w) => w.backMs.map((b, k) => `${b.toFixed(0)}ms/${w.failedAttempts[k]} failed`).join(' ')).join(', ')}`);
      allBack.push(...v.backMs);
    }
    // Clients of the first node moved twice (to the second, then back), the others once.
    assert.equal(allBack.length, CLIENTS + initial.get(nodes[0].options.id)!);
    allBack.sort((a, b) => a - b);
    t.diagnostic(
      `${total} messages to ${CLIENTS} clients, ${allBack.length} reconnections; time back p50 ${allBack[Math.floor(allBack.length / 2)].toFixed(0)} ms, ` +
        `max ${allBack.at(-1)!.toFixed(0)} ms; failed reconnection attempts ${viewers.reduce((a, v) => a + v.failedAttempts.reduce((x, y) => x + y, 0), 0)}; publisher retries ${publisher.retries}`,
    );
  });
});
