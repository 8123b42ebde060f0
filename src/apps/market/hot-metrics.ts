/**
 * @module apps/market/hot-metrics
 * Prometheus metrics observed once or more per venue message: plain numbers on the hot path,
 * read by prom-client only when /metrics is scraped.
 *
 * Why not prom-client's own: even through a label child, every `inc`/`set`/`observe` builds a
 * label object, validates it and hashes it into a string key (prom-client 15), several times per
 * venue message. Here an observation is a few additions on numbers kept per label value.
 *
 * - {@link HotCounter}: a prom-client Counter (or Gauge) whose values are copied in from
 *   per-label numbers by its `collect` hook, so every other prom-client feature stays.
 * - {@link HotHistogram}: a histogram prom-client registers as any metric (`get()` returns the
 *   same shape its own Histogram does: `_bucket` with cumulative `le`, `_sum`, `_count`).
 */
import { prom, type Registry } from '../../core/metrics.js';

/** One label value's slot: `add` and `set` are the hot-path calls. */
export class HotValue {
  value = 0;
  add(n = 1): void {
    this.value += n;
  }
  set(n: number): void {
    this.value = n;
  }
}

/** Per-label-value numbers behind a prom-client Counter or Gauge with one label. */
export class HotCounter {
  private readonly slots = new Map<string, HotValue>();
  readonly metric: prom.Counter<string> | prom.Gauge<string>;

  constructor(options: { name: string; help: string; label: string; registers: Registry[]; type?: 'counter' | 'gauge' }) {
    const slots = this.slots;
    const label = options.label;
    const config = { name: options.name, help: options.help, labelNames: [label], registers: options.registers };
    this.metric =
      options.type === 'gauge'
        ? new prom.Gauge({
            ...config,
            collect() {
              for (const [v, s] of slots) this.set({ [label]: v }, s.value);
            },
          })
        : new prom.Counter({
            ...config,
            collect() {
              // Counters only go up in prom-client: start from zero, then add each total.
              this.reset();
              for (const [v, s] of slots) this.inc({ [label]: v }, s.value);
            },
          });
  }

  /** The slot of one label value (look it up once, then `add`/`set` on it). */
  of(labelValue: string): HotValue {
    let s = this.slots.get(labelValue);
    if (!s) {
      s = new HotValue();
      this.slots.set(labelValue, s);
    }
    return s;
  }
}

/** One label value's buckets. */
export class HotSeries {
  /** counts[i]: observations ≤ bounds[i] and > bounds[i - 1]; the last one is +Inf. */
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

type HistogramValue = { labels: Record<string, string | number>; value: number; metricName: string };

/** A histogram with one label, registered on prom-client registries as a metric of its own. */
export class HotHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, HotSeries>();
  private readonly bounds: number[];

  constructor(readonly options: { name: string; help: string; label: string; buckets: number[]; registers: Registry[] }) {
    this.bounds = [...options.buckets].sort((a, b) => a - b);
    // The registry reads `name`, `help`, `type` and `get()`: the shape of prom-client's own metrics.
    for (const r of options.registers) r.registerMetric(this as unknown as prom.Metric);
  }

  get name(): string {
    return this.options.name;
  }

  get help(): string {
    return this.options.help;
  }

  of(labelValue: string): HotSeries {
    let s = this.series.get(labelValue);
    if (!s) {
      s = new HotSeries(this.bounds);
      this.series.set(labelValue, s);
    }
    return s;
  }

  /** The values as prom-client renders a histogram: cumulative buckets, then sum and count. */
  async get(): Promise<{ name: string; help: string; type: 'histogram'; aggregator: 'sum'; values: HistogramValue[] }> {
    const { name, label } = this.options;
    const values: HistogramValue[] = [];
    for (const [v, s] of this.series) {
      let cumulative = 0;
      for (let i = 0; i <= this.bounds.length; i++) {
        cumulative += s.counts[i];
        values.push({ labels: { le: i < this.bounds.length ? this.bounds[i] : '+Inf', [label]: v }, value: cumulative, metricName: `${name}_bucket` });
      }
      values.push({ labels: { [label]: v }, value: s.sum, metricName: `${name}_sum` });
      values.push({ labels: { [label]: v }, value: s.count, metricName: `${name}_count` });
    }
    return { name, help: this.options.help, type: 'histogram', aggregator: 'sum', values };
  }

  reset(): void {
    this.series.clear();
  }
}
