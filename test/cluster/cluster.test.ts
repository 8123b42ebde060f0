/**
 * The cluster as it runs in production: redis-server and several Airwaves nodes as real
 * processes. Cross-node order, recovery on another node, SIGKILL of nodes mid-stream, and a
 * Redis outage mid-stream (fallback to HTTP and back): every event reaches the client once.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { RawClient, sleep, type Frame } from '../helpers/server.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { NodeProcess, API_KEY } from './nodes.js';
import { RedisStreamsEventLog } from '../../src/events/redis-streams-event-log.js';
import { RedisStreamsPublisher } from '../../src/events/redis-publisher.js';
import { HttpEventPublisher } from '../../src/events/http-publisher.js';
import { RoutingEventPublisher } from '../../src/events/routing-publisher.js';
import { createLogger } from '../../src/core/logger.js';
import type { TransportEvent } from '../../src/events/publisher.js';

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const nOf = (f: Frame) => (f.data as { n: number }).n;

/**
 * A subscriber that moves to another node when its node dies and resubscribes from its last
 * offset, as the SDK does. It keeps every publication it was sent, duplicates included.
 */
class HoppingSubscriber {
  readonly received: Frame[] = [];
  readonly hops: string[] = [];
  /** Resubscriptions whose recovery was not complete (must stay empty). */
  readonly unrecovered: string[] = [];
  private client?: RawClient;
  private position?: { offset: number; epoch: string };
  private stopped = false;
  private turn = 0;
  constructor(
    private readonly nodes: NodeProcess[],
    private readonly channel: string,
  ) {}

  async start(): Promise<void> {
    await this.connect();
  }

  /**
   * Waits (bounded) for `published` publications, stops, asserts none came twice, and returns
   * the `n` of each publication in the order received.
   */
  async finish(published: number): Promise<number[]> {
    const deadline = Date.now() + 20_000;
    while (this.received.length < published && Date.now() < deadline) await sleep(50);
    await sleep(300);
    this.stop();
    const seen = new Map<number, number[]>();
    this.received.forEach((f) => seen.set(nOf(f), [...(seen.get(nOf(f)) ?? []), f.offset as number]));
    const dups = [...seen].filter(([, offsets]) => offsets.length > 1).map(([n, offsets]) => `n=${n} at offsets ${offsets.join(',')}`);
    assert.deepEqual(dups, [], `no duplicates (hops: ${this.hops.join(' → ')})`);
    return this.received.map(nOf);
  }

  private async connect(): Promise<void> {
    for (let attempt = 0; !this.stopped; attempt++) {
      const node = this.nodes[this.turn++ % this.nodes.length];
      let client: RawClient | undefined;
      try {
        const c = (client = await RawClient.open(node.wsUrl));
        // Generous: a node that just restarted on a loaded machine answers slowly at first.
        const reply = await c.request('subscribe', { channel: this.channel, ...(this.position ? { since: this.position } : {}) }, 10_000);
        if (!reply.ok) throw new Error(JSON.stringify(reply));
        const result = reply.result as { epoch: string; offset: number; recovered?: boolean };
        if (this.position && result.recovered !== true) this.unrecovered.push(`${node.options.id} from ${this.position.offset}`);
        this.position ??= { offset: result.offset, epoch: result.epoch };
        this.position.epoch = result.epoch;
        this.hops.push(node.options.id);
        this.client = c;
        const take = () => {
          for (const f of c.pushes.splice(0)) {
            if (f.channel === this.channel && typeof f.offset === 'number') {
              this.received.push(f);
              this.position!.offset = f.offset;
            }
          }
        };
        c.ws.on('message', () => setImmediate(take));
        take();
        c.ws.once('close', () => {
          take();
          if (!this.stopped) void this.connect();
        });
        return;
      } catch {
        client?.close();
        await sleep(Math.min(50 * (attempt + 1), 300));
      }
    }
  }

  stop(): void {
    this.stopped = true;
    this.client?.close();
  }
}

describe('cluster of real processes', () => {
  let redis: TestRedis;
  const nodes: NodeProcess[] = [];
  const logs: RedisStreamsEventLog[] = [];

  before(async () => {
    redis = await startRedis({ persistent: true });
    // Each node is recorded as soon as it runs, so after() stops it even when the other fails to start.
    await Promise.all(['node-a', 'node-b'].map(async (id) => nodes.push(await NodeProcess.start({ id, redisUrl: redis.url }))));
    nodes.sort((x, y) => x.options.id.localeCompare(y.options.id));
  });

  after(async () => {
    for (const l of logs) await l.close();
    await Promise.all(nodes.map((n) => n.kill('SIGKILL')));
    await redis?.close();
  });

  const event = (channel: string, n: number): TransportEvent => ({ eventId: randomUUID(), family: 'chat', channel, roomId: channel, type: 'message.created', body: { n } });
  const streamsPublisher = () => {
    const log = new RedisStreamsEventLog({ url: redis.url });
    logs.push(log);
    return new RedisStreamsPublisher(log, () => 10_000);
  };

  /** Waits until both consumer groups exist, so no event is published before a node listens. */
  async function groupsReady(): Promise<void> {
    const probe = redis.client();
    const deadline = Date.now() + 10_000;
    while ((((await probe.xinfo('GROUPS', 'events:chat').catch(() => [])) as unknown[]).length) < 2) {
      assert.ok(Date.now() < deadline, 'consumer groups created');
      await sleep(50);
    }
  }

  test('a client on node A receives, in order, what is published through node B', async () => {
    const [a, b] = nodes;
    const client = await RawClient.open(a.wsUrl);
    try {
      await client.request('subscribe', { channel: 'chat:procs' });
      for (let i = 1; i <= 200; i++) {
        const res = await fetch(`${b.url}/api/v1/publish`, {
          method: 'POST',
          headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
          body: JSON.stringify({ channel: 'chat:procs', data: { n: i } }),
        });
        assert.equal(res.status, 200);
      }
      await client.waitFor(() => client.publications('chat:procs').length >= 200);
      assert.deepEqual(client.publications('chat:procs').map(nOf), range(1, 200));
      assert.deepEqual(client.publications('chat:procs').map((f) => f.offset), range(1, 200));
    } finally {
      client.close();
    }
  });

  test('a client that leaves node A and resubscribes on node B with its last offset recovers every missed message', async () => {
    const [a, b] = nodes;
    const first = await RawClient.open(a.wsUrl);
    const reply = await first.request('subscribe', { channel: 'chat:hop' });
    const epoch = (reply.result as { epoch: string }).epoch;
    const publish = (node: NodeProcess, n: number) =>
      fetch(`${node.url}/api/v1/publish`, { method: 'POST', headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ channel: 'chat:hop', data: { n } }) });
    for (let i = 1; i <= 10; i++) await publish(a, i);
    await first.waitFor(() => first.publications('chat:hop').length === 10);
    first.close();
    for (let i = 11; i <= 40; i++) await publish(i % 2 ? a : b, i);
    const second = await RawClient.open(b.wsUrl);
    try {
      const again = await second.request('subscribe', { channel: 'chat:hop', since: { offset: 10, epoch } });
      assert.deepEqual({ ...(again.result as object), offset: undefined }, { channel: 'chat:hop', epoch, offset: undefined, recovered: true, replayed: 30 });
      await publish(a, 41);
      await second.waitFor(() => second.publications('chat:hop').length >= 31);
      await sleep(50);
      assert.deepEqual(second.publications('chat:hop').map(nOf), range(11, 41));
    } finally {
      second.close();
    }
  });

  test('zero loss, no duplicates when nodes are killed with SIGKILL mid-stream and restarted', async () => {
    await groupsReady();
    const channel = 'chat:kill9';
    const subscriber = new HoppingSubscriber(nodes, channel);
    await subscriber.start();
    const publisher = streamsPublisher();
    let published = 0;
    let producing = true;
    const producer = (async () => {
      // Bounded: at most 4000 events, one every ~3 ms, until the kills are over.
      while (producing && published < 4000) {
        await publisher.publish(event(channel, ++published));
        await sleep(3);
      }
    })();
    for (const victim of nodes) {
      await sleep(400);
      await victim.kill('SIGKILL');
      await sleep(300);
      await victim.start();
    }
    await sleep(300);
    producing = false;
    await producer;
    assert.ok(published > 200, `published ${published}`);
    const ns = await subscriber.finish(published);
    assert.deepEqual(subscriber.unrecovered, [], 'every resubscription recovered completely');
    assert.deepEqual(ns, range(1, published), `all ${published} events, in order (hops: ${subscriber.hops.join(' → ')})`);
    assert.ok(subscriber.hops.length >= 2, 'the subscriber had to move');

    // Each restarted node resumed from its last ack: nothing left pending or unread in its group.
    const probe = redis.client();
    const settle = Date.now() + 10_000;
    for (;;) {
      const groups = (await probe.xinfo('GROUPS', 'events:chat')) as unknown[][];
      const state = groups.map((g) => ({ name: g[1], pending: Number(g[5]), lag: g[11] }));
      if (state.every((g) => g.pending === 0 && (g.lag === 0 || g.lag === null))) break;
      assert.ok(Date.now() < settle, `groups drained: ${JSON.stringify(state)}`);
      await sleep(100);
    }
  });

  test('zero loss when Redis is stopped mid-stream and started again (HTTP fallback, then back to Redis)', async () => {
    await groupsReady();
    const channel = 'chat:outage';
    const subscriber = new HoppingSubscriber(nodes, channel);
    await subscriber.start();
    const log = new RedisStreamsEventLog({ url: redis.url });
    logs.push(log);
    const routing = new RoutingEventPublisher({
      redis: new RedisStreamsPublisher(log, () => 10_000),
      http: new HttpEventPublisher({ urls: () => nodes.map((n) => n.url), apiKey: API_KEY, retryForMs: 20_000 }),
      flags: { useRedisStreams: true, redisPercentage: 100, fallbackToHttp: true, dualWrite: false },
      logger: createLogger('silent'),
      breaker: { cooldownMs: 200, maxCooldownMs: 500 },
    });
    const transports: string[] = [];
    let published = 0;
    let producing = true;
    const producer = (async () => {
      while (producing && published < 4000) {
        transports.push((await routing.publish(event(channel, ++published))).transport);
        await sleep(3);
      }
    })();
    await sleep(500);
    await redis.stop();
    await sleep(1500);
    await redis.start();
    const back = Date.now() + 15_000;
    while (transports.at(-1) !== 'redis' || !transports.includes('http')) {
      assert.ok(Date.now() < back, `publishing went over HTTP and returned to Redis (${transports.slice(-3).join(',')})`);
      await sleep(50);
    }
    await sleep(300);
    producing = false;
    await producer;
    const ns = await subscriber.finish(published);
    assert.deepEqual(subscriber.unrecovered, [], 'every resubscription recovered completely');
    assert.deepEqual(ns, range(1, published), `all ${published} events in order`);
    assert.ok(transports.indexOf('http') > 0, 'the first events went over Redis');
  });

  test('a flag change PUT on node A is seen by GET on node B within 2 s, and a node started afterwards loads the stored flags over its configured ones', async () => {
    type State = { flags: Record<string, unknown>; flagsOrigin: { sources: Record<string, string>; version: number; updatedBy: string | null } };
    const admin = async (n: NodeProcess, method: 'GET' | 'PUT', body?: unknown) => {
      const res = await fetch(`${n.url}/api/v1/admin/event-transport`, {
        method,
        headers: { authorization: `Bearer ${API_KEY}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      assert.equal(res.status, 200, `${method} on ${n.options.id}`);
      return (await res.json()) as State;
    };
    const [a, b] = nodes;
    const initial = await admin(b, 'GET');
    assert.deepEqual(initial.flags, { useRedisStreams: true, redisPercentage: 100, fallbackToHttp: true, dualWrite: false });
    assert.deepEqual(Object.values(initial.flagsOrigin.sources), ['config', 'config', 'config', 'config']);

    const changed = await admin(a, 'PUT', { redisPercentage: 40, dualWrite: true });
    const putAt = Date.now();
    assert.deepEqual(changed.flags, { useRedisStreams: true, redisPercentage: 40, fallbackToHttp: true, dualWrite: true }, 'applied on node A before the answer');
    assert.equal(changed.flagsOrigin.updatedBy, 'node-a');
    assert.deepEqual(changed.flagsOrigin.sources, { useRedisStreams: 'config', redisPercentage: 'redis', fallbackToHttp: 'config', dualWrite: 'redis' });
    let onB = await admin(b, 'GET');
    while (onB.flagsOrigin.version !== changed.flagsOrigin.version) {
      assert.ok(Date.now() - putAt < 2000, `node B applied version ${changed.flagsOrigin.version} within 2 s (has ${onB.flagsOrigin.version})`);
      await sleep(25);
      onB = await admin(b, 'GET');
    }
    assert.deepEqual(onB.flags, changed.flags);
    assert.deepEqual(onB.flagsOrigin, changed.flagsOrigin);

    // Node C is configured differently: the stored flags win where set, its own config elsewhere.
    const c = await NodeProcess.start({ id: 'node-c', redisUrl: redis.url, env: { EVENT_TRANSPORT_REDIS_PERCENTAGE: '70', EVENT_TRANSPORT_FALLBACK_TO_HTTP: 'false', AIRWAVES_LOG_LEVEL: 'info' } });
    nodes.push(c);
    const onC = await admin(c, 'GET');
    assert.deepEqual(onC.flags, { useRedisStreams: true, redisPercentage: 40, fallbackToHttp: false, dualWrite: true });
    assert.deepEqual(onC.flagsOrigin, changed.flagsOrigin);
    assert.match(c.output, /event transport flags stored in Redis override configured ones/);
    await c.stop();

    // Forgetting the runtime flags on node B returns node A to its configured flags too.
    const cleared = await fetch(`${b.url}/api/v1/admin/event-transport/flags`, { method: 'DELETE', headers: { authorization: `Bearer ${API_KEY}` } });
    assert.equal(cleared.status, 200);
    const clearedVersion = ((await cleared.json()) as State).flagsOrigin.version;
    let back = await admin(a, 'GET');
    while (back.flagsOrigin.version !== clearedVersion) {
      assert.ok(Date.now() - putAt < 10_000, `node A applied the clear (version ${clearedVersion})`);
      await sleep(25);
      back = await admin(a, 'GET');
    }
    assert.deepEqual(back.flags, initial.flags);
    assert.deepEqual(Object.values(back.flagsOrigin.sources), ['config', 'config', 'config', 'config']);
  });
});
