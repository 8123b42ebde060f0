/**
 * @module events/publisher-metrics
 * Prometheus metrics of the event transport. Several components register on one registry (and
 * tests build several servers), so each metric is fetched if it already exists.
 */
import { prom, sharedMetric, type Registry } from '../core/metrics.js';

export function createTransportMetrics(registry: Registry) {
  const registers = [registry];
  const duration = sharedMetric(registry, 'event_publish_duration_seconds', () => new prom.Histogram({
    name: 'event_publish_duration_seconds',
    help: 'Time to hand one event to its transport (append, or HTTP call until accepted)',
    labelNames: ['transport'] as const,
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5],
    registers,
  }));
  const published = sharedMetric(registry, 'events_published_total', () => new prom.Counter({
    name: 'events_published_total',
    help: 'Events handed to a transport',
    labelNames: ['transport', 'event_type'] as const,
    registers,
  }));
  return {
    duration,
    published,
    deadLettered: sharedMetric(registry, 'events_dead_lettered_total', () => new prom.Counter({
      name: 'events_dead_lettered_total',
      help: 'Events moved to the dead-letter stream (too many deliveries or undeliverable)',
      labelNames: ['stream', 'reason'] as const,
      registers,
    })),
    consumed: sharedMetric(registry, 'events_consumed_total', () => new prom.Counter({
      name: 'events_consumed_total',
      help: 'Events this node took from the log and published into the hub',
      labelNames: ['stream'] as const,
      registers,
    })),
    fallbackActive: sharedMetric(registry, 'event_transport_fallback_active', () => new prom.Gauge({
      name: 'event_transport_fallback_active',
      help: '1 while Redis publishing is failing and events go over HTTP instead',
      registers,
    })),
    fallbacks: sharedMetric(registry, 'event_transport_fallbacks_total', () => new prom.Counter({
      name: 'event_transport_fallbacks_total',
      help: 'Events published over HTTP because Redis was unreachable',
      registers,
    })),
    publishFailures: sharedMetric(registry, 'events_publish_failures_total', () => new prom.Counter({
      name: 'events_publish_failures_total',
      help: 'Events the transport refused to their producer (Redis unreachable and no HTTP fallback, or the fallback failed too), by error code; the producer keeps and retries them',
      labelNames: ['code'] as const,
      registers,
    })),
    observePublish(transport: string, eventType: string, startedAt: number) {
      duration.observe({ transport }, (performance.now() - startedAt) / 1000);
      published.inc({ transport, event_type: eventType });
    },
  };
}

export type TransportMetrics = ReturnType<typeof createTransportMetrics>;

/** Registers a gauge whose values are read (asynchronously) at scrape time. */
export function registerCollectedGauge(registry: Registry, name: string, help: string, labelNames: string[], collect: (set: (labels: Record<string, string>, value: number) => void) => Promise<void>): void {
  if (registry.getSingleMetric(name)) registry.removeSingleMetric(name);
  new prom.Gauge({
    name,
    help,
    labelNames,
    registers: [registry],
    async collect() {
      this.reset();
      await collect((labels, value) => this.set(labels, value)).catch(() => {});
    },
  });
}
