/**
 * @module core/memory-monitor
 * Watches a long-running process for leaks: periodic memory snapshots, the growth slope by
 * least-squares linear regression over a sliding window, and an alarm (a gauge and one log line
 * per transition) when the slope stays above a threshold. Also records GC pauses from
 * perf_hooks as a histogram. Any app can start one; the sampler and clock are injectable so the
 * regression is tested on synthetic series.
 */
import { PerformanceObserver, constants as perfConstants } from 'node:perf_hooks';
import client from 'prom-client';
import { sharedMetric, type Registry } from './metrics.js';
import type { Logger } from './logger.js';

export interface MemorySample {
  /** ms */
  at: number;
  heapUsed: number;
  rss: number;
  external: number;
}

export interface MemoryMonitorOptions {
  registry?: Registry;
  logger?: Logger;
  intervalMs?: number;
  /** Snapshots kept for the regression (window = intervalMs × windowSize). */
  windowSize?: number;
  /** Alarm when heap growth exceeds this many bytes per hour. */
  alarmBytesPerHour?: number;
  /**
   * Fewest snapshots before the slope is trusted. The default spans ten minutes: over a shorter
   * window the GC sawtooth and load ramps (a thousand sockets opening) read as hours of leaking.
   */
  minSamples?: number;
  sample?: () => Omit<MemorySample, 'at'>;
  now?: () => number;
  trackGc?: boolean;
}

/** Least-squares slope of y over x; 0 with fewer than two distinct x. */
export function linearSlope(xs: readonly number[], ys: readonly number[]): number {
  const n = Math.min(xs.length, ys.length);
  if (n < 2) return 0;
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < n; i++) {
    sx += xs[i];
    sy += ys[i];
  }
  const mx = sx / n;
  const my = sy / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    const dx = xs[i] - mx;
    num += dx * (ys[i] - my);
    den += dx * dx;
  }
  return den === 0 ? 0 : num / den;
}

export class MemoryMonitor {
  private readonly samples: MemorySample[] = [];
  private readonly windowSize: number;
  private readonly intervalMs: number;
  private readonly alarmBytesPerHour: number;
  private readonly minSamples: number;
  private readonly sampleFn: () => Omit<MemorySample, 'at'>;
  private readonly now: () => number;
  private readonly log?: Logger;
  private timer?: NodeJS.Timeout;
  private gcObserver?: PerformanceObserver;
  private alarming = false;
  private readonly usage: client.Gauge<'type'>;
  private readonly growth: client.Gauge;
  private readonly alarm: client.Gauge;
  private readonly gcPause: client.Histogram<'kind'>;

  constructor(options: MemoryMonitorOptions = {}) {
    this.intervalMs = options.intervalMs ?? 10_000;
    this.windowSize = options.windowSize ?? 360;
    this.alarmBytesPerHour = options.alarmBytesPerHour ?? 20 * 1024 * 1024;
    this.minSamples = options.minSamples ?? Math.max(6, Math.ceil(600_000 / this.intervalMs));
    this.sampleFn = options.sample ?? (() => {
      const m = process.memoryUsage();
      return { heapUsed: m.heapUsed, rss: m.rss, external: m.external };
    });
    this.now = options.now ?? Date.now;
    this.log = options.logger;
    const reg = options.registry;
    this.usage = sharedMetric(reg, 'memory_usage_bytes', (registers) => new client.Gauge({ name: 'memory_usage_bytes', help: 'Process memory by type (last snapshot)', labelNames: ['type'] as const, registers }));
    this.growth = sharedMetric(reg, 'memory_growth_bytes_per_hour', (registers) => new client.Gauge({ name: 'memory_growth_bytes_per_hour', help: 'Heap growth slope by linear regression over the monitor window', registers }));
    this.alarm = sharedMetric(reg, 'memory_growth_alarm', (registers) => new client.Gauge({ name: 'memory_growth_alarm', help: '1 while heap growth exceeds the alarm threshold', registers }));
    this.gcPause = sharedMetric(reg, 'gc_pause_seconds', (registers) =>
      new client.Histogram({ name: 'gc_pause_seconds', help: 'Garbage-collection pauses', labelNames: ['kind'] as const, buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25], registers }),
    );
    if (options.trackGc ?? true) this.startGcTracking();
  }

  start(): this {
    if (this.timer) return this;
    this.snapshot();
    this.timer = setInterval(() => this.snapshot(), this.intervalMs);
    this.timer.unref();
    return this;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.gcObserver?.disconnect();
    this.gcObserver = undefined;
  }

  /** Takes one snapshot now (also called by the timer). */
  snapshot(): MemorySample {
    const s: MemorySample = { at: this.now(), ...this.sampleFn() };
    this.samples.push(s);
    if (this.samples.length > this.windowSize) this.samples.shift();
    this.usage.set({ type: 'heap_used' }, s.heapUsed);
    this.usage.set({ type: 'rss' }, s.rss);
    this.usage.set({ type: 'external' }, s.external);
    const slope = this.growthBytesPerHour();
    this.growth.set(slope);
    const alarm = this.samples.length >= this.minSamples && slope > this.alarmBytesPerHour;
    if (alarm !== this.alarming) {
      this.alarming = alarm;
      this.alarm.set(alarm ? 1 : 0);
      if (alarm) this.log?.warn({ bytesPerHour: Math.round(slope), thresholdBytesPerHour: this.alarmBytesPerHour, samples: this.samples.length }, 'memory growth alarm: heap is growing steadily');
      else this.log?.info({ bytesPerHour: Math.round(slope) }, 'memory growth back under threshold');
    }
    return s;
  }

  /** Heap growth in bytes per hour over the window (least squares). */
  growthBytesPerHour(field: 'heapUsed' | 'rss' | 'external' = 'heapUsed'): number {
    const xs = this.samples.map((s) => s.at / 3_600_000);
    const ys = this.samples.map((s) => s[field]);
    return linearSlope(xs, ys);
  }

  get alarmed(): boolean {
    return this.alarming;
  }

  get sampleCount(): number {
    return this.samples.length;
  }

  private startGcTracking(): void {
    const kinds: Record<number, string> = {
      [perfConstants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
      [perfConstants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
      [perfConstants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
      [perfConstants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
    };
    this.gcObserver = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        const kind = kinds[(entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ?? -1] ?? 'other';
        this.gcPause.observe({ kind }, entry.duration / 1000);
      }
    });
    this.gcObserver.observe({ entryTypes: ['gc'] });
  }
}
