/**
 * @module apps/support/event-bus
 * The one seam between the help desk and the event transport. When the server provides the
 * durable event publisher (`ctx.events`, Redis Streams or the in-memory log) every event is
 * appended there and the consumer on each node delivers it into the hub; without one, the event
 * goes straight into the hub. Either way the hub publish carries the event's delivery id as its
 * idempotency key, so a redelivered event reaches clients once.
 */
import type { AppContext } from '../app.js';
import type { HubApi } from '../../hub/hub-api.js';
import type { Logger } from '../../core/logger.js';
import type { EventPublisher } from '../../events/publisher.js';
import { prom, sharedMetric, type Registry } from '../../core/metrics.js';
import { familyOf, type StreamEvent } from './events.js';

/** The transport's publisher as the help desk needs it. */
export type EventPublisherLike = Pick<EventPublisher, 'publish'>;

export const ROOM_PREFIX = 'support:room:';
export const AGENTS_CHANNEL = 'support:agents';
export const USER_PREFIX = 'support-user:';
export const TYPING_INPUT_PREFIX = 'support-typing:';

export const roomChannel = (ticketId: string): string => `${ROOM_PREFIX}${ticketId}`;
export const userChannel = (userId: string): string => `${USER_PREFIX}${userId}`;

/**
 * Id of one delivery of an event to one channel. An event fanned out to several channels (a
 * status change goes to the room and to the agents' list) needs one id per channel, because the
 * log and the hub dedupe by it; the first channel keeps the bare event id.
 */
export function deliveryId(event: StreamEvent, index: number): string {
  return index === 0 ? event.eventId : `${event.eventId}.${index}`;
}

export class SupportEventBus {
  private readonly publisher: EventPublisherLike | undefined;
  private readonly hub: HubApi;
  private readonly log: Logger;
  private readonly dropped: prom.Counter<'type'>;
  published = 0;

  constructor(ctx: Pick<AppContext, 'hub' | 'logger'> & { events?: EventPublisherLike; metrics?: Registry }) {
    this.publisher = ctx.events;
    this.hub = ctx.hub;
    this.log = ctx.logger;
    this.dropped = sharedMetric(
      ctx.metrics,
      'support_events_dropped_total',
      (registers) => new prom.Counter({ name: 'support_events_dropped_total', help: 'Ephemeral help desk events (typing) the transport refused; they are not retried', labelNames: ['type'] as const, registers }),
    );
  }

  /** Name of the path events take, for logs and /status. */
  get transport(): string {
    return this.publisher ? 'event-log' : 'direct';
  }

  /**
   * Publishes `event` on every channel in order. Resolves once each delivery is accepted by the
   * log (durable) or the hub; rejects if any is refused, so the caller's request fails visibly.
   */
  async emit(event: StreamEvent, channels: readonly string[]): Promise<void> {
    for (let i = 0; i < channels.length; i++) {
      const channel = channels[i];
      const id = deliveryId(event, i);
      if (this.publisher) {
        await this.publisher.publish({ eventId: id, family: familyOf(event.type), channel, roomId: event.roomId, type: event.type, body: event });
      } else {
        await this.hub.publish(channel, event, { idempotencyKey: id });
      }
      this.published++;
    }
  }

  /**
   * Fire-and-forget variant for ephemeral events (typing): a failure is counted
   * (`support_events_dropped_total{type}`) and logged, not thrown or retried (a stale typing
   * state is worse than none; the next keystroke sends the current one).
   */
  emitSoon(event: StreamEvent, channels: readonly string[]): void {
    this.emit(event, channels).catch((err: Error) => {
      this.dropped.inc({ type: event.type });
      this.log.warn({ err, type: event.type, room: event.roomId }, 'support event publish failed; dropped');
    });
  }
}
