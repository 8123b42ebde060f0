/**
 * @module core/metrics
 * Prometheus metrics. Each server instance owns a Registry (tests run several servers in one
 * process); apps register their own metrics on the same registry. Labels are bounded: namespace,
 * never channel.
 */
import client from 'prom-client';

export type Registry = client.Registry;
export { client as prom };

export function createRegistry(defaultMetrics = true): Registry {
  const registry = new client.Registry();
  // Default metrics include event-loop lag (nodejs_eventloop_lag_*) and GC pauses (nodejs_gc_duration_seconds).
  if (defaultMetrics) client.collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 });
  return registry;
}

/**
 * The metric `name` already on `registry`, else the one `make` registers: components that share a
 * registry (and tests that build several of them) must not register a metric twice.
 */
export function sharedMetric<T extends client.Metric>(registry: Registry | undefined, name: string, make: (registers: Registry[]) => T): T {
  const existing = registry?.getSingleMetric(name);
  if (existing) return existing as T;
  return make(registry ? [registry] : []);
}

/** One label value's running count, bumped in place (`cell.n += k`) on a hot path. */
export interface TallyCell {
  n: number;
}

/**
 * Plain per-label counts behind a prom-client counter: the hot path bumps a cell it holds (no
 * label hashing, no allocation); the counter catches up from the cells when it is scraped. For
 * counts taken per publication, where `labels(x).inc()` was a measurable share of the hub's CPU.
 */
export class Tally {
  private readonly cells = new Map<string, TallyCell & { reported: number }>();

  /** The cell of one label value (the same object every time: hold it). */
  cell(label: string): TallyCell {
    let cell = this.cells.get(label);
    if (!cell) {
      cell = { n: 0, reported: 0 };
      this.cells.set(label, cell);
    }
    return cell;
  }

  /** Adds to `counter` what each cell counted since the last report (its `collect`). */
  reportTo(counter: client.Counter<string>, labelName: string): void {
    for (const [label, cell] of this.cells) {
      if (cell.n === cell.reported) continue;
      counter.inc({ [labelName]: label }, cell.n - cell.reported);
      cell.reported = cell.n;
    }
  }
}

export function createHubMetrics(registry: Registry) {
  const registers = [registry];
  const publishedTally = new Tally();
  const deliveredTally = new Tally();
  return {
    /** Per-namespace counts of hub_messages_published_total: bump a cell, never the counter. */
    publishedTally,
    /** Per-namespace counts of hub_messages_delivered_total: bump a cell, never the counter. */
    deliveredTally,
    connections: new client.Gauge({ name: 'hub_connections', help: 'Open WebSocket connections', registers }),
    subscriptions: new client.Gauge({ name: 'hub_subscriptions', help: 'Active channel subscriptions', registers }),
    published: new client.Counter({
      name: 'hub_messages_published_total',
      help: 'Messages published into the hub',
      labelNames: ['namespace'] as const,
      registers,
      collect() {
        publishedTally.reportTo(this, 'namespace');
      },
    }),
    delivered: new client.Counter({
      name: 'hub_messages_delivered_total',
      help: 'Messages written to client sockets',
      labelNames: ['namespace'] as const,
      registers,
      collect() {
        deliveredTally.reportTo(this, 'namespace');
      },
    }),
    deliveryLatency: new client.Histogram({
      name: 'hub_delivery_latency_seconds',
      help: 'Time from publish to socket write: one observation per flush pass, of its oldest publication after the pass\'s last write (an upper bound for every delivery in the pass)',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    }),
    flushYields: new client.Counter({
      name: 'hub_flush_yields_total',
      help: 'Flush passes that yielded after their time slice, leaving the rest of their sessions to the next turn',
      registers,
    }),
    sendErrors: new client.Counter({
      name: 'hub_send_errors_total',
      help: 'Failed socket writes',
      labelNames: ['type'] as const,
      registers,
    }),
    slowConsumerActions: new client.Counter({
      name: 'hub_slow_consumer_actions_total',
      help: 'Slow-consumer policy actions taken',
      labelNames: ['action'] as const,
      registers,
    }),
    coalesced: new client.Counter({
      name: 'hub_coalesced_total',
      help: 'Publishes absorbed by a coalescing window (not sent on their own)',
      labelNames: ['namespace'] as const,
      registers,
    }),
    rejected: new client.Counter({
      name: 'hub_rejected_total',
      help: 'Commands and connections rejected',
      labelNames: ['reason'] as const,
      registers,
    }),
    messagesPerSecond: new client.Gauge({
      name: 'hub_publish_rate',
      help: 'Messages published per second over the last few seconds',
      registers,
    }),
  };
}

export type HubMetrics = ReturnType<typeof createHubMetrics>;
