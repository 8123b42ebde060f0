/**
 * @module events/redis-publisher
 * Publishes events by XADD to their family's Redis stream (MAXLEN ~ per family); the hub
 * consumers on every node deliver them.
 */
import type { TransportMetrics } from './publisher-metrics.js';
import { LogEventPublisher } from './publisher.js';
import type { RedisStreamsEventLog } from './redis-streams-event-log.js';

export class RedisStreamsPublisher extends LogEventPublisher {
  constructor(log: RedisStreamsEventLog, maxLenOf: (family: string) => number | undefined, metrics?: TransportMetrics) {
    super('redis', log, maxLenOf, metrics);
  }
}
