/**
 * @module apps/support/desk
 * The help desk's domain: tickets, their chat, status and assignment, remote sessions, and who
 * may do what. Every change and the StreamEvent announcing it are written in one transaction (the
 * event into the outbox, relayed to the event log by outbox.ts), so a stored change is always
 * announced and a failed emit never turns a stored change into an error. A client that missed
 * the event can always read the truth back through the REST API.
 */
import { randomUUID } from 'node:crypto';
import { sql, type Kysely, type Transaction } from 'kysely';
import { AirwavesError, Errors } from '../../core/errors.js';
import { AGENTS_CHANNEL, roomChannel, userChannel } from './event-bus.js';
import { makeEvent, type ControlMode, type EventMetadata, type Role, type StreamEvent, type TicketStatus } from './events.js';
import type { OutboxEntry, SupportOutbox } from './outbox.js';
import { announceUserChange } from './user-cache-sync.js';
import type { SupportDB } from './schema.js';
import type { TypingCoalescer } from './typing.js';
import { isUniqueViolation } from '../../db/database.js';
import { keyedMessage, onceByKey, type KeyedMessage } from './idempotency.js';
import type { ChatMessage, RemoteSession, SupportUser, Ticket } from './shared/types.js';

// The shapes the API returns live in ./shared/types (the browser UI reads them too).
export type { ChatMessage, RemoteSession, SupportUser, Ticket };

const iso = (d: Date | string): string => (d instanceof Date ? d.toISOString() : new Date(d).toISOString());

type TicketRow = SupportDB['support_tickets'] & { created_at: Date; updated_at: Date };

function toTicket(r: { id: string; subject: string; requester_id: string; assignee_id: string | null; status: TicketStatus; created_at: Date; updated_at: Date }): Ticket {
  return { id: r.id, subject: r.subject, requesterId: r.requester_id, assigneeId: r.assignee_id, status: r.status, createdAt: iso(r.created_at), updatedAt: iso(r.updated_at) };
}

function toSession(r: { id: string; ticket_id: string; agent_id: string; requester_id: string; control_mode: ControlMode; started_at: Date; ended_at: Date | null }): RemoteSession {
  return { id: r.id, ticketId: r.ticket_id, agentId: r.agent_id, requesterId: r.requester_id, controlMode: r.control_mode, startedAt: iso(r.started_at), endedAt: r.ended_at ? iso(r.ended_at) : null };
}

export const DEFAULT_PAGE = 50;
export const MAX_PAGE = 200;
const USER_CACHE_MAX = 10_000;
const REQUESTER_CACHE_MAX = 100_000;

export class SupportDesk {
  /** Users change rarely and are read on every request and subscribe: a bounded cache. */
  private readonly users = new Map<string, SupportUser>();
  /**
   * Ticket → requester. A ticket's requester never changes, so this is safe to keep; it spares
   * a query on every typing publish and room subscribe (the hub authorizes each one).
   */
  private readonly requesters = new Map<string, string>();

  constructor(
    readonly db: Kysely<SupportDB>,
    private readonly outbox: SupportOutbox,
    private readonly typing: TypingCoalescer,
  ) {}

  /**
   * Runs `work` in one transaction with `announce` writing events into the outbox in that same
   * transaction; hands them to the relay once it committed (appended at once, not on a poll).
   */
  private async stored<T>(work: (tx: Transaction<SupportDB>, announce: (event: StreamEvent, channels: readonly string[]) => Promise<void>) => Promise<T>): Promise<T> {
    const entries: OutboxEntry[] = [];
    const result = await this.db.transaction().execute((tx) =>
      work(tx, async (event, channels) => {
        entries.push(await this.outbox.enqueue(tx, event, channels));
      }),
    );
    this.outbox.committed(entries);
    return result;
  }

  // ------------------------------------------------------------------ users

  async user(id: string): Promise<SupportUser | null> {
    const hit = this.users.get(id);
    if (hit) return hit;
    const row = await this.db.selectFrom('support_users').select(['id', 'name', 'role']).where('id', '=', id).executeTakeFirst();
    if (!row) return null;
    if (this.users.size >= USER_CACHE_MAX) this.users.delete(this.users.keys().next().value!);
    this.users.set(id, row);
    return row;
  }

  async listUsers(role?: Role): Promise<SupportUser[]> {
    let q = this.db.selectFrom('support_users').select(['id', 'name', 'role']).orderBy('id').limit(500);
    if (role) q = q.where('role', '=', role);
    return q.execute();
  }

  /**
   * Creates, renames or changes the role of a user (operators and benchmarks; the demo users are
   * seeded). The change is announced to every node sharing the database in the same transaction
   * (user-cache-sync.ts), so no node keeps acting on the old role.
   */
  async upsertUser(user: SupportUser): Promise<SupportUser> {
    await this.db.transaction().execute(async (tx) => {
      await tx
        .insertInto('support_users')
        .values(user)
        .onConflict((oc) => oc.column('id').doUpdateSet({ name: user.name, role: user.role }))
        .execute();
      await announceUserChange(tx, user.id);
    });
    this.forgetUser(user.id);
    return user;
  }

  /** Drops a user from this node's cache (a change announced by any node). */
  forgetUser(id: string): void {
    this.users.delete(id);
  }

  /** Drops every cached user (after the change announcements may have been missed). */
  forgetAllUsers(): void {
    this.users.clear();
  }

  // ------------------------------------------------------------------ access

  /** The ticket, if `actor` may see it: agents see all, customers only their own. */
  async ticketFor(actor: SupportUser, ticketId: string): Promise<Ticket> {
    const row = await this.db.selectFrom('support_tickets').selectAll().where('id', '=', ticketId).executeTakeFirst();
    if (!row) throw new AirwavesError(Errors.notFound, `ticket "${ticketId}" does not exist`);
    const ticket = toTicket(row as TicketRow);
    if (actor.role !== 'agent' && ticket.requesterId !== actor.id) {
      throw new AirwavesError(Errors.forbidden, `ticket "${ticketId}" belongs to another customer`);
    }
    return ticket;
  }

  /** Whether `userId` may watch the ticket's room (hub authorize hook). */
  async canWatchRoom(userId: string, ticketId: string): Promise<boolean> {
    const user = await this.user(userId);
    if (!user) return false;
    if (user.role === 'agent') return true;
    let requester = this.requesters.get(ticketId);
    if (requester === undefined) {
      const row = await this.db.selectFrom('support_tickets').select('requester_id').where('id', '=', ticketId).executeTakeFirst();
      if (!row) return false;
      requester = row.requester_id;
      if (this.requesters.size >= REQUESTER_CACHE_MAX) this.requesters.delete(this.requesters.keys().next().value!);
      this.requesters.set(ticketId, requester);
    }
    return requester === userId;
  }

  private static requireAgent(actor: SupportUser, what: string): void {
    if (actor.role !== 'agent') throw new AirwavesError(Errors.forbidden, `only agents may ${what}`);
  }

  private static meta(actor: SupportUser, ticket?: Ticket): EventMetadata {
    return {
      actorId: actor.id,
      actorRole: actor.role,
      ...(ticket ? { ticket: { id: ticket.id, subject: ticket.subject, status: ticket.status, requesterId: ticket.requesterId, assigneeId: ticket.assigneeId, updatedAt: ticket.updatedAt } } : {}),
    };
  }

  // ------------------------------------------------------------------ tickets

  async listTickets(actor: SupportUser, filter: { status?: TicketStatus; limit?: number } = {}): Promise<Ticket[]> {
    let q = this.db.selectFrom('support_tickets').selectAll().orderBy('updated_at', 'desc').orderBy('id').limit(Math.min(filter.limit ?? 100, 500));
    if (actor.role !== 'agent') q = q.where('requester_id', '=', actor.id);
    if (filter.status) q = q.where('status', '=', filter.status);
    return (await q.execute()).map((r) => toTicket(r as TicketRow));
  }

  /**
   * Opens a ticket with its first message (a help request always says what is wrong). With
   * `idempotencyKey`, stored on that first message, a retry returns the ticket already opened.
   */
  async createTicket(actor: SupportUser, input: { subject: string; body: string; requesterId?: string }, options: { idempotencyKey?: string } = {}): Promise<{ ticket: Ticket; message: ChatMessage }> {
    const key = options.idempotencyKey ?? null;
    return onceByKey(key, (k) => this.openedByKey(actor, k), () => this.openTicket(actor, input, key));
  }

  /** The ticket the actor's earlier attempt with `key` opened, or null. */
  private async openedByKey(actor: SupportUser, key: string): Promise<{ ticket: Ticket; message: ChatMessage } | null> {
    const row = await keyedMessage(this.db, actor.id, key);
    if (!row) return null;
    if (!row.openedTicket) throw new AirwavesError(Errors.conflict, `Idempotency-Key "${key}" was already used for a message, not for opening a ticket`);
    return { ticket: await this.ticketFor(actor, row.ticketId), message: SupportDesk.keyedToMessage(actor, row) };
  }

  private async openTicket(actor: SupportUser, input: { subject: string; body: string; requesterId?: string }, key: string | null): Promise<{ ticket: Ticket; message: ChatMessage }> {
    let requesterId = actor.id;
    if (input.requesterId !== undefined && input.requesterId !== actor.id) {
      SupportDesk.requireAgent(actor, 'open tickets on behalf of someone else');
      const requester = await this.user(input.requesterId);
      if (!requester || requester.role !== 'customer') throw new AirwavesError(Errors.badRequest, `requesterId: "${input.requesterId}" is not a customer`);
      requesterId = requester.id;
    }
    const id = randomUUID();
    const text = SupportDesk.messageText(input.body);
    return this.stored(async (tx, announce) => {
      const row = await tx.insertInto('support_tickets').values({ id, subject: input.subject, requester_id: requesterId, status: 'open' }).returningAll().executeTakeFirstOrThrow();
      const ticket = toTicket(row as TicketRow);
      const message = await this.insertMessage(tx, announce, actor, ticket, text, key);
      return { ticket, message };
    });
  }

  async setStatus(actor: SupportUser, ticketId: string, to: TicketStatus): Promise<Ticket> {
    SupportDesk.requireAgent(actor, "change a ticket's status");
    return this.changeStatus(actor, await this.ticketFor(actor, ticketId), to);
  }

  /** The requester (or an agent) reopens a solved or closed ticket, so the chat can go on. */
  async reopen(actor: SupportUser, ticketId: string): Promise<Ticket> {
    const before = await this.ticketFor(actor, ticketId);
    if (before.status !== 'closed' && before.status !== 'solved') throw new AirwavesError(Errors.conflict, `ticket "${ticketId}" is ${before.status}, not solved or closed`);
    return this.changeStatus(actor, before, 'open');
  }

  private async changeStatus(actor: SupportUser, before: Ticket, to: TicketStatus): Promise<Ticket> {
    const ticketId = before.id;
    if (before.status === to) return before;
    return this.stored(async (tx, announce) => {
      const row = await tx.updateTable('support_tickets').set({ status: to, updated_at: new Date() }).where('id', '=', ticketId).returningAll().executeTakeFirstOrThrow();
      const ticket = toTicket(row as TicketRow);
      await announce(makeEvent('status_change', ticketId, { ticketId, from: before.status, to }, SupportDesk.meta(actor, ticket)), [roomChannel(ticketId), AGENTS_CHANNEL]);
      return ticket;
    });
  }

  async assign(actor: SupportUser, ticketId: string, assigneeId: string | null): Promise<Ticket> {
    SupportDesk.requireAgent(actor, 'assign tickets');
    const before = await this.ticketFor(actor, ticketId);
    let assignee: SupportUser | null = null;
    if (assigneeId !== null) {
      assignee = await this.user(assigneeId);
      if (!assignee || assignee.role !== 'agent') throw new AirwavesError(Errors.badRequest, `assigneeId: "${assigneeId}" is not an agent`);
    }
    if (before.assigneeId === assigneeId) return before;
    return this.stored(async (tx, announce) => {
      const row = await tx.updateTable('support_tickets').set({ assignee_id: assigneeId, updated_at: new Date() }).where('id', '=', ticketId).returningAll().executeTakeFirstOrThrow();
      const ticket = toTicket(row as TicketRow);
      const payload = { ticketId, from: before.assigneeId, to: assigneeId, toName: assignee?.name ?? null };
      await announce(makeEvent('assignment_change', ticketId, payload, SupportDesk.meta(actor, ticket)), [roomChannel(ticketId), AGENTS_CHANNEL]);
      return ticket;
    });
  }

  // ------------------------------------------------------------------ chat

  private static messageText(body: string): string {
    const text = body.trim();
    if (!text) throw new AirwavesError(Errors.badRequest, 'body: must not be blank');
    return text;
  }

  /**
   * Posts a chat message. With `idempotencyKey` (the client's Idempotency-Key), a retry of a post
   * that was stored returns the stored message instead of writing a second one.
   */
  async postMessage(actor: SupportUser, ticketId: string, body: string, options: { idempotencyKey?: string } = {}): Promise<ChatMessage> {
    const ticket = await this.ticketFor(actor, ticketId);
    const key = options.idempotencyKey ?? null;
    return onceByKey(key, (k) => this.messageByKey(actor, ticketId, k), () => {
      if (ticket.status === 'closed') throw new AirwavesError(Errors.conflict, `ticket "${ticketId}" is closed; reopen it to chat`);
      return this.postNow(actor, ticket, SupportDesk.messageText(body), key);
    });
  }

  /**
   * A chat message, its ticket's `updated_at` and its event in **one statement** (atomic like a
   * transaction, without BEGIN and COMMIT): the event is built once the message id is drawn, and
   * one round trip after it the message is stored and the event handed to the relay. A chat
   * message is the hot path: with a transaction, three more round trips came after the event.
   */
  private async postNow(actor: SupportUser, ticket: Ticket, text: string, clientKey: string | null): Promise<ChatMessage> {
    const ticketId = ticket.id;
    const { rows } = await sql<{ id: string }>`select nextval(pg_get_serial_sequence('support_messages', 'id')) as id`.execute(this.db);
    const now = new Date();
    const eventId = randomUUID();
    const message: ChatMessage = { id: Number(rows[0].id), ticketId, authorId: actor.id, authorName: actor.name, body: text, eventId, createdAt: iso(now) };
    const event = SupportDesk.chatEvent(actor, { ...ticket, updatedAt: iso(now) }, message);
    const channels = [roomChannel(ticketId), AGENTS_CHANNEL];
    const stored = await this.db
      .with('message', (db) => db.insertInto('support_messages').values({ id: rows[0].id, ticket_id: ticketId, author_id: actor.id, body: text, event_id: eventId, client_key: clientKey, created_at: now }).returning('id'))
      .with('ticket', (db) => db.updateTable('support_tickets').set({ updated_at: now }).where('id', '=', ticketId).returning('id'))
      .insertInto('support_outbox')
      .values(this.outbox.row(event, channels))
      .returning('id')
      .executeTakeFirstOrThrow();
    this.outbox.committed([{ id: String(stored.id), event, channels }]);
    return message;
  }

  private static chatEvent(actor: SupportUser, ticket: Ticket, message: ChatMessage): StreamEvent {
    const payload = { messageId: String(message.id), authorId: actor.id, authorName: actor.name, body: message.body, createdAt: message.createdAt };
    // The stored message and the event share one id, so a client can match the two.
    return makeEvent('chat_message', ticket.id, payload, SupportDesk.meta(actor, ticket), message.eventId);
  }

  private async messageByKey(actor: SupportUser, ticketId: string, key: string): Promise<ChatMessage | null> {
    const row = await keyedMessage(this.db, actor.id, key);
    if (!row) return null;
    if (row.ticketId !== ticketId) throw new AirwavesError(Errors.conflict, `Idempotency-Key "${key}" was already used for a message on another ticket`);
    return SupportDesk.keyedToMessage(actor, row);
  }

  private static keyedToMessage(actor: SupportUser, row: KeyedMessage): ChatMessage {
    return { id: row.id, ticketId: row.ticketId, authorId: actor.id, authorName: actor.name, body: row.body, eventId: row.eventId, createdAt: iso(row.createdAt) };
  }

  private async insertMessage(
    tx: Transaction<SupportDB>,
    announce: (event: StreamEvent, channels: readonly string[]) => Promise<void>,
    actor: SupportUser,
    ticket: Ticket,
    text: string,
    clientKey: string | null,
  ): Promise<ChatMessage> {
    const ticketId = ticket.id;
    const eventId = randomUUID();
    const row = await tx
      .insertInto('support_messages')
      .values({ ticket_id: ticketId, author_id: actor.id, body: text, event_id: eventId, client_key: clientKey })
      .returning(['id', 'created_at'])
      .executeTakeFirstOrThrow();
    const updated = await tx.updateTable('support_tickets').set({ updated_at: new Date() }).where('id', '=', ticketId).returning('updated_at').executeTakeFirst();
    const message: ChatMessage = { id: Number(row.id), ticketId, authorId: actor.id, authorName: actor.name, body: text, eventId, createdAt: iso(row.created_at) };
    const event = SupportDesk.chatEvent(actor, { ...ticket, updatedAt: updated ? iso(updated.updated_at) : ticket.updatedAt }, message);
    await announce(event, [roomChannel(ticketId), AGENTS_CHANNEL]);
    return message;
  }

  /**
   * A page of a ticket's messages, oldest first. `before` walks back in history (keyset on the
   * message id, stable while new messages arrive); `after` catches up after a reconnect.
   */
  async messages(actor: SupportUser, ticketId: string, page: { before?: number; after?: number; limit?: number } = {}): Promise<{ messages: ChatMessage[]; nextBefore: number | null }> {
    await this.ticketFor(actor, ticketId);
    const limit = Math.min(Math.max(page.limit ?? DEFAULT_PAGE, 1), MAX_PAGE);
    let q = this.db
      .selectFrom('support_messages as m')
      .innerJoin('support_users as u', 'u.id', 'm.author_id')
      .select(['m.id', 'm.ticket_id', 'm.author_id', 'u.name', 'm.body', 'm.event_id', 'm.created_at'])
      .where('m.ticket_id', '=', ticketId)
      .limit(limit + 1);
    if (page.after !== undefined) q = q.where('m.id', '>', String(page.after)).orderBy('m.id', 'asc');
    else {
      if (page.before !== undefined) q = q.where('m.id', '<', String(page.before));
      q = q.orderBy('m.id', 'desc');
    }
    const rows = await q.execute();
    const more = rows.length > limit;
    const slice = rows.slice(0, limit);
    if (page.after === undefined) slice.reverse();
    const messages = slice.map((r) => ({ id: Number(r.id), ticketId: r.ticket_id, authorId: r.author_id, authorName: r.name, body: r.body, eventId: r.event_id, createdAt: iso(r.created_at) }));
    const nextBefore = page.after === undefined && more && messages.length ? messages[0].id : null;
    return { messages, nextBefore };
  }

  /** A typing signal (REST or WebSocket); coalesced before it becomes an event. */
  async typingSignal(actor: SupportUser, ticketId: string, state: 'start' | 'stop'): Promise<void> {
    await this.ticketFor(actor, ticketId);
    this.typing.offer({ roomId: ticketId, userId: actor.id, userName: actor.name, role: actor.role, state });
  }

  // ------------------------------------------------------------------ remote sessions

  /** `known`: the ticket, when the caller already read it through ticketFor (spares a query). */
  async activeSession(actor: SupportUser, ticketId: string, known?: Ticket): Promise<RemoteSession | null> {
    if (!known) await this.ticketFor(actor, ticketId);
    const row = await this.db.selectFrom('support_remote_sessions').selectAll().where('ticket_id', '=', ticketId).where('ended_at', 'is', null).executeTakeFirst();
    return row ? toSession(row as Parameters<typeof toSession>[0]) : null;
  }

  async startSession(actor: SupportUser, ticketId: string, controlMode: ControlMode): Promise<RemoteSession> {
    SupportDesk.requireAgent(actor, 'start remote sessions');
    const ticket = await this.ticketFor(actor, ticketId);
    if (ticket.status === 'closed' || ticket.status === 'solved') throw new AirwavesError(Errors.conflict, `ticket "${ticketId}" is ${ticket.status}; no remote session`);
    try {
      return await this.stored(async (tx, announce) => {
        const row = await tx
          .insertInto('support_remote_sessions')
          .values({ id: randomUUID(), ticket_id: ticketId, agent_id: actor.id, requester_id: ticket.requesterId, control_mode: controlMode })
          .returningAll()
          .executeTakeFirstOrThrow();
        const session = toSession(row as Parameters<typeof toSession>[0]);
        const payload = { sessionId: session.id, ticketId, agentId: actor.id, agentName: actor.name, controlMode };
        await announce(makeEvent('remote_session_start', ticketId, payload, SupportDesk.meta(actor)), [userChannel(ticket.requesterId), roomChannel(ticketId)]);
        return session;
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw new AirwavesError(Errors.conflict, `ticket "${ticketId}" already has a live remote session`);
      throw err;
    }
  }

  private async liveSession(ticketId: string, sessionId: string): Promise<RemoteSession> {
    const row = await this.db.selectFrom('support_remote_sessions').selectAll().where('id', '=', sessionId).where('ticket_id', '=', ticketId).executeTakeFirst();
    if (!row) throw new AirwavesError(Errors.notFound, `remote session "${sessionId}" does not exist on ticket "${ticketId}"`);
    const session = toSession(row as Parameters<typeof toSession>[0]);
    if (session.endedAt) throw new AirwavesError(Errors.conflict, `remote session "${sessionId}" already ended`);
    return session;
  }

  async setControlMode(actor: SupportUser, ticketId: string, sessionId: string, to: ControlMode): Promise<RemoteSession> {
    SupportDesk.requireAgent(actor, 'change the control mode');
    await this.ticketFor(actor, ticketId);
    const before = await this.liveSession(ticketId, sessionId);
    if (before.controlMode === to) return before;
    return this.stored(async (tx, announce) => {
      const row = await tx.updateTable('support_remote_sessions').set({ control_mode: to }).where('id', '=', sessionId).where('ended_at', 'is', null).returningAll().executeTakeFirst();
      if (!row) throw new AirwavesError(Errors.conflict, `remote session "${sessionId}" already ended`);
      const session = toSession(row as Parameters<typeof toSession>[0]);
      const payload = { sessionId, ticketId, agentId: actor.id, agentName: actor.name, from: before.controlMode, to };
      await announce(makeEvent('control_mode_changed', ticketId, payload, SupportDesk.meta(actor)), [userChannel(session.requesterId)]);
      return session;
    });
  }

  /** Ends a session: the agent running it, any agent, or the requester withdrawing access. */
  async endSession(actor: SupportUser, ticketId: string, sessionId: string): Promise<RemoteSession> {
    await this.ticketFor(actor, ticketId);
    const live = await this.liveSession(ticketId, sessionId);
    const agent = (await this.user(live.agentId)) ?? { id: live.agentId, name: live.agentId, role: 'agent' as const };
    return this.stored(async (tx, announce) => {
      const row = await tx.updateTable('support_remote_sessions').set({ ended_at: new Date() }).where('id', '=', sessionId).where('ended_at', 'is', null).returningAll().executeTakeFirst();
      if (!row) throw new AirwavesError(Errors.conflict, `remote session "${sessionId}" already ended`);
      const session = toSession(row as Parameters<typeof toSession>[0]);
      const durationMs = Math.max(0, Date.parse(session.endedAt!) - Date.parse(session.startedAt));
      const payload = { sessionId, ticketId, agentId: agent.id, agentName: agent.name, durationMs };
      // The requester personally, and the room: whoever ended it, the other side's view follows.
      await announce(makeEvent('remote_session_end', ticketId, payload, SupportDesk.meta(actor)), [userChannel(session.requesterId), roomChannel(ticketId)]);
      return session;
    });
  }
}
