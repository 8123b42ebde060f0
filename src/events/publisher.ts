/**
 * @module events/publisher
 * What producers of durable events (the support desk first) publish through, whatever carries
 * the event: Redis Streams, an HTTP call to a hub node, or the in-process log. Every event has
 * an id that stays with it end to end; the hub publishes it with that id as idempotency key, so
 * an event carried twice (dual-write, a retry, a fallback then a replay) reaches clients once.
 */
import { AirwavesError, Errors } from '../core/errors.js';
import { isValidChannel } from '../protocol/index.js';
import type { EventLog } from './event-log.js';
import type { TransportMetrics } from './publisher-metrics.js';

export interface TransportEvent {
  /** Unique id of the event (a UUID or a producer's stable id); the hub dedupes by it. */
  eventId: string;
  /** Event family, one Redis stream per family (e.g. 'chat', 'ticket', 'remote'). */
  family: string;
  /** Hub channel the event is delivered to, e.g. 'support:room-42'. */
  channel: string;
  /** Room the event belongs to; the rollout percentage is decided per room. */
  roomId: string;
  /** Event type, e.g. 'message.created' (a metric label: keep the set small). */
  type: string;
  /** What subscribers of `channel` receive as the publication's data. */
  body: unknown;
}

export type TransportName = 'redis' | 'http' | 'memory';

export interface EventPublisher {
  publish(event: TransportEvent): Promise<{ transport: TransportName }>;
}

const ID_RE = /^[A-Za-z0-9_.:-]{1,128}$/;
const FAMILY_RE = /^[a-z][a-z0-9_-]{0,31}$/;
const TYPE_RE = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;
const ROOM_RE = /^[A-Za-z0-9_.:@=+-]{1,200}$/;

/** The Redis stream (or memory log stream) of an event family. */
export const streamOf = (family: string): string => `events:${family}`;
/** Where events that could not be delivered end up, with the reason. */
export const DEAD_LETTER_STREAM = 'events:dead';

/** Checks an event's fields; throws AirwavesError bad_request naming the first bad field. */
export function validateEvent(event: TransportEvent, families?: ReadonlySet<string>): TransportEvent {
  const bad = (field: string, expected: string) => {
    throw new AirwavesError(Errors.badRequest, `event field "${field}" ${expected}`);
  };
  if (typeof event !== 'object' || event === null) bad('event', 'must be an object');
  if (typeof event.eventId !== 'string' || !ID_RE.test(event.eventId)) bad('eventId', 'must be 1-128 characters of letters, digits, _ . : -');
  if (typeof event.family !== 'string' || !FAMILY_RE.test(event.family)) bad('family', 'must be a lowercase name like "chat"');
  if (families && !families.has(event.family)) bad('family', `"${event.family}" is not a configured stream (${[...families].join(', ')})`);
  if (!isValidChannel(event.channel)) bad('channel', 'must be "namespace:name"');
  if (typeof event.roomId !== 'string' || !ROOM_RE.test(event.roomId)) bad('roomId', 'must be 1-200 characters of letters, digits, _ . : @ = + -');
  if (typeof event.type !== 'string' || !TYPE_RE.test(event.type)) bad('type', 'must be a name like "message.created"');
  if (event.body === undefined) bad('body', 'is required');
  return event;
}

/** Stream entry fields of an event (flat strings, as Redis stores them). */
export function eventToFields(event: TransportEvent): Record<string, string> {
  const body = JSON.stringify(event.body);
  if (body === undefined) throw new AirwavesError(Errors.badRequest, 'event field "body" must be JSON-serialisable');
  return { id: event.eventId, ch: event.channel, room: event.roomId, type: event.type, body };
}

/** The event stored in a stream entry; throws on an entry that is not one. */
export function eventFromFields(family: string, fields: Record<string, string>): TransportEvent {
  const { id, ch, room, type, body } = fields;
  if (!id || !ch || room === undefined || !type || body === undefined) throw new Error('entry lacks id, ch, room, type or body');
  return { eventId: id, family, channel: ch, roomId: room, type, body: JSON.parse(body) as unknown };
}

/** Publishes by appending to an event log (Redis Streams or the memory log); a hub consumer delivers. */
export class LogEventPublisher implements EventPublisher {
  constructor(
    readonly transport: 'redis' | 'memory',
    private readonly log: EventLog,
    private readonly maxLenOf: (family: string) => number | undefined,
    private readonly metrics?: TransportMetrics,
  ) {}

  async publish(event: TransportEvent): Promise<{ transport: TransportName }> {
    const started = performance.now();
    const fields = eventToFields(event);
    await this.log.append(streamOf(event.family), fields, { maxLen: this.maxLenOf(event.family) });
    this.metrics?.observePublish(this.transport, event.type, started);
    return { transport: this.transport };
  }
}
