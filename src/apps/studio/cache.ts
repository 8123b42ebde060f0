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
