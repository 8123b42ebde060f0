/**
 * @module core/jitter-tracker
 * Inter-arrival jitter as an exponential moving average, in the spirit of RFC 3550 §6.4.1:
 * for each arrival, D = |(arrival - lastArrival) - (sent - lastSent)| (or the deviation from the
 * expected interval when no send time is known), and J += (D - J) * alpha.
 * Used by the radio buffer tiers and by clients reporting stream health.
 */
export interface JitterTrackerOptions {
  /** EMA weight of a new sample; RFC 3550 uses 1/16. */
  alpha?: number;
  /** Expected interval between arrivals in ms, used when samples carry no send time. */
  expectedIntervalMs?: number;
}

export class JitterTracker {
  private readonly alpha: number;
  private readonly expectedIntervalMs?: number;
  private lastArrival?: number;
  private lastSent?: number;
  private jitter = 0;
  private samples = 0;
  private maxDeviation = 0;

  constructor(options: JitterTrackerOptions = {}) {
    this.alpha = options.alpha ?? 1 / 16;
    if (!(this.alpha > 0 && this.alpha <= 1)) throw new RangeError('alpha must be in (0, 1]');
    this.expectedIntervalMs = options.expectedIntervalMs;
  }

  /** Records an arrival at `arrivalMs`, optionally with the time the item was sent. */
  record(arrivalMs: number, sentMs?: number): void {
    if (this.lastArrival !== undefined) {
      const arrivalGap = arrivalMs - this.lastArrival;
      let expectedGap: number | undefined;
      if (sentMs !== undefined && this.lastSent !== undefined) expectedGap = sentMs - this.lastSent;
      else expectedGap = this.expectedIntervalMs;
      if (expectedGap !== undefined) {
        const deviation = Math.abs(arrivalGap - expectedGap);
        this.jitter += (deviation - this.jitter) * this.alpha;
        if (deviation > this.maxDeviation) this.maxDeviation = deviation;
        this.samples++;
      }
    }
    this.lastArrival = arrivalMs;
    this.lastSent = sentMs;
  }

  /** Smoothed jitter in ms. */
  get jitterMs(): number {
    return this.jitter;
  }

  get maxDeviationMs(): number {
    return this.maxDeviation;
  }

  get sampleCount(): number {
    return this.samples;
  }

  reset(): void {
    this.lastArrival = undefined;
    this.lastSent = undefined;
    this.jitter = 0;
    this.samples = 0;
    this.maxDeviation = 0;
  }
}
