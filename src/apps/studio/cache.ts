/**
 * @module apps/studio/cache
 * A small time-bounded cache for reference data that is read on every page and written rarely
 * (templates, scenarios, stats). Writes invalidate; hits and misses are counted for the
 * cache-hit-ratio metric.
 */
export interface CacheCounters {
  hit(name: string): void;
  miss(name: string): void;
}

export class TtlCache<V> {
  private entries = new Map<string, { value: Promise<V>; expires: number }>();

  constructor(
    readonly name: string,
    private readonly ttlMs: number,
    private readonly counters?: CacheCounters,
    private readonly maxEntries = 1000,
  ) {}

  /** The cached value, or the loader's (shared by concurrent callers: one load per key). */
  get(key: string, load: () => Promise<V>): Promise<V> {
    const now = Date.now();
    const entry = this.entries.get(key);
    if (entry && entry.expires > now) {
      this.counters?.hit(this.name);
      return entry.value;
    }
    this.counters?.miss(this.name);
    const value = load();
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, { value, expires: now + this.ttlMs });
    // A failed load must not be served from the cache for the next five minutes.
    value.catch(() => {
      if (this.entries.get(key)?.value === value) this.entries.delete(key);
    });
    return value;
  }

  invalidate(): void {
    this.entries.clear();
  }
}

/**
 * Identical reads that overlap in time share one database round trip (single flight): the second
 * request for the same URL while the first is still being answered waits for that answer instead
 * of queueing a duplicate query. Nothing is kept once the read finishes, and any write seen by
 * `invalidate()` detaches the reads in flight, so a request that arrives after a write never joins
 * a read that started before it. This matters most on PGlite, which runs one query at a time.
 */
export class SharedReads {
  private inFlight = new Map<string, Promise<unknown>>();

  constructor(
    readonly name: string,
    private readonly counters?: CacheCounters,
  ) {}

  run<V>(key: string, read: () => Promise<V>): Promise<V> {
    const pending = this.inFlight.get(key);
    if (pending) {
      this.counters?.hit(this.name);
      return pending as Promise<V>;
    }
    this.counters?.miss(this.name);
    const value = read();
    this.inFlight.set(key, value);
    const done = () => {
      if (this.inFlight.get(key) === value) this.inFlight.delete(key);
    };
    value.then(done, done);
    return value;
  }

  /** A write happened: later requests start their own reads. */
  invalidate(): void {
    this.inFlight.clear();
  }

  get size(): number {
    return this.inFlight.size;
  }
}
