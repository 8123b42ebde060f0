/**
 * @module apps/support/routes
 * The help desk's REST API under /api/v1/support. Every route has a JSON schema (bad input is a
 * 400 naming the field before any handler runs) and declares its auth rule: agent-only routes
 * refuse customers before validation; the rest need an agent or customer token. Which ticket a
 * user may see or change (customers: their own; agents: the queue) is decided in the desk.
 * The demo login exists only in demo mode (AIRWAVES_DEMO=true) and is rate-limited per IP.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AirwavesError, Errors } from '../../core/errors.js';
import { errorResponseSchema } from '../../http/errors.js';
import type { AppAuth } from '../../auth/app-auth.js';
import { CONTROL_MODES, MAX_MESSAGE_CHARS, ROLES, TICKET_STATUSES, describeIssues, eventRequestSchema, type ControlMode, type Role, type TicketStatus } from './events.js';
import type { SupportDesk, SupportUser } from './desk.js';
import { parseIdempotencyKey } from './idempotency.js';
import { DEMO_USERS } from './shared/demo-users.js';

const TOKEN_TTL_SECONDS = 8 * 3600;

const userSchema = { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' }, role: { type: 'string', enum: [...ROLES] } }, required: ['id', 'name', 'role'] } as const;
const ticketSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    subject: { type: 'string' },
    requesterId: { type: 'string' },
    assigneeId: { type: ['string', 'null'] },
    status: { type: 'string', enum: [...TICKET_STATUSES] },
    createdAt: { type: 'string' },
    updatedAt: { type: 'string' },
  },
  required: ['id', 'subject', 'requesterId', 'assigneeId', 'status', 'createdAt', 'updatedAt'],
} as const;
const messageSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    ticketId: { type: 'string' },
    authorId: { type: 'string' },
    authorName: { type: 'string' },
    body: { type: 'string' },
    eventId: { type: 'string' },
    createdAt: { type: 'string' },
  },
  required: ['id', 'ticketId', 'authorId', 'authorName', 'body', 'eventId', 'createdAt'],
} as const;
const sessionSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    ticketId: { type: 'string' },
    agentId: { type: 'string' },
    requesterId: { type: 'string' },
    controlMode: { type: 'string', enum: [...CONTROL_MODES] },
    startedAt: { type: 'string' },
    endedAt: { type: ['string', 'null'] },
  },
  required: ['id', 'ticketId', 'agentId', 'requesterId', 'controlMode', 'startedAt', 'endedAt'],
} as const;
const nullableSession = { anyOf: [sessionSchema, { type: 'null' }] } as const;

const errors = { 400: errorResponseSchema, 401: errorResponseSchema, 403: errorResponseSchema, 404: errorResponseSchema, 409: errorResponseSchema };
const security = [{ apiKey: [] }];
const tags = ['support'];
const ticketParams = { type: 'object', properties: { ticketId: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' } }, required: ['ticketId'] } as const;
const sessionParams = {
  type: 'object',
  properties: { ticketId: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' }, sessionId: { type: 'string', maxLength: 64 } },
  required: ['ticketId', 'sessionId'],
} as const;
const messageBody = { type: 'string', minLength: 1, maxLength: MAX_MESSAGE_CHARS } as const;
/**
 * The Idempotency-Key header of the routes that create something: declared in the schema so
 * /openapi.json documents it and a malformed key is a 400 before the handler runs (the desk
 * checks it again: the events route takes it for chat messages only).
 */
const idempotentHeaders = {
  type: 'object',
  properties: {
    'idempotency-key': {
      type: 'string',
      pattern: '^[\\x21-\\x7e]{1,200}$',
      description: 'A fresh random key per user action (1-200 visible ASCII characters), sent again unchanged on a retry: the retry returns what the first attempt stored instead of storing it twice',
    },
  },
} as const;
const idempotencyKeyOf = (req: FastifyRequest): string | undefined => parseIdempotencyKey(req.headers['idempotency-key']);

/** The hub channels a help desk user's token may name; the namespace hooks narrow them per ticket. */
export function supportChannelClaims(user: Pick<SupportUser, 'id' | 'role'>): { subscribe: string[]; publish: string[] } {
  return {
    subscribe: ['support:room:*', `support-user:${user.id}`, ...(user.role === 'agent' ? ['support:agents'] : [])],
    publish: ['support-typing:*'],
  };
}

export function registerSupportRoutes(http: FastifyInstance, desk: SupportDesk, auth: AppAuth): void {
  const actors = new WeakMap<FastifyRequest, SupportUser>();
  const actor = (req: FastifyRequest): SupportUser => {
    const user = actors.get(req);
    if (!user) throw new AirwavesError(Errors.forbidden, 'not a help desk user');
    return user;
  };
  const member = auth.rule.roles('agent', 'customer');
  const agent = auth.rule.roles('agent');

  // The auth hook has checked the token and its role (before validation); this one finds the
  // help desk user behind it, whose stored role the desk checks again on every action.
  http.addHook('onRequest', async (req) => {
    const userId = req.identity?.user;
    if (!userId || req.identity?.roles.includes('admin')) return;
    const user = await desk.user(userId);
    if (!user) throw new AirwavesError(Errors.forbidden, `user "${userId}" is not a help desk user`);
    actors.set(req, user);
  });

  if (auth.demo) registerDemoLogin(http, desk, auth);

  http.get('/me', { config: member, schema: { tags, security, summary: 'The user behind the token', response: { 200: userSchema, ...errors } } }, async (req) => actor(req));

  http.get<{ Querystring: { role?: Role } }>(
    '/users',
    {
      config: agent, schema: {
        tags,
        security,
        summary: 'Help desk users (agents: for assignment)',
        querystring: { type: 'object', properties: { role: { type: 'string', enum: [...ROLES] } }, additionalProperties: false },
        response: { 200: { type: 'object', properties: { users: { type: 'array', items: userSchema } } }, ...errors },
      },
    },
    async (req) => {
      if (actor(req).role !== 'agent') throw new AirwavesError(Errors.forbidden, 'only agents may list users');
      return { users: await desk.listUsers(req.query.role) };
    },
  );

  http.get<{ Querystring: { status?: TicketStatus; limit?: number } }>(
    '/tickets',
    {
      config: member, schema: {
        tags,
        security,
        summary: 'Tickets, most recently active first (customers: their own)',
        querystring: { type: 'object', properties: { status: { type: 'string', enum: [...TICKET_STATUSES] }, limit: { type: 'integer', minimum: 1, maximum: 500 } }, additionalProperties: false },
        response: { 200: { type: 'object', properties: { tickets: { type: 'array', items: ticketSchema } } }, ...errors },
      },
    },
    async (req) => ({ tickets: await desk.listTickets(actor(req), req.query) }),
  );

  http.post<{ Body: { subject: string; body: string; requesterId?: string } }>(
    '/tickets',
    {
      bodyLimit: 64 * 1024,
      config: member, schema: {
        tags,
        security,
        summary: 'Opens a ticket with its first message (a retry with the same Idempotency-Key returns the ticket the first attempt opened)',
        headers: idempotentHeaders,
        body: {
          type: 'object',
          properties: { subject: { type: 'string', minLength: 1, maxLength: 200 }, body: messageBody, requesterId: { type: 'string', maxLength: 128 } },
          required: ['subject', 'body'],
          additionalProperties: false,
        },
        response: { 201: { type: 'object', properties: { ticket: ticketSchema, message: messageSchema } }, ...errors },
      },
    },
    async (req, reply) => reply.status(201).send(await desk.createTicket(actor(req), req.body, { idempotencyKey: idempotencyKeyOf(req) })),
  );

  http.get<{ Params: { ticketId: string } }>(
    '/tickets/:ticketId',
    {
      config: member, schema: { tags, security, summary: 'One ticket and its live remote session', params: ticketParams, response: { 200: { type: 'object', properties: { ticket: ticketSchema, remoteSession: nullableSession } }, ...errors } },
    },
    async (req) => {
      const ticket = await desk.ticketFor(actor(req), req.params.ticketId);
      return { ticket, remoteSession: await desk.activeSession(actor(req), ticket.id, ticket) };
    },
  );

  http.put<{ Params: { ticketId: string }; Body: { status: TicketStatus } }>(
    '/tickets/:ticketId/status',
    {
      config: agent, schema: {
        tags,
        security,
        summary: "Changes a ticket's status (agents); everyone watching sees it at once",
        params: ticketParams,
        body: { type: 'object', properties: { status: { type: 'string', enum: [...TICKET_STATUSES] } }, required: ['status'], additionalProperties: false },
        response: { 200: { type: 'object', properties: { ticket: ticketSchema } }, ...errors },
      },
    },
    async (req) => ({ ticket: await desk.setStatus(actor(req), req.params.ticketId, req.body.status) }),
  );

  http.post<{ Params: { ticketId: string } }>(
    '/tickets/:ticketId/reopen',
    {
      config: member,
      schema: {
        tags,
        security,
        summary: 'Reopens a solved or closed ticket (its requester or an agent); everyone watching sees it at once',
        params: ticketParams,
        response: { 200: { type: 'object', properties: { ticket: ticketSchema } }, ...errors },
      },
    },
    async (req) => ({ ticket: await desk.reopen(actor(req), req.params.ticketId) }),
  );

  http.put<{ Params: { ticketId: string }; Body: { assigneeId: string | null } }>(
    '/tickets/:ticketId/assignee',
    {
      config: agent, schema: {
        tags,
        security,
        summary: 'Assigns a ticket to an agent, or unassigns it with null (agents)',
        params: ticketParams,
        body: { type: 'object', properties: { assigneeId: { type: ['string', 'null'], maxLength: 128 } }, required: ['assigneeId'], additionalProperties: false },
        response: { 200: { type: 'object', properties: { ticket: ticketSchema } }, ...errors },
      },
    },
    async (req) => ({ ticket: await desk.assign(actor(req), req.params.ticketId, req.body.assigneeId) }),
  );

  http.get<{ Params: { ticketId: string }; Querystring: { before?: number; after?: number; limit?: number } }>(
    '/tickets/:ticketId/messages',
    {
      config: member, schema: {
        tags,
        security,
        summary: "A page of a ticket's chat, oldest first: `before` pages back, `after` catches up",
        params: ticketParams,
        querystring: {
          type: 'object',
          properties: { before: { type: 'integer', minimum: 1 }, after: { type: 'integer', minimum: 0 }, limit: { type: 'integer', minimum: 1, maximum: 200 } },
          additionalProperties: false,
        },
        response: { 200: { type: 'object', properties: { messages: { type: 'array', items: messageSchema }, nextBefore: { type: ['integer', 'null'] } } }, ...errors },
      },
    },
    async (req) => {
      if (req.query.before !== undefined && req.query.after !== undefined) throw new AirwavesError(Errors.badRequest, 'querystring: give "before" or "after", not both');
      return desk.messages(actor(req), req.params.ticketId, req.query);
    },
  );

  http.post<{ Params: { ticketId: string }; Body: { body: string } }>(
    '/tickets/:ticketId/messages',
    {
      bodyLimit: 64 * 1024,
      config: member, schema: {
        tags,
        security,
        summary: "Posts a chat message to the ticket's room (stored, then published; a retry with the same Idempotency-Key returns the stored message)",
        params: ticketParams,
        headers: idempotentHeaders,
        body: { type: 'object', properties: { body: messageBody }, required: ['body'], additionalProperties: false },
        response: { 201: { type: 'object', properties: { message: messageSchema } }, ...errors },
      },
    },
    async (req, reply) => reply.status(201).send({ message: await desk.postMessage(actor(req), req.params.ticketId, req.body.body, { idempotencyKey: idempotencyKeyOf(req) }) }),
  );

  http.post<{ Params: { ticketId: string }; Body: { state: 'start' | 'stop' } }>(
    '/tickets/:ticketId/typing',
    {
      config: member, schema: {
        tags,
        security,
        summary: 'Reports typing (coalesced per room and user over 100 ms)',
        params: ticketParams,
        body: { type: 'object', properties: { state: { type: 'string', enum: ['start', 'stop'] } }, required: ['state'], additionalProperties: false },
        response: { 202: { type: 'object', properties: { accepted: { type: 'boolean' } } }, ...errors },
      },
    },
    async (req, reply) => {
      await desk.typingSignal(actor(req), req.params.ticketId, req.body.state);
      return reply.status(202).send({ accepted: true });
    },
  );

  http.post<{ Params: { ticketId: string }; Body: { controlMode: ControlMode } }>(
    '/tickets/:ticketId/remote-sessions',
    {
      config: agent, schema: {
        tags,
        security,
        summary: 'Starts a remote-access session (agents); the requester is notified personally',
        params: ticketParams,
        body: { type: 'object', properties: { controlMode: { type: 'string', enum: [...CONTROL_MODES] } }, required: ['controlMode'], additionalProperties: false },
        response: { 201: { type: 'object', properties: { session: sessionSchema } }, ...errors },
      },
    },
    async (req, reply) => reply.status(201).send({ session: await desk.startSession(actor(req), req.params.ticketId, req.body.controlMode) }),
  );

  http.put<{ Params: { ticketId: string; sessionId: string }; Body: { controlMode: ControlMode } }>(
    '/tickets/:ticketId/remote-sessions/:sessionId/control-mode',
    {
      config: agent, schema: {
        tags,
        security,
        summary: "Changes a live session's control mode (agents); the requester is notified",
        params: sessionParams,
        body: { type: 'object', properties: { controlMode: { type: 'string', enum: [...CONTROL_MODES] } }, required: ['controlMode'], additionalProperties: false },
        response: { 200: { type: 'object', properties: { session: sessionSchema } }, ...errors },
      },
    },
    async (req) => ({ session: await desk.setControlMode(actor(req), req.params.ticketId, req.params.sessionId, req.body.controlMode) }),
  );

  http.delete<{ Params: { ticketId: string; sessionId: string } }>(
    '/tickets/:ticketId/remote-sessions/:sessionId',
    {
      config: member, schema: {
        tags,
        security,
        summary: 'Ends a live session (agents, or the requester withdrawing access)',
        params: sessionParams,
        response: { 200: { type: 'object', properties: { session: sessionSchema } }, ...errors },
      },
    },
    async (req) => ({ session: await desk.endSession(actor(req), req.params.ticketId, req.params.sessionId) }),
  );

  // One entry point taking any event request, checked against the closed event union with zod:
  // integrations post events without learning each route, and get the same precise errors.
  http.post<{ Body: unknown }>(
    '/events',
    {
      bodyLimit: 64 * 1024,
      config: member, schema: {
        tags,
        security,
        summary: 'Submits an event request {type, roomId, payload}; validated against the closed event types (Idempotency-Key applies to chat_message)',
        headers: idempotentHeaders,
        body: { type: 'object' },
        response: { 202: { type: 'object', properties: { accepted: { type: 'boolean' }, type: { type: 'string' } } }, ...errors },
      },
    },
    async (req, reply) => {
      const parsed = eventRequestSchema.safeParse(req.body);
      if (!parsed.success) throw new AirwavesError(Errors.badRequest, `invalid event: ${describeIssues(parsed.error)}`);
      const e = parsed.data;
      const who = actor(req);
      switch (e.type) {
        case 'chat_message':
          await desk.postMessage(who, e.roomId, e.payload.body, { idempotencyKey: idempotencyKeyOf(req) });
          break;
        case 'typing_start':
        case 'typing_stop':
          await desk.typingSignal(who, e.roomId, e.type === 'typing_start' ? 'start' : 'stop');
          break;
        case 'status_change':
          await desk.setStatus(who, e.roomId, e.payload.to);
          break;
        case 'assignment_change':
          await desk.assign(who, e.roomId, e.payload.to);
          break;
        case 'remote_session_start':
          await desk.startSession(who, e.roomId, e.payload.controlMode);
          break;
        case 'remote_session_end':
          await desk.endSession(who, e.roomId, e.payload.sessionId);
          break;
        case 'control_mode_changed':
          await desk.setControlMode(who, e.roomId, e.payload.sessionId, e.payload.to);
          break;
      }
      return reply.status(202).send({ accepted: true, type: e.type });
    },
  );
}

/** Demo mode only: a token for one of the seeded demo people, with their role and channels. */
function registerDemoLogin(http: FastifyInstance, desk: SupportDesk, auth: AppAuth): void {
  http.post<{ Body: { userId: string } }>(
    '/demo-login',
    {
      config: auth.loginRoute(),
      schema: {
        tags,
        summary: 'Demo mode only (AIRWAVES_DEMO=true): a token for one of the seeded demo users, rate-limited per IP',
        body: { type: 'object', properties: { userId: { type: 'string', enum: DEMO_USERS.map((u) => u.id) } }, required: ['userId'], additionalProperties: false },
        response: { 200: { type: 'object', properties: { token: { type: 'string' }, user: userSchema, expiresIn: { type: 'integer' } } }, 400: errorResponseSchema, 404: errorResponseSchema, 429: errorResponseSchema },
      },
    },
    async (req) => {
      const user = await desk.user(req.body.userId);
      if (!user) throw new AirwavesError(Errors.notFound, `demo user "${req.body.userId}" is not seeded`);
      const token = await auth.mint({ sub: user.id, roles: [user.role], ...supportChannelClaims(user) }, TOKEN_TTL_SECONDS);
      return { token, user, expiresIn: TOKEN_TTL_SECONDS };
    },
  );
}
