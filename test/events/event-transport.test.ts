/**
 * The durable event transport end to end with real servers: apps publish through ctx.events,
 * each node's consumer delivers into the hub, duplicates die at the hub; rollout flags (per-room
 * percentage, dual-write, HTTP fallback) and their admin endpoint; dead-lettering.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startServer, RawClient, sleep, TEST_API_KEY } from '../helpers/server.js';
import { startRedis, freePort, type TestRedis } from '../helpers/redis.js';
import type { AirwavesServer } from '../../src/server.js';
import type { AirwavesConfig } from '../../src/config.js';
import type { AirwavesApp, AppContext } from '../../src/apps/app.js';
import type { TransportEvent } from '../../src/events/publisher.js';
import { RoutingEventPublisher, rolloutBucket } from '../../src/events/routing-publisher.js';
import { RedisStreamsEventLog } from '../../src/events/redis-streams-event-log.js';
import { RedisStreamsPublisher } from '../../src/events/redis-publisher.js';
import { HttpEventPublisher } from '../../src/events/http-publisher.js';
import { EventConsumer } from '../../src/events/event-consumer.js';
import { createTransportMetrics } from '../../src/events/publisher-metrics.js';
import { createRegistry } from '../../src/core/metrics.js';
import { createLogger } from '../../src/core/logger.js';
import { CircuitBreaker, type BreakerState } from '../../src/core/circuit-breaker.js';

type Node = AirwavesServer & { wsUrl: string };
const API_KEY = TEST_API_KEY;
const namespaces = [{ name: 'chat', publish: 'anonymous', historySize: 1000 }] as unknown as AirwavesConfig['namespaces'];
const silent = createLogger('silent');

/** An app that keeps its context, so the test publishes exactly as an app would. */
function probeApp(): { app: AirwavesApp; ctx: () => AppContext } {
  let ctx: AppContext | undefined;
  return {
    app: { name: 'probe', title: 'Probe', description: 'test probe', register: async (c) => void (ctx = c) },
    ctx: () => ctx!,
  };
}

const event = (channel: string, n: number, roomId = 'room-1', eventId: string = randomUUID()): TransportEvent => ({
  eventId,
  family: 'chat',
  channel,
  roomId,
  type: 'message.created',
  body: { n },
});

const ns = (f: { data?: unknown }) => (f.data as { n: number }).n;
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

async function metricValue(server: AirwavesServer, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = server.metrics.getSingleMetric(name);
  if (!metric) return 0;
  const values = (await metric.get()).values.filter((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val));
  return values.reduce((sum, v) => sum + v.value, 0);
}

describe('circuit breaker of the HTTP fallback', () => {
  test('opens on failure, lets one probe through after the cool-down (doubling while probes fail), closes on success; one change event per transition', () => {
    let now = 0;
    const changes: string[] = [];
    const breaker = new CircuitBreaker({ failureThreshold: 2, cooldownMs: 100, maxCooldownMs: 300, now: () => now, onChange: (s: BreakerState, p: BreakerState) => changes.push(`${p}>${s}`) });
    assert.equal(breaker.allow(), true);
    breaker.failure();
    assert.equal(breaker.state, 'closed', 'one failure is under the threshold');
    breaker.failure();
    assert.equal(breaker.state, 'open');
    assert.equal(breaker.allow(), false);
    now = 99;
    assert.equal(breaker.allow(), false, 'still cooling down');
    now = 100;
    assert.equal(breaker.allow(), true, 'the probe');
    assert.equal(breaker.allow(), false, 'only one probe at a time');
    breaker.failure();
    now = 299;
    assert.equal(breaker.allow(), false, 'the cool-down doubled to 200 ms');
    now = 300;
    assert.equal(breaker.allow(), true);
    breaker.failure();
    now = 300 + 300;
    assert.equal(breaker.allow(), true, 'the cool-down is capped at maxCooldownMs');
    breaker.success();
    assert.equal(breaker.state, 'closed');
    assert.deepEqual(changes, ['closed>open', 'open>half-open', 'half-open>open', 'open>half-open', 'half-open>open', 'open>half-open', 'half-open>closed']);
  });
});

describe('event transport without Redis (memory log)', () => {
  test('ctx.events.publish reaches subscribers once per event id', async () => {
    const probe = probeApp();
    const server = await startServer({ namespaces }, { apps: [probe.app] });
    const client = await RawClient.open(server.wsUrl);
    try {
      await client.request('subscribe', { channel: 'chat:mem' });
      const events = probe.ctx().events!;
      const first = event('chat:mem', 1);
      assert.deepEqual(await events.publish(first), { transport: 'memory' });
      await events.publish(first);
      await events.publish(event('chat:mem', 2));
      await client.waitFor(() => client.publications('chat:mem').length >= 2);
      await sleep(50);
      assert.deepEqual(client.publications('chat:mem').map(ns), [1, 2]);
      await assert.rejects(events.publish({ ...event('chat:mem', 3), family: 'nope' }), /family/);
      const state = await fetch(`${server.url}/api/v1/admin/event-transport`, { headers: { authorization: `Bearer ${API_KEY}` } });
      assert.equal(((await state.json()) as { kind: string }).kind, 'memory');
      const put = await fetch(`${server.url}/api/v1/admin/event-transport`, { method: 'PUT', headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' }, body: '{"dualWrite":true}' });
      assert.equal(put.status, 409);
      const clear = await fetch(`${server.url}/api/v1/admin/event-transport/flags`, { method: 'DELETE', headers: { authorization: `Bearer ${API_KEY}` } });
      assert.equal(clear.status, 409);
      assert.match(((await clear.json()) as { error: { message: string } }).error.message, /in-memory event transport/);
    } finally {
      client.close();
      await server.close();
    }
  });
});

describe('event transport on Redis (two nodes)', () => {
  let redis: TestRedis;
  let a: Node;
  let b: Node;
  const probeA = probeApp();
  const clients: RawClient[] = [];
  const open = async (n: Node, channel: string) => {
    const c = await RawClient.open(n.wsUrl);
    clients.push(c);
    await c.request('subscribe', { channel });
    return c;
  };
  const admin = (n: Node, method: string, body?: unknown, key = API_KEY) =>
    fetch(`${n.url}/api/v1/admin/event-transport`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });

  before(async () => {
    redis = await startRedis();
    a = await startServer({ redisUrl: redis.url, nodeId: 'ev-a', namespaces }, { apps: [probeA.app] });
    b = await startServer({ redisUrl: redis.url, nodeId: 'ev-b', namespaces });
    // Both consumers must have created their groups before the first event.
    const probe = redis.client();
    const deadline = Date.now() + 30_000;
    const groups = async () => ((await probe.xinfo('GROUPS', 'events:chat').catch(() => [])) as unknown[]).length;
    while ((await groups()) < 2) {
      assert.ok(Date.now() < deadline, 'both nodes created their consumer groups');
      await sleep(20);
    }
  });
  after(async () => {
    for (const c of clients) c.close();
    await Promise.all([a?.close(), b?.close()]);
    await redis?.close();
  });

  test('an event published through Redis Streams on node A reaches a client on node B once, in order', async () => {
    const client = await open(b, 'chat:streams');
    const events = probeA.ctx().events!;
    for (let i = 1; i <= 100; i++) assert.deepEqual(await events.publish(event('chat:streams', i)), { transport: 'redis' });
    await client.waitFor(() => client.publications('chat:streams').length >= 100);
    await sleep(200);
    assert.deepEqual(client.publications('chat:streams').map(ns), range(1, 100), 'both nodes consumed every event, the hub kept one copy');
    assert.equal(await metricValue(a, 'events_published_total', { transport: 'redis', event_type: 'message.created' }), 100);
    assert.ok((await metricValue(a, 'events_consumed_total')) >= 100);
  });

  test('/metrics exposes publish duration and counts, queue depth, group lag, dead letters, fallback and Redis latency', async () => {
    const text = await (await fetch(`${a.url}/metrics`)).text();
    const sample = (pattern: RegExp) => {
      const line = text.split('\n').find((l) => pattern.test(l));
      assert.ok(line, `a sample matching ${pattern}`);
      return Number(line.slice(line.lastIndexOf(' ') + 1));
    };
    assert.ok(sample(/^event_publish_duration_seconds_count\{transport="redis"\}/) >= 100);
    assert.ok(sample(/^events_published_total\{transport="redis",event_type="message.created"\}/) >= 100);
    // Every node's group is visible from any node (XINFO GROUPS), and both have caught up.
    const deadline = Date.now() + 20_000;
    for (;;) {
      const now = await (await fetch(`${a.url}/metrics`)).text();
      const lag = (group: string) => now.split('\n').find((l) => l.startsWith(`event_consumer_group_lag{stream="events:chat",group="${group}"}`));
      if (lag('hub-ev-a')?.endsWith(' 0') && lag('hub-ev-b')?.endsWith(' 0') && /^event_queue_depth\{stream="events:chat"\} 0$/m.test(now)) break;
      assert.ok(Date.now() < deadline, `both groups drained:\n${now.split('\n').filter((l) => /group_lag|queue_depth/.test(l)).join('\n')}`);
      await sleep(100);
    }
    assert.match(text, /^# TYPE events_dead_lettered_total counter$/m);
    assert.equal(sample(/^event_transport_fallback_active /), 0);
    assert.ok(sample(/^redis_command_duration_seconds_count\{op="publish"\}/) >= 100);
    assert.ok(sample(/^redis_command_duration_seconds_count\{op="xadd"\}/) >= 100);
  });

  test('the admin endpoint needs the API key, validates flags and changes them at runtime', async () => {
    assert.equal((await admin(a, 'GET', undefined, 'wrong-key-0123456789xx')).status, 401);
    const state = (await (await admin(a, 'GET')).json()) as { kind: string; flags: Record<string, unknown>; families: Record<string, number> };
    assert.equal(state.kind, 'redis');
    assert.deepEqual(state.flags, { useRedisStreams: true, redisPercentage: 100, fallbackToHttp: true, dualWrite: false });
    assert.deepEqual(state.families, { chat: 10_000, ticket: 5_000, remote: 1_000 });
    const bad = await admin(a, 'PUT', { redisPercentage: 150 });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: { code: string } }).error.code, 'bad_request');
    assert.equal((await admin(a, 'PUT', { surprise: true })).status, 400);
    const changed = (await (await admin(a, 'PUT', { useRedisStreams: false })).json()) as { flags: { useRedisStreams: boolean }; flagsOrigin: { version: number; sources: Record<string, string> } };
    assert.equal(changed.flags.useRedisStreams, false);
    assert.equal(changed.flagsOrigin.sources.useRedisStreams, 'redis');
    // Stored in Redis and announced: node B applies the same version shortly after.
    const deadline = Date.now() + 2000;
    for (;;) {
      const onB = (await (await admin(b, 'GET')).json()) as { flags: { useRedisStreams: boolean }; flagsOrigin: { version: number } };
      if (onB.flagsOrigin.version === changed.flagsOrigin.version && !onB.flags.useRedisStreams) break;
      assert.ok(Date.now() < deadline, 'node B applied the change made on node A');
      await sleep(20);
    }
    const client = await open(b, 'chat:http');
    assert.deepEqual(await probeA.ctx().events!.publish(event('chat:http', 1)), { transport: 'http' });
    await client.waitPush((f) => f.channel === 'chat:http');
    await admin(a, 'PUT', { useRedisStreams: true });
  });

  test('percentage rollout is stable per room: a room always takes the same transport', async () => {
    const buckets = new Map<string, number>();
    for (let i = 0; i < 1000; i++) buckets.set(`room-${i}`, rolloutBucket(`room-${i}`));
    const onRedis = [...buckets.values()].filter((bucket) => bucket < 30).length;
    assert.ok(onRedis > 220 && onRedis < 380, `${onRedis} of 1000 rooms under 30%`);
    for (const [room, bucket] of buckets) assert.equal(rolloutBucket(room), bucket);

    await admin(a, 'PUT', { redisPercentage: 30 });
    const client = await open(b, 'chat:rollout');
    const rooms = ['room-1', 'room-2', 'room-3', 'room-4', 'room-5', 'room-6', 'room-7', 'room-8'];
    const seen = new Map<string, Set<string>>();
    let n = 0;
    for (let round = 0; round < 5; round++) {
      for (const room of rooms) {
        const { transport } = await probeA.ctx().events!.publish(event('chat:rollout', ++n, room));
        if (!seen.has(room)) seen.set(room, new Set());
        seen.get(room)!.add(transport);
      }
    }
    for (const [room, transports] of seen) {
      assert.equal(transports.size, 1, `room ${room} used ${[...transports].join('+')}`);
      assert.equal([...transports][0], rolloutBucket(room) < 30 ? 'redis' : 'http');
    }
    await client.waitFor(() => client.publications('chat:rollout').length >= n);
    await sleep(200);
    assert.equal(client.publications('chat:rollout').length, n, 'no event lost or doubled across the two transports');
    await admin(a, 'PUT', { redisPercentage: 100 });
  });

  test('dual-write delivers each event exactly once', async () => {
    await admin(a, 'PUT', { dualWrite: true });
    const client = await open(b, 'chat:dual');
    for (let i = 1; i <= 100; i++) await probeA.ctx().events!.publish(event('chat:dual', i));
    await client.waitFor(() => client.publications('chat:dual').length >= 100);
    await sleep(300);
    assert.deepEqual(client.publications('chat:dual').map(ns), range(1, 100));
    const offsets = client.publications('chat:dual').map((f) => f.offset);
    assert.equal(new Set(offsets).size, 100, 'one offset per event');
    await admin(a, 'PUT', { dualWrite: false });
  });

  test('the internal events endpoint needs the API key, validates, and dedupes by event id', async () => {
    const post = (body: unknown, key = API_KEY) =>
      fetch(`${b.url}/internal/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal((await post(event('chat:internal', 1), 'wrong-key-0123456789xx')).status, 401);
    const badFamily = await post({ ...event('chat:internal', 1), family: 'video' });
    assert.equal(badFamily.status, 400);
    assert.match(((await badFamily.json()) as { error: { message: string } }).error.message, /family/);
    assert.equal((await post({ ...event('chat:internal', 1), body: undefined })).status, 400);
    const unknownNs = await post(event('nope:x', 1));
    assert.equal(unknownNs.status, 404);
    const e = event('chat:internal', 1);
    const first = await (await post(e)).json();
    const again = await (await post(e)).json();
    assert.deepEqual(first, again);
  });

  test('when Redis Streams fail, events go over HTTP (fallback gauge on) and come back when Redis answers', async () => {
    const registry = createRegistry(false);
    const metrics = createTransportMetrics(registry);
    const deadPort = await freePort();
    const deadLog = new RedisStreamsEventLog({ url: `redis://127.0.0.1:${deadPort}` });
    const http = new HttpEventPublisher({ urls: () => [a.url], apiKey: API_KEY, metrics });
    const routing = new RoutingEventPublisher({
      redis: new RedisStreamsPublisher(deadLog, () => 1000, metrics),
      http,
      flags: { useRedisStreams: true, redisPercentage: 100, fallbackToHttp: true, dualWrite: false },
      logger: silent,
      metrics,
      breaker: { cooldownMs: 100, maxCooldownMs: 200 },
    });
    const client = await open(b, 'chat:fallback');
    const transports: string[] = [];
    for (let i = 1; i <= 20; i++) transports.push((await routing.publish(event('chat:fallback', i))).transport);
    assert.ok(transports.every((t) => t === 'http'));
    assert.equal(routing.fallbackActive, true);
    assert.equal((await registry.getSingleMetric('event_transport_fallback_active')!.get()).values[0].value, 1);
    assert.equal((await registry.getSingleMetric('event_transport_fallbacks_total')!.get()).values[0].value, 20);

    const strict = new RoutingEventPublisher({
      redis: new RedisStreamsPublisher(deadLog, () => 1000),
      http,
      flags: { useRedisStreams: true, redisPercentage: 100, fallbackToHttp: false, dualWrite: false },
      logger: silent,
    });
    await assert.rejects(strict.publish(event('chat:fallback', 99)), (err: Error & { code?: string }) => err.code === 'engine_unavailable');

    // Redis comes up on that port: the breaker's probe finds it and publishing returns to Redis.
    const revived = await startRedisOn(deadPort);
    try {
      const deadline = Date.now() + 10_000;
      let transport = 'http';
      let n = 20;
      while (transport !== 'redis') {
        assert.ok(Date.now() < deadline, 'publishing returned to Redis');
        transport = (await routing.publish(event('chat:fallback', ++n))).transport;
        await sleep(50);
      }
      assert.equal(routing.fallbackActive, false);
      assert.equal((await registry.getSingleMetric('event_transport_fallback_active')!.get()).values[0].value, 0);
      // That last event sits in the other Redis (nobody consumes it); everything before arrived once.
      await client.waitFor(() => client.publications('chat:fallback').length >= n - 1);
      await sleep(100);
      assert.deepEqual(client.publications('chat:fallback').map(ns), range(1, n - 1));
    } finally {
      await deadLog.close();
      await revived.close();
    }
  });

  test('acks are gathered: events arriving one by one cost one XACK per ack delay, and stop() acks what is still waiting', async () => {
    const log = new RedisStreamsEventLog({ url: redis.url });
    const acks: string[][] = [];
    const ack = log.ack.bind(log);
    log.ack = (stream, group, ids) => {
      acks.push(ids);
      return ack(stream, group, ids);
    };
    const received: unknown[] = [];
    const hub = { publish: async (_channel: string, data: unknown) => void received.push(data) };
    // An ack delay far longer than the five appends take even on a loaded machine (a CI run at load 13
    // saw the first ack leave before the fifth event at 300 ms): what is tested is the gathering.
    const consumer = new EventConsumer({ log, hub, nodeId: 'acks', families: ['acks'], logger: silent, ackDelayMs: 1500, blockMs: 50 });
    const producer = new RedisStreamsEventLog({ url: redis.url });
    try {
      consumer.start();
      await sleep(200);
      const append = (n: number) => producer.append('events:acks', { id: `a-${n}`, ch: 'chat:acks', room: 'r', type: 't', body: JSON.stringify({ n }) });
      for (let n = 1; n <= 5; n++) {
        await append(n);
        await sleep(20);
      }
      for (let i = 0; i < 100 && received.length < 5; i++) await sleep(10);
      assert.equal(received.length, 5, 'every event reached the hub at once');
      assert.equal(acks.length, 0, 'no ack sent yet: they wait for the delay');
      for (let i = 0; i < 300 && acks.length === 0; i++) await sleep(10);
      await sleep(100);
      assert.equal(acks.length, 1, 'one XACK for the five');
      assert.equal(acks[0].length, 5);
      await append(6);
      for (let i = 0; i < 100 && received.length < 6; i++) await sleep(10);
      await consumer.stop();
      assert.equal(acks.length, 2, 'stop() sent the waiting ack');
      const group = (await log.groups('events:acks')).find((g) => g.name === 'hub-acks')!;
      assert.equal(group.pending, 0, 'a clean stop leaves nothing pending');
    } finally {
      await consumer.stop();
      await log.close();
      await producer.close();
    }
  });

  test('an event the hub can never accept, or one delivered too often, goes to the dead-letter stream', async () => {
    const log = new RedisStreamsEventLog({ url: redis.url });
    const registry = createRegistry(false);
    // A hub whose own engine points at a Redis that is not there: every publish fails with 503.
    const broken = await startServer({ redisUrl: `redis://127.0.0.1:${await freePort()}`, nodeId: 'broken', namespaces });
    const consumer = new EventConsumer({ log, hub: broken.hub, nodeId: 'dlq', families: ['ticket'], logger: silent, metrics: registry, maxDeliveries: 2, claimIdleMs: 100, blockMs: 50 });
    try {
      consumer.start();
      await sleep(200);
      await log.append('events:ticket', { id: 'poison-1', ch: 'chat:dlq', room: 'r', type: 't', body: '{}' });
      await log.append('events:ticket', { garbage: 'yes' });
      const deadline = Date.now() + 10_000;
      let dead: Awaited<ReturnType<typeof log.range>> = [];
      while (dead.length < 2) {
        assert.ok(Date.now() < deadline, 'both entries dead-lettered');
        await sleep(100);
        dead = (await log.range('events:dead')).filter((e) => e.fields.node === 'dlq');
      }
      const poison = dead.find((e) => e.fields.id === 'poison-1')!;
      assert.equal(poison.fields.stream, 'events:ticket');
      assert.match(poison.fields.reason, /delivered 3 times/);
      assert.ok(dead.some((e) => e.fields.garbage === 'yes' && /lacks/.test(e.fields.reason)));
      const counted = (await registry.getSingleMetric('events_dead_lettered_total')!.get()).values;
      assert.equal(counted.reduce((s, v) => s + v.value, 0), 2);
      // Acks go out within the consumer's ack delay (100 ms).
      const pendingOf = async () => (await log.groups('events:ticket')).find((g) => g.name === 'hub-dlq')!.pending;
      for (let i = 0; i < 20 && (await pendingOf()) > 0; i++) await sleep(50);
      assert.equal(await pendingOf(), 0, 'dead-lettered entries are acked');
      const depth = (await registry.getSingleMetric('event_queue_depth')!.get()).values;
      assert.deepEqual(depth.map((v) => [v.labels.stream, v.value]), [['events:ticket', 0]]);
    } finally {
      await log.close();
      await consumer.stop();
      await broken.close();
    }
  });
});

async function startRedisOn(port: number): Promise<{ close(): Promise<void> }> {
  const { spawn } = await import('node:child_process');
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const log = new RedisStreamsEventLog({ url: `redis://127.0.0.1:${port}` });
  const deadline = Date.now() + 5000;
  while (!(await log.ping())) {
    if (Date.now() > deadline) throw new Error('redis did not start');
    await sleep(25);
  }
  await log.close();
  return {
    close: async () => {
      const gone = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await gone;
    },
  };
}
