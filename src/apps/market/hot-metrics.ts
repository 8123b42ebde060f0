/**
 * @module apps/market/hot-metrics
 * Prometheus metrics observed once or more per venue message: the hot path only adds to plain
 * numbers; prom-client's own Counter, Gauge and Histogram read them in their `collect` hook, when
 * /metrics is scraped. prom-client renders everything (no text or sample list is built here).
 *
 * Why not `inc`/`observe` per message: even through a label child, every call builds a label
 * object, validates it and hashes it into a string key (prom-client 15), several times per venue
 * message; that was ~11 % of the bare gateway's CPU. Here an observation is a few additions.
 *
 * - {@link HotCounter}: a prom-client Counter (or Gauge) with one label; `collect` copies the
 *   per-label numbers in through the public API (`reset` + `inc`, or `set`).
 * - {@link HotHistogram}: a prom-client Histogram with one label. prom-client has no public call
 *   to load bucket counts (only `observe`, one observation at a time), so `collect` creates each
 *   label's series with `zero()` and writes the counts into the series prom-client keeps (its
 *   `hashMap`); the test in test/market/hot-metrics.test.ts pins the rendering against a plain
 *   Histogram fed the same observations, so a prom-client that stores them differently fails it.
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

/** Per-label-value buckets behind a prom-client Histogram with one label. */
export class HotHistogram {
  private readonly series = new Map<string, HotSeries>();
  private readonly bounds: number[];
  readonly metric: prom.Histogram<string>;

  constructor(options: { name: string; help: string; label: string; buckets: number[]; registers: Registry[] }) {
    const bounds = (this.bounds = [...options.buckets].sort((a, b) => a - b));
    const series = this.series;
    const label = options.label;
    this.metric = new prom.Histogram({
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
    promSeries(this.metric); // fail at start, not at the first scrape, if prom-client keeps its series elsewhere
  }

  of(labelValue: string): HotSeries {
    let s = this.series.get(labelValue);
    if (!s) {
      s = new HotSeries(this.bounds);
      this.series.set(labelValue, s);
    }
    return s;
  }
}

function promSeries(h: prom.Histogram<string>): Record<string, PromHistogramSeries> {
  const map = (h as unknown as { hashMap?: Record<string, PromHistogramSeries> }).hashMap;
  if (typeof map !== 'object' || map === null) throw new Error('prom-client Histogram keeps no hashMap: HotHistogram needs updating for this prom-client version');
  return map;
}
