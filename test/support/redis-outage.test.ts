/**
 * @module test/support/redis-outage
 * No silent loss when the event log's Redis stops while the help desk emits: a real
 * redis-server is stopped under a running server (hub engine and event log on it). The stored
 * message still answers 201 (the outbox holds its event); the emit failure reaches its caller,
 * the outbox relay, as `engine_unavailable` (kept in the row's last_error) and is counted
 * (`events_publish_failures_total{code}`, `support_outbox_relay_failures_total`,
 * `support_outbox_pending`); with the HTTP fallback on (the default) the relay goes over HTTP and
 * that is counted too (`event_transport_fallbacks_total`). When Redis is back the event is
 * delivered once.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startDesk, eventsOn } from './harness.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { sleep, until, type RawClient } from '../helpers/server.js';
import { roomChannel } from '../../src/apps/support/event-bus.js';

type Desk = Awaited<ReturnType<typeof startDesk>>;

/** The value of one sample in a /metrics text, or 0 when absent. */
function sample(text: string, name: string, labels = ''): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

describe('help desk events while Redis is stopped', () => {
  let redis: TestRedis;
  before(async () => {
    redis = await startRedis({ persistent: true });
  });
  after(async () => {
    await redis?.close();
  });

  async function scenario(desk: Desk, key: string): Promise<{ watcher: RawClient; ticketId: string; eventId: string; messageId: number; post: () => Promise<{ status: number; body: { message: { id: number; eventId: string } } }> }> {
    const carla = await desk.login('cust-carla');
    const opened = await carla.api<{ ticket: { id: string } }>('POST', '/tickets', { subject: `Outage ${key}`, body: 'before the outage' });
    assert.equal(opened.status, 201);
    const ticketId = opened.body.ticket.id;
    await until('the opening event relayed', async () => (await desk.app.outbox!.pending()) === 0);
    const watcher = await desk.wsClient(carla.token);
    assert.equal((await watcher.request('subscribe', { channel: roomChannel(ticketId) })).ok, true);

    await redis.stop();
    const post = async () => {
      const res = await fetch(`${desk.base}/tickets/${ticketId}/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${carla.token}`, 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify({ body: `during the outage ${key}` }),
      });
      return { status: res.status, body: (await res.json()) as { message: { id: number; eventId: string } } };
    };
    const first = await post();
    assert.equal(first.status, 201, `stored data answers 201 while Redis is down: ${JSON.stringify(first.body)}`);
    const retry = await post();
    assert.equal(retry.body.message.id, first.body.message.id, 'the client retry stores nothing twice');
    return { watcher, ticketId, eventId: first.body.message.eventId, messageId: first.body.message.id, post };
  }

  async function deliveredOnce(desk: Desk, watcher: RawClient, ticketId: string, key: string): Promise<void> {
    await until('the outbox drained after Redis came back', async () => (await desk.app.outbox!.pending()) === 0, 60_000);
    const text = `during the outage ${key}`;
    await watcher.waitFor(() => eventsOn(watcher, roomChannel(ticketId)).some((e) => e.type === 'chat_message' && e.payload.body === text), 30_000);
    await sleep(500);
    assert.equal(eventsOn(watcher, roomChannel(ticketId)).filter((e) => e.type === 'chat_message' && e.payload.body === text).length, 1, 'delivered exactly once');
    const stored = await desk.app.desk!.db.selectFrom('support_messages').select('id').where('body', '=', text).execute();
    assert.equal(stored.length, 1, 'one stored row');
  }

  test('fallback off: the relay hears engine_unavailable, every failure is counted, and the event is appended once when Redis is back', { timeout: 180_000 }, async () => {
    const desk = await startDesk({ redisUrl: redis.url, nodeId: 'outage-strict', eventTransportFallbackToHttp: false });
    let watcher: RawClient | undefined;
    try {
      const s = await scenario(desk, 'strict-1');
      watcher = s.watcher;
      await until('the failure counted', async () => {
        const m = await desk.server.metrics.metrics();
        return sample(m, 'events_publish_failures_total', '{code="engine_unavailable"}') >= 1 && sample(m, 'support_outbox_relay_failures_total') >= 1;
      });
      const m = await desk.server.metrics.metrics();
      assert.equal(sample(m, 'support_outbox_pending'), 1, 'the event waits in the outbox, visibly');
      const row = await desk.app.desk!.db.selectFrom('support_outbox').select(['last_error', 'attempts']).where('event_id', '=', s.eventId).executeTakeFirstOrThrow();
      assert.match(row.last_error ?? '', /^engine_unavailable: Redis Streams unreachable/);
      assert.ok(Number(row.attempts) >= 1);

      await redis.start();
      await deliveredOnce(desk, s.watcher, s.ticketId, 'strict-1');
      const appended = (await redis.client().xrange('events:chat', '-', '+')).filter(([, fields]) => fields[fields.indexOf('id') + 1] === s.eventId);
      assert.equal(appended.length, 1, 'the event is in the log once');
      assert.equal(sample(await desk.server.metrics.metrics(), 'support_outbox_pending'), 0);
    } finally {
      watcher?.close();
      await desk.server.close();
    }
  });

  test('fallback on (the default): the relay goes over HTTP, counted, and the event arrives once when Redis is back', { timeout: 180_000 }, async () => {
    const desk = await startDesk({ redisUrl: redis.url, nodeId: 'outage-fallback' });
    let watcher: RawClient | undefined;
    try {
      const s = await scenario(desk, 'fallback-1');
      watcher = s.watcher;
      // The hub on this node runs on the same Redis, so the HTTP fallback's publish waits for it
      // too (retried up to 30 s); the fallback itself is visible at once.
      await until('the fallback counted', async () => {
        const m = await desk.server.metrics.metrics();
        return sample(m, 'event_transport_fallbacks_total') >= 1 && sample(m, 'event_transport_fallback_active') === 1;
      });
      assert.equal(sample(await desk.server.metrics.metrics(), 'support_outbox_pending'), 1);

      await redis.start();
      await deliveredOnce(desk, s.watcher, s.ticketId, 'fallback-1');
    } finally {
      watcher?.close();
      await desk.server.close();
    }
  });
});
