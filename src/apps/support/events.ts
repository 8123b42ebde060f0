/**
 * @module apps/support/events
 * The help desk's event model: every real-time change is a StreamEvent of a closed set of types,
 * validated with zod wherever it crosses a boundary (REST, WebSocket, the event log), so a bad
 * event is refused with a message naming the field instead of reaching a client half-formed.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { AirwavesError, Errors } from '../../core/errors.js';
import { CONTROL_MODES, MAX_MESSAGE_CHARS, ROLES, TICKET_STATUSES, type ControlMode, type Role, type TicketStatus } from './shared/types.js';

export const EVENT_TYPES = [
  'chat_message',
  'typing_start',
  'typing_stop',
  'status_change',
  'assignment_change',
  'remote_session_start',
  'remote_session_end',
  'control_mode_changed',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

// The closed sets and limits the browser shares (./shared/types), re-exported for the server's modules.
export { CONTROL_MODES, MAX_MESSAGE_CHARS, ROLES, TICKET_STATUSES, type ControlMode, type Role, type TicketStatus };

const id = z.string().min(1).max(128);
const roomId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ or -, at most 64');

export const payloadSchemas = {
  chat_message: z.object({ messageId: z.string().min(1), authorId: id, authorName: z.string().max(200), body: z.string().min(1).max(MAX_MESSAGE_CHARS), createdAt: z.string() }),
  typing_start: z.object({ userId: id, userName: z.string().max(200) }),
  typing_stop: z.object({ userId: id, userName: z.string().max(200) }),
  status_change: z.object({ ticketId: id, from: z.enum(TICKET_STATUSES), to: z.enum(TICKET_STATUSES) }),
  assignment_change: z.object({ ticketId: id, from: id.nullable(), to: id.nullable(), toName: z.string().max(200).nullable() }),
  remote_session_start: z.object({ sessionId: id, ticketId: id, agentId: id, agentName: z.string().max(200), controlMode: z.enum(CONTROL_MODES) }),
  remote_session_end: z.object({ sessionId: id, ticketId: id, agentId: id, agentName: z.string().max(200), durationMs: z.number().int().min(0) }),
  control_mode_changed: z.object({ sessionId: id, ticketId: id, agentId: id, agentName: z.string().max(200), from: z.enum(CONTROL_MODES), to: z.enum(CONTROL_MODES) }),
} satisfies Record<EventType, z.ZodType>;

export type PayloadOf<T extends EventType> = z.infer<(typeof payloadSchemas)[T]>;

export const metadataSchema = z.object({
  actorId: id,
  actorRole: z.enum(ROLES),
  /** Ticket snapshot fields that a live ticket list needs without a refetch. */
  ticket: z
    .object({ id, subject: z.string(), status: z.enum(TICKET_STATUSES), requesterId: id, assigneeId: id.nullable(), updatedAt: z.string() })
    .optional(),
});
export type EventMetadata = z.infer<typeof metadataSchema>;

const envelope = {
  eventId: z.string().uuid(),
  timestamp: z.number().int().positive(),
  roomId,
  metadata: metadataSchema,
};

/** The closed union: `type` picks the payload schema, anything else is refused. */
export const streamEventSchema = z.discriminatedUnion(
  'type',
  EVENT_TYPES.map((type) => z.object({ ...envelope, type: z.literal(type), payload: payloadSchemas[type] })) as unknown as [
    z.ZodObject<{ type: z.ZodLiteral<EventType> }>,
    ...z.ZodObject<{ type: z.ZodLiteral<EventType> }>[],
  ],
);

export type StreamEvent<T extends EventType = EventType> = {
  [K in T]: { eventId: string; type: K; timestamp: number; roomId: string; payload: PayloadOf<K>; metadata: EventMetadata };
}[T];

/** Which log family (stream) an event type travels on. */
export function familyOf(type: EventType): 'chat' | 'ticket' | 'remote' {
  if (type === 'chat_message' || type === 'typing_start' || type === 'typing_stop') return 'chat';
  if (type === 'status_change' || type === 'assignment_change') return 'ticket';
  return 'remote';
}

/** Renders zod issues as "field: problem; field: problem" (the field path is what a caller fixes). */
export function describeIssues(error: z.ZodError, prefix = ''): string {
  return error.issues
    .slice(0, 5)
    .map((i) => {
      const path = [prefix, ...i.path.map(String)].filter(Boolean).join('.');
      return `${path || '(root)'}: ${i.message}`;
    })
    .join('; ');
}

/** Parses an untrusted event; throws `bad_request` naming the offending field. */
export function parseStreamEvent(input: unknown): StreamEvent {
  const r = streamEventSchema.safeParse(input);
  if (!r.success) throw new AirwavesError(Errors.badRequest, `invalid event: ${describeIssues(r.error)}`);
  return r.data as unknown as StreamEvent;
}

/** Builds and validates an event (server-made events are checked too: a bug here must not reach clients). */
export function makeEvent<T extends EventType>(type: T, roomIdValue: string, payload: PayloadOf<T>, metadata: EventMetadata, eventId: string = randomUUID()): StreamEvent<T> {
  return parseStreamEvent({ eventId, type, timestamp: Date.now(), roomId: roomIdValue, payload, metadata }) as StreamEvent<T>;
}

/** What a client may publish over the WebSocket: typing only (chat goes through REST so it is stored). */
export const clientTypingSchema = z.object({ type: z.enum(['typing_start', 'typing_stop']) }).strict();

/** The generic event-ingestion body: the client names the type and the room; the server fills the rest. */
export const eventRequestSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('chat_message'), roomId, payload: z.object({ body: z.string().trim().min(1).max(MAX_MESSAGE_CHARS) }).strict() }).strict(),
  z.object({ type: z.literal('typing_start'), roomId, payload: z.object({}).strict().optional() }).strict(),
  z.object({ type: z.literal('typing_stop'), roomId, payload: z.object({}).strict().optional() }).strict(),
  z.object({ type: z.literal('status_change'), roomId, payload: z.object({ to: z.enum(TICKET_STATUSES) }).strict() }).strict(),
  z.object({ type: z.literal('assignment_change'), roomId, payload: z.object({ to: id.nullable() }).strict() }).strict(),
  z.object({ type: z.literal('remote_session_start'), roomId, payload: z.object({ controlMode: z.enum(CONTROL_MODES) }).strict() }).strict(),
  z.object({ type: z.literal('remote_session_end'), roomId, payload: z.object({ sessionId: id }).strict() }).strict(),
  z.object({ type: z.literal('control_mode_changed'), roomId, payload: z.object({ sessionId: id, to: z.enum(CONTROL_MODES) }).strict() }).strict(),
]);
export type EventRequest = z.infer<typeof eventRequestSchema>;
