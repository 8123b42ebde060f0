/**
 * @module apps/live/rate-window
 * A count over the last few seconds (ingest bytes, frames) kept in fixed buckets: adding is two
 * array writes and allocates nothing. The previous list of timestamped entries grew by one
 * object per RTMP message, and every one of them lived long enough to be promoted, feeding
 * V8's full collections on the ingest hot path.
 */
export class RateWindow {
  private readonly counts: Float64Array;
  private readonly epochs: Float64Array;

  constructor(
    /** Length of the window (ms). */
    readonly windowMs: number,
    private readonly bucketMs = 100,
  ) {
    // The window's complete buckets, plus the one being filled (not counted until complete).
    const n = Math.ceil(windowMs / bucketMs) + 1;
    this.counts = new Float64Array(n);
    this.epochs = new Float64Array(n).fill(-1);
  }

  add(n: number, now = Date.now()): void {
    const epoch = Math.floor(now / this.bucketMs);
    const i = epoch % this.counts.length;
    if (this.epochs[i] !== epoch) {
      this.epochs[i] = epoch;
      this.counts[i] = 0;
    }
    this.counts[i]! += n;
  }

  /** The total over the last `windowMs` of complete buckets before `now`. */
  total(now = Date.now()): number {
    const newest = Math.floor(now / this.bucketMs) - 1;
    const oldest = newest - this.counts.length + 2;
    let sum = 0;
    for (let i = 0; i < this.counts.length; i++) if (this.epochs[i]! >= oldest && this.epochs[i]! <= newest) sum += this.counts[i]!;
    return sum;
  }
}
