/**
 * @module test/support/outbox
 * No silent loss on the help desk: a message and its event are stored in one transaction, so an
 * event log that refuses the emit never turns a stored message into an error; the client's retry
 * with the same Idempotency-Key returns the stored message instead of a second one; and once the
 * log accepts again the relay delivers the event exactly once.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startDesk, eventsOn } from './harness.js';
import { roomChannel } from '../../src/apps/support/event-bus.js';
import type { RawClient } from '../helpers/server.js';

type Desk = Awaited<ReturnType<typeof startDesk>>;

describe('help desk outbox and idempotent posts', () => {
  let desk: Desk;
  let watcher: RawClient;
  before(async () => {
    desk = await startDesk();
  });
  after(async () => {
    watcher?.close();
    await desk.server.close();
  });

  async function post(token: string, ticketId: string, body: string, key?: string) {
    const res = await fetch(`${desk.base}/tickets/${ticketId}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(key ? { 'idempotency-key': key } : {}) },
      body: JSON.stringify({ body }),
    });
    return { status: res.status, body: (await res.json()) as { message: { id: number; eventId: string; body: string }; error?: { code: string } } };
  }

  test('an emit failure answers 201 for the stored message, the retry returns it, and the event arrives once when the log is back', async () => {
    const carla = await desk.login('cust-carla');
    const opened = await carla.api<{ ticket: { id: string } }>('POST', '/tickets', { subject: 'Lost parcel', body: 'Where is it?' });
    assert.equal(opened.status, 201);
    const ticketId = opened.body.ticket.id;
    watcher = await desk.wsClient(carla.token);
    assert.equal((await watcher.request('subscribe', { channel: roomChannel(ticketId) })).ok, true);

    // The event log refuses every emit (as a Redis outage would).
    const bus = desk.app.bus!;
    const realEmit = bus.emit.bind(bus);
    let refused = 0;
    bus.emit = async () => {
      refused++;
      throw new Error('event log unavailable');
    };

    const first = await post(carla.token, ticketId, 'Any news?', 'carla-msg-1');
    assert.equal(first.status, 201, JSON.stringify(first.body));
    const retry = await post(carla.token, ticketId, 'Any news?', 'carla-msg-1');
    assert.equal(retry.status, 201, JSON.stringify(retry.body));
    assert.equal(retry.body.message.id, first.body.message.id, 'the retry returns the stored message');
    assert.equal(retry.body.message.eventId, first.body.message.eventId);
    await watcher.waitFor(() => refused > 0, 5000);
    assert.equal(await desk.app.outbox!.pending(), 1, 'the event waits in the outbox');

    const page = await carla.api<{ messages: { body: string }[] }>('GET', `/tickets/${ticketId}/messages`);
    assert.equal(page.body.messages.filter((m) => m.body === 'Any news?').length, 1, 'exactly one stored message');

    // The log is back: the relay delivers the stored event, once, with the message's event id.
    bus.emit = realEmit;
    desk.app.outbox!.wake();
    await watcher.waitFor(() => eventsOn(watcher, roomChannel(ticketId)).some((e) => e.eventId === first.body.message.eventId), 15_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const delivered = eventsOn(watcher, roomChannel(ticketId)).filter((e) => e.type === 'chat_message' && e.payload.body === 'Any news?');
    assert.equal(delivered.length, 1);
    assert.equal(await desk.app.outbox!.pending(), 0);
    const metrics = await desk.server.metrics.metrics();
    assert.match(metrics, /support_outbox_relay_failures_total [1-9]/);
  });

  test('a key reused for another ticket is a 409, a malformed key a 400, and posts without a key stay independent', async () => {
    const dev = await desk.login('cust-dev');
    const a = (await dev.api<{ ticket: { id: string } }>('POST', '/tickets', { subject: 'A', body: 'first' })).body.ticket.id;
    const b = (await dev.api<{ ticket: { id: string } }>('POST', '/tickets', { subject: 'B', body: 'first' })).body.ticket.id;
    assert.equal((await post(dev.token, a, 'hello', 'dev-key')).status, 201);
    const reused = await post(dev.token, b, 'hello', 'dev-key');
    assert.equal(reused.status, 409);
    assert.equal(reused.body.error?.code, 'conflict');
    assert.equal((await post(dev.token, a, 'hello', 'has space')).status, 400);
    const x = await post(dev.token, a, 'same text');
    const y = await post(dev.token, a, 'same text');
    assert.notEqual(x.body.message.id, y.body.message.id);
  });
});
