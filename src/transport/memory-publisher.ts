/**
 * @module transport/memory-publisher
 * Publishes events into the in-process event log (a single node without Redis, development and
 * tests); the node's consumer delivers them to the hub exactly as it would from Redis.
 */
import type { MemoryEventLog } from './memory.js';
import type { TransportMetrics } from './publisher-metrics.js';
import { LogEventPublisher } from './publisher.js';

export class MemoryEventPublisher extends LogEventPublisher {
  constructor(log: MemoryEventLog, maxLenOf: (family: string) => number | undefined, metrics?: TransportMetrics) {
    super('memory', log, maxLenOf, metrics);
  }
}
