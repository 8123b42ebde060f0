/**
 * @module hub/session-types
 * The shapes a client session is built from and talks through: what waits in its queue and
 * the queue's limits.
 * Kept apart from hub/client-session, which is long enough with the queue's behaviour.
 */
import type { HubMessage } from './engines/engine.js';

/** A reply or notice that must reach the client in order and is never dropped. */
export interface ControlFrame {
  control: true;
  frame: Buffer;
}

/** What waits in a session's queue: a shared publication, or a reply or notice for this client only. */
export type Outbound = HubMessage | ControlFrame;

export interface SessionLimits {
  /** The queue's bounds: past them, while the socket is backed up, the client is judged (client-session). */
  queueMessages: number;
  queueBytes: number;
  /** The hard cap: past either, the slow-consumer policy applies at once. */
  hardMessages: number;
  hardBytes: number;
  /** Over its bounds, the client must shrink its backlog within this many ms; 0: the policy applies at once. */
  judgeWindowMs: number;
  /** Above this many bytes in the socket's buffer, the hub stops writing and lets the queue hold. */
  socketHighWater: number;
}

/** Why the slow-consumer policy applied: the judgement window, or the hard cap. */
export type SlowConsumerReason = 'not_keeping_up' | 'hard_cap';
