/**
 * @module bench/hub/histogram
 * A fixed-bucket latency histogram in microseconds. Fixed buckets (not a sample list) because
 * receivers record hundreds of thousands of values per second and several processes must merge
 * their histograms exactly: merging is adding counts bucket by bucket.
 *
 * Resolution: 10 µs up to 100 ms, then 1 ms up to 60 s; above that everything lands in the last
 * bucket. The exact maximum is kept beside the buckets.
 */

const FINE_US = 10;
const FINE_LIMIT_US = 100_000;
const COARSE_US = 1000;
const COARSE_LIMIT_US = 60_000_000;
const FINE_BUCKETS = FINE_LIMIT_US / FINE_US;
const BUCKETS = FINE_BUCKETS + (COARSE_LIMIT_US - FINE_LIMIT_US) / COARSE_US + 1;

/** Sparse form for IPC: [bucket index, count] pairs plus totals. */
export interface HistogramSnapshot {
  pairs: [number, number][];
  count: number;
  maxUs: number;
  sumUs: number;
}

export class LatencyHistogram {
  private readonly counts = new Float64Array(BUCKETS);
  count = 0;
  maxUs = 0;
  sumUs = 0;

  record(us: number): void {
    if (!(us > 0)) us = 0; // clock jitter between processes can make a tiny negative
    let i: number;
    if (us < FINE_LIMIT_US) i = (us / FINE_US) | 0;
    else if (us < COARSE_LIMIT_US) i = FINE_BUCKETS + (((us - FINE_LIMIT_US) / COARSE_US) | 0);
    else i = BUCKETS - 1;
    this.counts[i]++;
    this.count++;
    this.sumUs += us;
    if (us > this.maxUs) this.maxUs = us;
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.maxUs = 0;
    this.sumUs = 0;
  }

  /** The value (µs) at quantile q in [0, 1]: the upper edge of the bucket holding it, capped at the max. */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i];
      if (seen >= rank) return Math.min(upperEdge(i), this.maxUs);
    }
    return this.maxUs;
  }

  mean(): number {
    return this.count === 0 ? 0 : this.sumUs / this.count;
  }

  snapshot(): HistogramSnapshot {
    const pairs: [number, number][] = [];
    for (let i = 0; i < BUCKETS; i++) if (this.counts[i] !== 0) pairs.push([i, this.counts[i]]);
    return { pairs, count: this.count, maxUs: this.maxUs, sumUs: this.sumUs };
  }

  merge(s: HistogramSnapshot): void {
    for (const [i, n] of s.pairs) this.counts[i] += n;
    this.count += s.count;
    this.sumUs += s.sumUs;
    if (s.maxUs > this.maxUs) this.maxUs = s.maxUs;
  }
}

function upperEdge(i: number): number {
  if (i < FINE_BUCKETS) return (i + 1) * FINE_US;
  if (i < BUCKETS - 1) return FINE_LIMIT_US + (i - FINE_BUCKETS + 1) * COARSE_US;
  return Number.POSITIVE_INFINITY;
}
