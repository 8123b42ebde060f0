/**
 * @module core/gc-pauses
 * Garbage-collection pauses by kind, read from V8's GC profiler (`v8.GCProfiler`), for the
 * histograms that report them (nodejs_gc_duration_seconds, gc_pause_seconds).
 *
 * Why not perf_hooks' 'gc' entries (what prom-client's collector and the memory monitor observed):
 * on Node 20 every GC then costs a call from C++ into JavaScript and a PerformanceEntry whose
 * deprecated fields each get two `util.deprecate` wrappers, ~170 µs of main-thread CPU per GC on
 * this machine, ~13 % of the main thread's samples at one 1080p publisher. The profiler records
 * each GC in C++ (its type, its cost, heap statistics nobody here reads) and hands them all over
 * at once: on every scrape of a histogram fed from here, and every `drainIntervalMs` in any case,
 * so its buffer (~3 KB per GC, in C++) stays bounded when nobody scrapes.
 *
 * @example
 *   const h = new client.Histogram({ name: 'gc_pause_seconds', help: '…', labelNames: ['kind'], collect: () => gcPauses.drain() });
 *   gcPauses.feed(h); // each GC from now on is observed in h, in seconds, under its kind
 */
import { GCProfiler } from 'node:v8';
import type client from 'prom-client';

/** The kinds perf_hooks named (NODE_PERFORMANCE_GC_*), so series and alert rules keep their labels. */
export type GcKind = 'minor' | 'major' | 'incremental' | 'weakcb' | 'other';

/** The profiler's `gcType` (node's names for V8's GCType) → the kind label. */
const KINDS: Record<string, GcKind> = { Scavenge: 'minor', MarkSweepCompact: 'major', IncrementalMarking: 'incremental', ProcessWeakCallbacks: 'weakcb' };

/** One GC in the profiler's report: what is read of it (`cost` is in microseconds). */
interface ProfiledGc {
  gcType: string;
  cost: number;
}

type PauseHistogram = client.Histogram<'kind'>;

/** How often the profiler is emptied when nobody scrapes (the bound on its buffer: this long of GCs). */
export const GC_DRAIN_INTERVAL_MS = 5_000;

export class GcPauseFeed {
  private profiler: GCProfiler | null = null;
  private timer: NodeJS.Timeout | null = null;
  /**
   * Weakly held: a registry that is dropped (a test's server, closed) takes its histograms with it,
   * and the feed stops the profiler once none is left. Nothing else ever unregisters them.
   */
  private readonly histograms = new Set<WeakRef<PauseHistogram>>();
  /** GCs read out of the profiler so far, and how many times it was emptied. */
  drained = 0;
  drains = 0;

  constructor(private readonly drainIntervalMs = GC_DRAIN_INTERVAL_MS) {}

  /** Whether the profiler is on (some histogram is fed). */
  get running(): boolean {
    return this.profiler !== null;
  }

  /**
   * Observes every GC from now on in `histogram` (seconds, label `kind`) at each drain; returns
   * the way to stop, which first drains (the GCs until then are counted). A histogram fed twice
   * (two monitors sharing a registry's metric) still sees each GC once, until both have stopped.
   */
  feed(histogram: PauseHistogram): () => void {
    const ref = new WeakRef(histogram);
    this.histograms.add(ref);
    this.start();
    return () => {
      this.drain();
      this.histograms.delete(ref);
      if (this.histograms.size === 0) this.stop();
    };
  }

  /** Moves the GCs the profiler recorded since the last drain into every histogram fed. */
  drain(): void {
    if (!this.profiler) return;
    // The next profiler starts before this one stops: no GC falls between the two (a GC inside
    // the report's parsing below lands in the next one).
    const next = new GCProfiler();
    next.start();
    const report = this.profiler.stop() as { statistics: ProfiledGc[] } | undefined;
    this.profiler = next;
    this.drains++;
    const live = new Set<PauseHistogram>();
    for (const ref of this.histograms) {
      const h = ref.deref();
      if (h) live.add(h);
      else this.histograms.delete(ref);
    }
    if (live.size === 0) return this.stop();
    const gcs = report?.statistics ?? [];
    this.drained += gcs.length;
    for (const gc of gcs) {
      const labels = { kind: KINDS[gc.gcType] ?? 'other' };
      const seconds = gc.cost / 1e6;
      for (const h of live) h.observe(labels, seconds);
    }
  }

  private start(): void {
    if (this.profiler) return;
    this.profiler = new GCProfiler();
    this.profiler.start();
    this.timer = setInterval(() => this.drain(), this.drainIntervalMs);
    this.timer.unref();
  }

  private stop(): void {
    this.profiler?.stop();
    this.profiler = null;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

/** The process's feed: one profiler, whichever registries and monitors report GC pauses. */
export const gcPauses = new GcPauseFeed();

/** prom-client's name, help text and buckets for its GC collector, which this replaces. */
export const NODEJS_GC_DURATION = {
  name: 'nodejs_gc_duration_seconds',
  help: 'Garbage collection duration by kind, one of major, minor, incremental or weakcb.',
  buckets: [0.001, 0.01, 0.1, 1, 2, 5],
};
