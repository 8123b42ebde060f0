/**
 * @module test/support/desk-spec
 * The help desk's API and permission specification, run once per database engine (PGlite and
 * PostgreSQL): the same behaviour must hold on both.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startDesk, eventsOn } from './harness.js';
import { parseStreamEvent } from '../../src/apps/support/events.js';
import type { RawClient } from '../helpers/server.js';
import type { AirwavesConfig } from '../../src/config.js';

type Desk = Awaited<ReturnType<typeof startDesk>>;
type Login = Awaited<ReturnType<Desk['login']>>;
interface TicketBody {
  ticket: { id: string; status: string; assigneeId: string | null; requesterId: string };
  message: { id: number; eventId: string };
}

export function defineDeskSpecs(label: string, config: () => Partial<AirwavesConfig>): void {
  describe(`help desk on ${label}`, () => {
    let desk: Desk;
    let agent: Login;
    let carla: Login;
    let dev: Login;
    const clients: RawClient[] = [];
    const ws = async (token: string) => {
      const c = await desk.wsClient(token);
      clients.push(c);
      return c;
    };
    const openTicket = async (who: Login, subject = 'Printer is on fire') => {
      const res = await who.api<TicketBody>('POST', '/tickets', { subject, body: 'It started this morning.' });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body;
    };

    before(async () => {
      desk = await startDesk(config());
      [agent, carla, dev] = await Promise.all([desk.login('agent-ana'), desk.login('cust-carla'), desk.login('cust-dev')]);
    });
    after(async () => {
      for (const c of clients) c.close();
      await desk?.server.close();
    });

    test('the demo login mints a hub token whose user and role the API knows', async () => {
      const me = await agent.api<{ id: string; role: string }>('GET', '/me');
      assert.equal(me.status, 200);
      assert.deepEqual(me.body, { id: 'agent-ana', name: 'Ana (agent)', role: 'agent' });
      const cust = await carla.api<{ role: string }>('GET', '/me');
      assert.equal(cust.body.role, 'customer');
    });

    test('requests without a token or with a forged one are refused with unauthorized', async () => {
      const none = await desk.call(null, 'GET', '/tickets');
      assert.equal(none.status, 401);
      assert.equal(none.body.error?.code, 'unauthorized');
      assert.match(none.body.error!.message, /Bearer/);
      const forged = await desk.call(`${agent.token.slice(0, -4)}AAAA`, 'GET', '/tickets');
      assert.equal(forged.status, 401);
      assert.match(forged.body.error!.message, /bad token|signature/);
      const unknownDemo = await desk.call(null, 'POST', '/demo-login', { userId: 'mallory' });
      assert.equal(unknownDemo.status, 400);
      assert.match(unknownDemo.body.error!.message, /userId/);
    });

    test('a customer sees only their own tickets; agents see all', async () => {
      const mine = await openTicket(carla, 'Carla cannot log in');
      const theirs = await openTicket(dev, 'Dev wants a refund');
      const carlaList = await carla.api<{ tickets: { id: string }[] }>('GET', '/tickets');
      const ids = carlaList.body.tickets.map((t) => t.id);
      assert.ok(ids.includes(mine.ticket.id));
      assert.ok(!ids.includes(theirs.ticket.id));
      const agentList = await agent.api<{ tickets: { id: string }[] }>('GET', '/tickets?limit=500');
      const all = agentList.body.tickets.map((t) => t.id);
      assert.ok(all.includes(mine.ticket.id) && all.includes(theirs.ticket.id));
      const peek = await carla.api('GET', `/tickets/${theirs.ticket.id}`);
      assert.equal(peek.status, 403);
      assert.equal(peek.body.error?.code, 'forbidden');
      const missing = await agent.api('GET', '/tickets/does-not-exist');
      assert.equal(missing.status, 404);
      assert.equal(missing.body.error?.code, 'not_found');
    });

    test("a customer posting to another customer's ticket gets forbidden and nothing is published", async () => {
      const theirs = await openTicket(dev);
      const watcher = await ws(agent.token);
      const room = `support:room:${theirs.ticket.id}`;
      assert.equal((await watcher.request('subscribe', { channel: room })).ok, true);
      const res = await carla.api('POST', `/tickets/${theirs.ticket.id}/messages`, { body: 'let me in' });
      assert.equal(res.status, 403);
      assert.equal(res.body.error?.code, 'forbidden');
      assert.match(res.body.error!.message, /another customer/);
      const history = await agent.api<{ messages: { body: string }[] }>('GET', `/tickets/${theirs.ticket.id}/messages`);
      assert.deepEqual(history.body.messages.map((m) => m.body), ['It started this morning.']);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(eventsOn(watcher, room).length, 0);
    });

    test('an oversized or blank message is refused naming the field', async () => {
      const { ticket } = await openTicket(carla);
      const big = await carla.api('POST', `/tickets/${ticket.id}/messages`, { body: 'x'.repeat(4001) });
      assert.equal(big.status, 400);
      assert.equal(big.body.error?.code, 'bad_request');
      assert.match(big.body.error!.message, /body\/body.*4000/);
      const blank = await carla.api('POST', `/tickets/${ticket.id}/messages`, { body: '   ' });
      assert.equal(blank.status, 400);
      assert.match(blank.body.error!.message, /blank/);
    });

    test('an unknown event type or a bad payload field is refused naming the field', async () => {
      const { ticket } = await openTicket(carla);
      const unknown = await carla.api('POST', '/events', { type: 'screen_share', roomId: ticket.id, payload: {} });
      assert.equal(unknown.status, 400);
      assert.equal(unknown.body.error?.code, 'bad_request');
      assert.match(unknown.body.error!.message, /^invalid event: type: /);
      const badField = await agent.api('POST', '/events', { type: 'status_change', roomId: ticket.id, payload: { to: 'archived' } });
      assert.equal(badField.status, 400);
      assert.match(badField.body.error!.message, /payload\.to/);
      const ok = await carla.api('POST', '/events', { type: 'chat_message', roomId: ticket.id, payload: { body: 'via the event endpoint' } });
      assert.equal(ok.status, 202);
      const history = await carla.api<{ messages: { body: string }[] }>('GET', `/tickets/${ticket.id}/messages`);
      assert.equal(history.body.messages.at(-1)?.body, 'via the event endpoint');
    });

    test('a chat message reaches the room once, as a valid StreamEvent carrying the stored message id', async () => {
      const { ticket } = await openTicket(carla);
      const room = `support:room:${ticket.id}`;
      const agentWs = await ws(agent.token);
      const carlaWs = await ws(carla.token);
      assert.equal((await agentWs.request('subscribe', { channel: room })).ok, true);
      assert.equal((await carlaWs.request('subscribe', { channel: room })).ok, true);
      const posted = await agent.api<{ message: { id: number; eventId: string } }>('POST', `/tickets/${ticket.id}/messages`, { body: 'Have you tried turning it off?' });
      assert.equal(posted.status, 201);
      await carlaWs.waitFor(() => eventsOn(carlaWs, room).length >= 1);
      await new Promise((r) => setTimeout(r, 30));
      const got = eventsOn(carlaWs, room);
      assert.equal(got.length, 1);
      const event = parseStreamEvent(got[0]);
      assert.equal(event.type, 'chat_message');
      assert.equal(event.eventId, posted.body.message.eventId);
      assert.equal(event.roomId, ticket.id);
      assert.equal(event.type === 'chat_message' && event.payload.messageId, String(posted.body.message.id));
      assert.equal(event.metadata.actorRole, 'agent');
      assert.equal(eventsOn(agentWs, room).length, 1);
    });

    test('history pages backwards by keyset and catches up forwards', async () => {
      const { ticket } = await openTicket(carla);
      for (let i = 1; i <= 7; i++) assert.equal((await carla.api('POST', `/tickets/${ticket.id}/messages`, { body: `m${i}` })).status, 201);
      type Page = { messages: { id: number; body: string }[]; nextBefore: number | null };
      const p1 = await carla.api<Page>('GET', `/tickets/${ticket.id}/messages?limit=3`);
      assert.deepEqual(p1.body.messages.map((m) => m.body), ['m5', 'm6', 'm7']);
      assert.ok(p1.body.nextBefore);
      // A message arriving between pages must not shift the next page (that is what keyset buys).
      await agent.api('POST', `/tickets/${ticket.id}/messages`, { body: 'interleaved' });
      const p2 = await carla.api<Page>('GET', `/tickets/${ticket.id}/messages?limit=3&before=${p1.body.nextBefore}`);
      assert.deepEqual(p2.body.messages.map((m) => m.body), ['m2', 'm3', 'm4']);
      const p3 = await carla.api<Page>('GET', `/tickets/${ticket.id}/messages?limit=3&before=${p2.body.nextBefore}`);
      assert.deepEqual(p3.body.messages.map((m) => m.body), ['It started this morning.', 'm1']);
      assert.equal(p3.body.nextBefore, null);
      const after = await carla.api<Page>('GET', `/tickets/${ticket.id}/messages?after=${p1.body.messages[2].id}`);
      assert.deepEqual(after.body.messages.map((m) => m.body), ['interleaved']);
      const both = await carla.api('GET', `/tickets/${ticket.id}/messages?after=1&before=5`);
      assert.equal(both.status, 400);
    });

    test('a status change by an agent reaches the room and the agents list at once; customers may not change it', async () => {
      const { ticket } = await openTicket(carla);
      const room = `support:room:${ticket.id}`;
      const carlaWs = await ws(carla.token);
      const agentWs = await ws(agent.token);
      assert.equal((await carlaWs.request('subscribe', { channel: room })).ok, true);
      assert.equal((await agentWs.request('subscribe', { channel: 'support:agents' })).ok, true);
      const denied = await carla.api('PUT', `/tickets/${ticket.id}/status`, { status: 'solved' });
      assert.equal(denied.status, 403);
      const bad = await agent.api('PUT', `/tickets/${ticket.id}/status`, { status: 'archived' });
      assert.equal(bad.status, 400);
      assert.match(bad.body.error!.message, /status/);
      const res = await agent.api<{ ticket: { status: string } }>('PUT', `/tickets/${ticket.id}/status`, { status: 'pending' });
      assert.equal(res.status, 200);
      assert.equal(res.body.ticket.status, 'pending');
      const seen = await carlaWs.waitPush((f) => f.channel === room && (f.data as { type: string }).type === 'status_change');
      assert.deepEqual((seen.data as { payload: unknown }).payload, { ticketId: ticket.id, from: 'open', to: 'pending' });
      const listed = await agentWs.waitPush((f) => f.channel === 'support:agents' && (f.data as { type: string }).type === 'status_change');
      assert.equal((listed.data as { metadata: { ticket: { id: string; status: string } } }).metadata.ticket.status, 'pending');
      // Both deliveries come from one event: same id base, one per channel.
      const roomId = (seen.data as { eventId: string }).eventId;
      assert.equal((listed.data as { eventId: string }).eventId, roomId);
    });

    test('assignment goes only to agents and is announced with the assignee name', async () => {
      const { ticket } = await openTicket(carla);
      const room = `support:room:${ticket.id}`;
      const carlaWs = await ws(carla.token);
      assert.equal((await carlaWs.request('subscribe', { channel: room })).ok, true);
      const toCustomer = await agent.api('PUT', `/tickets/${ticket.id}/assignee`, { assigneeId: 'cust-dev' });
      assert.equal(toCustomer.status, 400);
      assert.match(toCustomer.body.error!.message, /assigneeId: "cust-dev" is not an agent/);
      const ok = await agent.api<{ ticket: { assigneeId: string } }>('PUT', `/tickets/${ticket.id}/assignee`, { assigneeId: 'agent-ben' });
      assert.equal(ok.body.ticket.assigneeId, 'agent-ben');
      const seen = await carlaWs.waitPush((f) => f.channel === room && (f.data as { type: string }).type === 'assignment_change');
      assert.deepEqual((seen.data as { payload: unknown }).payload, { ticketId: ticket.id, from: null, to: 'agent-ben', toName: 'Ben (agent)' });
      const back = await agent.api<{ ticket: { assigneeId: null } }>('PUT', `/tickets/${ticket.id}/assignee`, { assigneeId: null });
      assert.equal(back.body.ticket.assigneeId, null);
    });

    test('hub permissions: rooms for their customer and agents, the agents list for agents, personal channels for their owner', async () => {
      const { ticket } = await openTicket(dev);
      const carlaWs = await ws(carla.token);
      const devWs = await ws(dev.token);
      const room = `support:room:${ticket.id}`;
      const denied = await carlaWs.request('subscribe', { channel: room });
      assert.equal(denied.ok, false);
      assert.equal((denied.error as { code: string }).code, 'forbidden');
      assert.equal((await devWs.request('subscribe', { channel: room })).ok, true);
      assert.equal(((await carlaWs.request('subscribe', { channel: 'support:agents' })).error as { code: string }).code, 'forbidden');
      assert.equal(((await carlaWs.request('subscribe', { channel: 'support-user:cust-dev' })).error as { code: string }).code, 'forbidden');
      assert.equal((await carlaWs.request('subscribe', { channel: 'support-user:cust-carla' })).ok, true);
      // Rooms are server-published: a client cannot inject events that skip the log.
      const inject = await devWs.request('publish', { channel: room, data: { type: 'chat_message' } });
      assert.equal((inject.error as { code: string }).code, 'forbidden');
      const anonymous = await desk.wsClient('not-a-token').catch((e: Error) => e);
      assert.ok(anonymous instanceof Error);
    });

    test('remote sessions notify the requester personally (control mode changes included) and tell the room when they start and end', async () => {
      const { ticket } = await openTicket(carla);
      const mine = 'support-user:cust-carla';
      const carlaWs = await ws(carla.token);
      const devWs = await ws(dev.token);
      const agentWs = await ws(agent.token);
      assert.equal((await carlaWs.request('subscribe', { channel: mine })).ok, true);
      assert.equal((await devWs.request('subscribe', { channel: 'support-user:cust-dev' })).ok, true);
      assert.equal((await agentWs.request('subscribe', { channel: `support:room:${ticket.id}` })).ok, true);
      const byCustomer = await carla.api('POST', `/tickets/${ticket.id}/remote-sessions`, { controlMode: 'full_control' });
      assert.equal(byCustomer.status, 403);
      const started = await agent.api<{ session: { id: string; controlMode: string } }>('POST', `/tickets/${ticket.id}/remote-sessions`, { controlMode: 'view_only' });
      assert.equal(started.status, 201);
      const sid = started.body.session.id;
      const twice = await agent.api('POST', `/tickets/${ticket.id}/remote-sessions`, { controlMode: 'view_only' });
      assert.equal(twice.status, 409);
      assert.match(twice.body.error!.message, /already has a live remote session/);
      const mode = await agent.api<{ session: { controlMode: string } }>('PUT', `/tickets/${ticket.id}/remote-sessions/${sid}/control-mode`, { controlMode: 'full_control' });
      assert.equal(mode.body.session.controlMode, 'full_control');
      const live = await carla.api<{ remoteSession: { id: string } | null }>('GET', `/tickets/${ticket.id}`);
      assert.equal(live.body.remoteSession?.id, sid);
      // The requester may withdraw access herself.
      const ended = await carla.api<{ session: { endedAt: string | null } }>('DELETE', `/tickets/${ticket.id}/remote-sessions/${sid}`);
      assert.equal(ended.status, 200);
      assert.ok(ended.body.session.endedAt);
      const again = await agent.api('DELETE', `/tickets/${ticket.id}/remote-sessions/${sid}`);
      assert.equal(again.status, 409);
      await carlaWs.waitFor(() => eventsOn(carlaWs, mine).length >= 3);
      const types = eventsOn(carlaWs, mine).map((e) => parseStreamEvent(e).type);
      assert.deepEqual(types, ['remote_session_start', 'control_mode_changed', 'remote_session_end']);
      const change = eventsOn(carlaWs, mine)[1].payload;
      assert.deepEqual([change.from, change.to], ['view_only', 'full_control']);
      await new Promise((r) => setTimeout(r, 30));
      assert.equal(devWs.publications('support-user:cust-dev').length, 0);
      // The room hears when a session starts and ends (whoever ended it), not the control details.
      await agentWs.waitFor(() => eventsOn(agentWs, `support:room:${ticket.id}`).filter((e) => e.type === 'remote_session_end').length === 1);
      const inRoom = eventsOn(agentWs, `support:room:${ticket.id}`).filter((e) => e.type.startsWith('remote') || e.type === 'control_mode_changed');
      assert.deepEqual(inRoom.map((e) => e.type), ['remote_session_start', 'remote_session_end']);
      assert.equal(inRoom[1].metadata.actorId, 'cust-carla');
    });

    test('typing over the WebSocket is validated, coalesced per user, and the last state wins', async () => {
      const { ticket } = await openTicket(carla);
      const room = `support:room:${ticket.id}`;
      const input = `support-typing:${ticket.id}`;
      const agentWs = await ws(agent.token);
      const carlaWs = await ws(carla.token);
      const devWs = await ws(dev.token);
      assert.equal((await agentWs.request('subscribe', { channel: room })).ok, true);
      const bad = await carlaWs.request('publish', { channel: input, data: { type: 'chat_message', body: 'sneaky' } });
      assert.equal(bad.ok, false);
      assert.equal((bad.error as { code: string }).code, 'bad_request');
      assert.match((bad.error as { message: string }).message, /data\.type/);
      const foreign = await devWs.request('publish', { channel: input, data: { type: 'typing_start' } });
      assert.equal((foreign.error as { code: string }).code, 'forbidden');
      const listen = await carlaWs.request('subscribe', { channel: input });
      assert.equal((listen.error as { code: string }).code, 'forbidden');
      for (let i = 0; i < 5; i++) assert.equal((await carlaWs.request('publish', { channel: input, data: { type: 'typing_start' } })).ok, true);
      assert.equal((await carlaWs.request('publish', { channel: input, data: { type: 'typing_stop' } })).ok, true);
      await agentWs.waitFor(() => eventsOn(agentWs, room).length >= 1);
      await new Promise((r) => setTimeout(r, 250));
      const typing = eventsOn(agentWs, room).filter((e) => e.type.startsWith('typing'));
      assert.equal(typing.length, 1, JSON.stringify(typing));
      assert.equal(typing[0].type, 'typing_stop');
      assert.equal(typing[0].payload.userId, 'cust-carla');
      // REST typing lands in the same window logic.
      assert.equal((await carla.api('POST', `/tickets/${ticket.id}/typing`, { state: 'start' })).status, 202);
      await agentWs.waitFor(() => eventsOn(agentWs, room).filter((e) => e.type === 'typing_start').length === 1);
      const metrics = await (await fetch(`${desk.server.url}/metrics`)).text();
      const absorbed = /events_coalesced_total\{app="support"\} (\d+)/.exec(metrics);
      assert.ok(absorbed && Number(absorbed[1]) >= 5, metrics.split('\n').filter((l) => l.includes('coalesced')).join('\n'));
    });

    test('a closed ticket refuses chat with conflict until reopened', async () => {
      const { ticket } = await openTicket(carla);
      assert.equal((await agent.api('PUT', `/tickets/${ticket.id}/status`, { status: 'closed' })).status, 200);
      const res = await carla.api('POST', `/tickets/${ticket.id}/messages`, { body: 'hello?' });
      assert.equal(res.status, 409);
      assert.equal(res.body.error?.code, 'conflict');
      assert.equal((await agent.api('PUT', `/tickets/${ticket.id}/status`, { status: 'open' })).status, 200);
      assert.equal((await carla.api('POST', `/tickets/${ticket.id}/messages`, { body: 'hello?' })).status, 201);
    });
  });
}
