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
  queueMessages: number;
  queueBytes: number;
  /** Above this many bytes in the socket's buffer, the hub stops writing and lets the queue hold. */
  socketHighWater: number;
}
