/**
 * @module test/support/outbox-relay
 * The outbox relay's two ways out, on behaviour rather than speed: with the relay's poll set to
 * a minute, events committed on the node still reach the room (they are handed to the relay at
 * commit and appended at once, none found by polling); and a process that committed a message
 * and died before the append (the handoff never happened) delivers it when it starts again,
 * without waiting for a poll. On the embedded database an idle relay does not scan its table at
 * all (nothing can appear there that it did not see written); on PostgreSQL it scans every poll.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startDesk, eventsOn } from './harness.js';
import { startPostgres, type PostgresInstance } from '../helpers/postgres.js';
import { until, type RawClient } from '../helpers/server.js';
import { roomChannel } from '../../src/apps/support/event-bus.js';

type Desk = Awaited<ReturnType<typeof startDesk>>;

/** Longer than any wait below: an event that arrives only arrived on the hot path (or the start scan). */
const POLL_MS = 60_000;
/** Generous for a loaded CI machine, and well under POLL_MS. */
const ARRIVES_WITHIN_MS = 30_000;

function counter(metrics: string, name: string): number {
  const line = metrics.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.slice(name.length + 1)) : 0;
}

describe('help desk outbox relay', () => {
  let pg: PostgresInstance | undefined;
  const desks: Desk[] = [];
  const clients: RawClient[] = [];

  before(async () => {
    pg = await startPostgres({ database: 'support_outbox_relay' });
  });
  after(async () => {
    for (const c of clients) c.close();
    for (const d of desks) await d.server.close().catch(() => {});
    await pg?.stop();
  });

  test('committed events reach the room without waiting for the relay poll (poll set to 60 s)', async () => {
    const desk = await startDesk({ supportOutboxPollMs: POLL_MS });
    desks.push(desk);
    const carla = await desk.login('cust-carla');
    const ana = await desk.login('agent-ana');
    const watcher = await desk.wsClient(ana.token);
    clients.push(watcher);

    const tickets: string[] = [];
    for (const subject of ['Printer', 'Router']) {
      const opened = await carla.api<{ ticket: { id: string } }>('POST', '/tickets', { subject, body: `${subject} is broken` });
      assert.equal(opened.status, 201, JSON.stringify(opened.body));
      tickets.push(opened.body.ticket.id);
      assert.equal((await watcher.request('subscribe', { channel: roomChannel(opened.body.ticket.id) })).ok, true);
    }
    // Messages to both rooms, interleaved, then a status change: every one committed on this node.
    const sent: Record<string, string[]> = { [tickets[0]]: [], [tickets[1]]: [] };
    for (let i = 0; i < 4; i++) {
      for (const ticketId of tickets) {
        const body = `update ${i}`;
        const res = await carla.api('POST', `/tickets/${ticketId}/messages`, { body });
        assert.equal(res.status, 201, JSON.stringify(res.body));
        sent[ticketId].push(body);
      }
    }
    assert.equal((await ana.api('PUT', `/tickets/${tickets[0]}/status`, { status: 'pending' })).status, 200);

    const chat = (ticketId: string) => eventsOn(watcher, roomChannel(ticketId)).filter((e) => e.type === 'chat_message').map((e) => String(e.payload.body));
    await watcher.waitFor(() => tickets.every((t) => chat(t).length === sent[t].length) && eventsOn(watcher, roomChannel(tickets[0])).some((e) => e.type === 'status_change'), ARRIVES_WITHIN_MS);
    for (const ticketId of tickets) assert.deepEqual(chat(ticketId), sent[ticketId], 'each room gets its messages once, in the order they were stored');

    await until('every relayed event marked delivered', async () => (await desk.app.outbox!.pending()) === 0, ARRIVES_WITHIN_MS);
    const metrics = await desk.server.metrics.metrics();
    // 2 tickets opened (their first messages), 8 messages, 1 status change.
    assert.equal(counter(metrics, 'support_outbox_relayed_total'), 11);
    assert.equal(counter(metrics, 'support_outbox_polled_total'), 0, 'none of them waited for the poll');
  });

  test('a message committed by a process that died before the append is delivered when the node starts again', async () => {
    const config = { databaseUrl: pg!.url, nodeId: 'desk-restart', supportOutboxPollMs: POLL_MS };
    const first = await startDesk(config);
    desks.push(first);
    const carla = await first.login('cust-carla');
    const opened = await carla.api<{ ticket: { id: string } }>('POST', '/tickets', { subject: 'Crash', body: 'before the crash' });
    assert.equal(opened.status, 201);
    const ticketId = opened.body.ticket.id;
    await until('the ticket event relayed', async () => (await first.app.outbox!.pending()) === 0, ARRIVES_WITHIN_MS);

    // The process dies between the commit and the append: the relay is never handed the row.
    first.app.outbox!.committed = () => {};
    const posted = await carla.api<{ message: { eventId: string } }>('POST', `/tickets/${ticketId}/messages`, { body: 'lost in the crash?' });
    assert.equal(posted.status, 201, 'the message is stored');
    const eventId = posted.body.message.eventId;
    assert.equal(await first.app.outbox!.pending(), 1, 'its event waits in the outbox');
    await first.server.close();
    desks.splice(desks.indexOf(first), 1);

    const second = await startDesk(config);
    desks.push(second);
    const ana = await second.login('agent-ana');
    const watcher = await second.wsClient(ana.token);
    clients.push(watcher);
    // The start scan relays it (the next poll is a minute away); the room's history shows it once.
    const inHistory = async () => {
      const reply = await watcher.request('history', { channel: roomChannel(ticketId), limit: 50 });
      const pubs = ((reply.result as { publications?: { data: { eventId: string } }[] } | undefined)?.publications ?? []).filter((p) => p.data.eventId === eventId);
      return pubs.length;
    };
    await until('the event delivered after the restart', async () => (await inHistory()) > 0, ARRIVES_WITHIN_MS);
    assert.equal(await inHistory(), 1);
    await until('the row marked delivered', async () => (await second.app.outbox!.pending()) === 0, ARRIVES_WITHIN_MS);
    const metrics = await second.server.metrics.metrics();
    assert.equal(counter(metrics, 'support_outbox_polled_total'), 1, 'found in the table, not handed over');
  });

  test('embedded: an idle relay stops scanning after an empty scan; a write that was never handed over is still found', async () => {
    const desk = await startDesk({ supportOutboxPollMs: 50 });
    desks.push(desk);
    const scans = async () => counter(await desk.server.metrics.metrics(), 'support_outbox_scans_total');
    await until('the start scan', async () => (await scans()) >= 1, ARRIVES_WITHIN_MS);
    const idleFrom = await scans();
    await new Promise((r) => setTimeout(r, 1500));
    // Every 50 ms that would be ~30; one more is allowed for a scan already under way.
    assert.ok((await scans()) <= idleFrom + 1, `idle relay scanned ${(await scans()) - idleFrom} times in 1.5 s`);

    const carla = await desk.login('cust-carla');
    desk.app.outbox!.committed = () => {}; // the handover never happens: only a scan finds the rows
    const opened = await carla.api<{ ticket: { id: string } }>('POST', '/tickets', { subject: 'Quiet', body: 'found by a scan?' });
    assert.equal(opened.status, 201);
    await until('the unhanded rows relayed by a scan', async () => (await desk.app.outbox!.pending()) === 0, ARRIVES_WITHIN_MS);
    assert.ok(counter(await desk.server.metrics.metrics(), 'support_outbox_polled_total') >= 1, 'found in the table');
  });

  test('PostgreSQL: the relay scans every poll period even when this node writes nothing (another node may have died)', async () => {
    const desk = await startDesk({ databaseUrl: pg!.url, nodeId: 'desk-scans', supportOutboxPollMs: 50 });
    desks.push(desk);
    const scans = async () => counter(await desk.server.metrics.metrics(), 'support_outbox_scans_total');
    await until('the start scan', async () => (await scans()) >= 1, ARRIVES_WITHIN_MS);
    const from = await scans();
    await until('scans go on while idle', async () => (await scans()) >= from + 3, ARRIVES_WITHIN_MS);
  });
});
