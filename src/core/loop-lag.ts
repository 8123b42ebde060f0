/**
 * @module core/loop-lag
 * Event-loop lag (`nodejs_eventloop_lag_*`, the names and meaning of prom-client's default
 * metrics) measured only while someone can feel it: while a WebSocket client is connected, and for
 * a while after each HTTP request that is not a probe or a scrape. perf_hooks' delay histogram
 * samples the loop with a libuv timer every 10 ms; running always, that timer was most of an idle
 * hub's CPU (some 100 wake-ups a second with nothing to do). Idle, the loop is not sampled, so a
 * scrape reads 0 for the histogram's figures; `nodejs_eventloop_lag_seconds` (one setImmediate
 * timed at each scrape) is measured either way.
 *
 * The resolution stays at 10 ms: the histogram cannot read below it, and the lag alert (p99 over
 * 100 ms, ops/prometheus/alerts.yml) and docs/deploy.md's 50 ms scaling advice need it.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import client from 'prom-client';
import type { Registry } from './metrics.js';

export interface LoopLagOptions {
  registry: Registry;
  /** Something still needs the loop watched (a client is connected): checked when the linger ends. */
  busy?: () => boolean;
  /** How long after the last activity the loop is still sampled, in ms. */
  lingerMs?: number;
  /** The histogram's sampling interval, in ms. */
  resolutionMs?: number;
}

/** Requests that do not make the loop worth watching: liveness and readiness probes, scrapes. */
const QUIET_PATHS = ['/healthz', '/readyz', '/metrics'];

/** True for a request URL that is a probe or a scrape (`/readyz?apps=all` included). */
export function isQuietRequest(url: string | undefined): boolean {
  if (!url) return false;
  for (const path of QUIET_PATHS) {
    if (url.startsWith(path) && (url.length === path.length || url[path.length] === '?')) return true;
  }
  return false;
}

export class LoopLagMonitor {
  private readonly histogram: IntervalHistogram;
  private readonly busy: () => boolean;
  private readonly lingerMs: number;
  private lastActivity = 0;
  private lingerTimer?: NodeJS.Timeout;
  private sampling = false;

  constructor(options: LoopLagOptions) {
    this.histogram = monitorEventLoopDelay({ resolution: options.resolutionMs ?? 10 });
    this.busy = options.busy ?? (() => false);
    this.lingerMs = options.lingerMs ?? 30_000;
    const registers = [options.registry];
    const histogram = this.histogram;
    // Registered first: a scrape reads metrics in registration order, and this one's collect sets the others.
    const lag: client.Gauge = new client.Gauge({
      name: 'nodejs_eventloop_lag_seconds',
      help: 'Lag of event loop in seconds.',
      registers,
      // One collect sets every figure, and starts the next interval (as prom-client's does).
      collect() {
        const start = process.hrtime.bigint();
        setImmediate(() => lag.set(Number(process.hrtime.bigint() - start) / 1e9));
        const sampled = histogram.count > 0;
        const seconds = (ns: number) => (sampled ? ns / 1e9 : 0);
        figures.min.set(seconds(histogram.min));
        figures.max.set(seconds(histogram.max));
        figures.mean.set(seconds(histogram.mean));
        figures.stddev.set(seconds(histogram.stddev));
        figures.p50.set(seconds(histogram.percentile(50)));
        figures.p90.set(seconds(histogram.percentile(90)));
        figures.p99.set(seconds(histogram.percentile(99)));
        histogram.reset();
      },
    });
    const gauge = (name: string, help: string) => new client.Gauge({ name: `nodejs_eventloop_lag_${name}_seconds`, help, registers });
    const figures = {
      min: gauge('min', 'The minimum recorded event loop delay (0: not sampled since the last scrape, the hub was idle).'),
      max: gauge('max', 'The maximum recorded event loop delay.'),
      mean: gauge('mean', 'The mean of the recorded event loop delays.'),
      stddev: gauge('stddev', 'The standard deviation of the recorded event loop delays.'),
      p50: gauge('p50', 'The 50th percentile of the recorded event loop delays.'),
      p90: gauge('p90', 'The 90th percentile of the recorded event loop delays.'),
      p99: gauge('p99', 'The 99th percentile of the recorded event loop delays.'),
    };
  }

  /** Whether the loop is being sampled now. */
  get active(): boolean {
    return this.sampling;
  }

  /** Something happened that a user waits on: sample the loop from now until `lingerMs` after the last such call (and while busy). */
  touch(): void {
    this.lastActivity = performance.now();
    if (this.sampling) return;
    this.sampling = true;
    this.histogram.enable();
    this.armLinger(this.lingerMs);
  }

  /** Stops sampling for good (server close). */
  stop(): void {
    clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
    this.histogram.disable();
    this.sampling = false;
  }

  // One timer per linger, not one per touch: a request costs a clock read.
  private armLinger(ms: number): void {
    this.lingerTimer = setTimeout(() => this.lingerEnded(), ms);
    this.lingerTimer.unref();
  }

  private lingerEnded(): void {
    const quietFor = performance.now() - this.lastActivity;
    if (this.busy()) this.armLinger(this.lingerMs);
    else if (quietFor < this.lingerMs) this.armLinger(this.lingerMs - quietFor);
    else this.stop();
  }
}
