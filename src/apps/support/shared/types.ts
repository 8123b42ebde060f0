/**
 * @module apps/support/shared/types
 * The help desk's closed sets (ticket statuses, control modes, roles), its message limit and the
 * shapes its API returns: what the server's desk and events and the browser UI agree on, in a
 * module of its own so the UI bundle takes them without zod, the database or Node.
 */
export const TICKET_STATUSES = ['open', 'pending', 'solved', 'closed'] as const;
export type TicketStatus = (typeof TICKET_STATUSES)[number];
export const CONTROL_MODES = ['view_only', 'full_control'] as const;
export type ControlMode = (typeof CONTROL_MODES)[number];
export const ROLES = ['agent', 'customer'] as const;
export type Role = (typeof ROLES)[number];

/** Longest chat message, in characters (REST schema and event schema agree). */
export const MAX_MESSAGE_CHARS = 4000;

export interface SupportUser {
  id: string;
  name: string;
  role: Role;
}

export interface Ticket {
  id: string;
  subject: string;
  requesterId: string;
  assigneeId: string | null;
  status: TicketStatus;
  createdAt: string;
  updatedAt: string;
}

export interface ChatMessage {
  id: number;
  ticketId: string;
  authorId: string;
  authorName: string;
  body: string;
  eventId: string;
  createdAt: string;
}

export interface RemoteSession {
  id: string;
  ticketId: string;
  agentId: string;
  requesterId: string;
  controlMode: ControlMode;
  startedAt: string;
  endedAt: string | null;
}
