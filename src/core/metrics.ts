/**
 * @module core/metrics
 * Prometheus metrics. Each server instance owns a Registry (tests run several servers in one
 * process); apps register their own metrics on the same registry. Labels are bounded: namespace,
 * never channel.
 */
import client from 'prom-client';
import gc from 'prom-client/lib/metrics/gc.js';
import heapSizeAndUsed from 'prom-client/lib/metrics/heapSizeAndUsed.js';
import heapSpacesSizeAndUsed from 'prom-client/lib/metrics/heapSpacesSizeAndUsed.js';
import osMemoryHeap from 'prom-client/lib/metrics/osMemoryHeap.js';
import processCpuTotal from 'prom-client/lib/metrics/processCpuTotal.js';
import processHandles from 'prom-client/lib/metrics/processHandles.js';
import processMaxFileDescriptors from 'prom-client/lib/metrics/processMaxFileDescriptors.js';
import processOpenFileDescriptors from 'prom-client/lib/metrics/processOpenFileDescriptors.js';
import processRequests from 'prom-client/lib/metrics/processRequests.js';
import processResources from 'prom-client/lib/metrics/processResources.js';
import processStartTime from 'prom-client/lib/metrics/processStartTime.js';
import version from 'prom-client/lib/metrics/version.js';

export type Registry = client.Registry;
export { client as prom };

/**
 * prom-client's default metrics (its `collectDefaultMetrics` list) but the event-loop lag: that
 * one enables a 10 ms sampling timer for the life of the process, which core/loop-lag runs only
 * while a user can feel the lag (the server registers it, under the same names).
 */
const DEFAULT_METRICS_BUT_LOOP_LAG = [processCpuTotal, processStartTime, osMemoryHeap, processOpenFileDescriptors, processMaxFileDescriptors, processResources, processHandles, processRequests, heapSizeAndUsed, heapSpacesSizeAndUsed, version, gc];

export function createRegistry(defaultMetrics = true): Registry {
  const registry = new client.Registry();
  // Process CPU and memory, heap spaces, handles and GC pauses (nodejs_gc_duration_seconds).
  if (defaultMetrics) for (const register of DEFAULT_METRICS_BUT_LOOP_LAG) register(registry);
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

/** One label value's running number, bumped or set in place (`cell.n += k`, `cell.n = v`) on a hot path. */
export interface TallyCell {
  n: number;
}

/**
 * Plain per-label numbers behind a prom-client counter or gauge: the hot path bumps (or sets) a
 * cell it holds (no label hashing, no allocation); the metric catches up from the cells when it is
 * scraped. For figures taken per publication or per venue message, where `labels(x).inc()` was a
 * measurable share of the CPU: prom-client builds, validates and hashes a label object on every
 * call, even through a label child.
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

  /** Sets `gauge` to each cell's current value (its `collect`): the gauge variant. */
  setOn(gauge: client.Gauge<string>, labelName: string): void {
    for (const [label, cell] of this.cells) gauge.set({ [labelName]: label }, cell.n);
  }
}

interface TallyMetricOptions {
  name: string;
  help: string;
  /** The one label the cells are keyed by. */
  label: string;
  registers: Registry[];
}

type TallyMetric = client.Counter<string> | client.Gauge<string>;

/**
 * A one-label metric of class `Metric` whose values come from a fresh {@link Tally} at scrape,
 * through `report` (a counter adds the increments, a gauge sets the values).
 */
function tallyMetric<M extends TallyMetric>(
  Metric: new (configuration: client.CounterConfiguration<string> & client.GaugeConfiguration<string>) => M,
  report: (tally: Tally, metric: M, label: string) => void,
  options: TallyMetricOptions,
): { tally: Tally; metric: M } {
  const tally = new Tally();
  const { label } = options;
  const metric: M = new Metric({
    name: options.name,
    help: options.help,
    labelNames: [label],
    registers: options.registers,
    collect() {
      report(tally, metric, label);
    },
  });
  return { tally, metric };
}

/** A prom-client Counter with one label whose counts come from a {@link Tally} at scrape. */
export function tallyCounter(options: TallyMetricOptions): { tally: Tally; metric: client.Counter<string> } {
  return tallyMetric(client.Counter<string>, (tally, metric, label) => tally.reportTo(metric, label), options);
}

/** A prom-client Gauge with one label whose values come from a {@link Tally} at scrape. */
export function tallyGauge(options: TallyMetricOptions): { tally: Tally; metric: client.Gauge<string> } {
  return tallyMetric(client.Gauge<string>, (tally, metric, label) => tally.setOn(metric, label), options);
}

/** One label value's histogram buckets, observed in place on a hot path. */
export class TallySeries {
  /** counts[i]: observations ≤ bounds[i] and > bounds[i - 1]; the last one (above every bound) is only in `count`. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && value > b[i]) i++;
    this.counts[i]++;
    this.sum += value;
    this.count++;
  }
}

/** The per-label series a prom-client 15 Histogram keeps: non-cumulative counts keyed by upper bound. */
interface PromHistogramSeries {
  labels: Record<string, string | number>;
  bucketValues: Record<number, number>;
  sum: number;
  count: number;
}

/**
 * A prom-client Histogram with one label whose buckets come from plain per-label series at scrape
 * (`histogram.of(label).observe(v)` on the hot path).
 *
 * prom-client has no public call that loads bucket counts (only `observe`, one at a time), so
 * `collect` creates each label's series with `zero()` and writes the counts into the series
 * prom-client keeps (its `hashMap`). test/core/tally.test.ts pins the rendering against a plain
 * Histogram fed the same observations, and construction throws if that store is missing, so a
 * prom-client that keeps its series differently fails at start, not silently.
 */
export class TallyHistogram {
  private readonly series = new Map<string, TallySeries>();
  private readonly bounds: number[];
  readonly metric: client.Histogram<string>;

  constructor(options: TallyMetricOptions & { buckets: number[] }) {
    const bounds = (this.bounds = [...options.buckets].sort((a, b) => a - b));
    const series = this.series;
    const { label } = options;
    this.metric = new client.Histogram({
      name: options.name,
      help: options.help,
      labelNames: [label],
      buckets: bounds,
      registers: options.registers,
      collect() {
        this.reset();
        for (const v of series.keys()) this.zero({ [label]: v });
        for (const entry of Object.values(promSeries(this))) {
          const s = series.get(String(entry.labels[label]))!;
          for (let i = 0; i < bounds.length; i++) entry.bucketValues[bounds[i]] = s.counts[i];
          entry.sum = s.sum;
          entry.count = s.count;
        }
      },
    });
    promSeries(this.metric);
  }

  /** The series of one label value (the same object every time: hold it). */
  of(labelValue: string): TallySeries {
    let s = this.series.get(labelValue);
    if (!s) {
      s = new TallySeries(this.bounds);
      this.series.set(labelValue, s);
    }
    return s;
  }
}

function promSeries(h: client.Histogram<string>): Record<string, PromHistogramSeries> {
  const map = (h as unknown as { hashMap?: Record<string, PromHistogramSeries> }).hashMap;
  if (typeof map !== 'object' || map === null) throw new Error('prom-client Histogram keeps no hashMap: TallyHistogram needs updating for this prom-client version');
  return map;
}

/** Where a gauge computed at scrape reads its figure: whoever owns the figure sets `read` (the hub, when it starts). */
export interface GaugeSource {
  read: () => number;
}

export function createHubMetrics(registry: Registry) {
  const registers = [registry];
  const publishRate: GaugeSource = { read: () => 0 };
  const published = tallyCounter({ name: 'hub_messages_published_total', help: 'Messages published into the hub', label: 'namespace', registers });
  const delivered = tallyCounter({ name: 'hub_messages_delivered_total', help: 'Messages written to client sockets', label: 'namespace', registers });
  return {
    /** Per-namespace counts of hub_messages_published_total: bump a cell, never the counter. */
    publishedTally: published.tally,
    /** Per-namespace counts of hub_messages_delivered_total: bump a cell, never the counter. */
    deliveredTally: delivered.tally,
    connections: new client.Gauge({ name: 'hub_connections', help: 'Open WebSocket connections', registers }),
    subscriptions: new client.Gauge({ name: 'hub_subscriptions', help: 'Active channel subscriptions', registers }),
    published: published.metric,
    delivered: delivered.metric,
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
      help: 'Slow-consumer policy actions taken (messages dropped or conflated, clients disconnected), by why: not_keeping_up (the backlog did not shrink over the judgement window) or hard_cap',
      labelNames: ['action', 'reason'] as const,
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
    /** What hub_publish_rate reads when scraped (no timer: an idle hub wakes for nothing). */
    publishRate,
    messagesPerSecond: new client.Gauge({
      name: 'hub_publish_rate',
      help: 'Messages published per second over the last few seconds',
      registers,
      collect() {
        this.set(publishRate.read());
      },
    }),
  };
}

export type HubMetrics = ReturnType<typeof createHubMetrics>;
