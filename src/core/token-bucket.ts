/**
 * @module core/token-bucket
 * A token bucket: `capacity` tokens, refilled continuously at `refillPerSecond`.
 * Used for per-client publish and byte rates. Refill is computed lazily on take, so an idle
 * bucket costs nothing.
 *
 * @example
 * const bucket = new TokenBucket({ capacity: 50, refillPerSecond: 100 });
 * if (!bucket.take(1)) reject('rate_limited');
 */
export interface TokenBucketOptions {
  capacity: number;
  refillPerSecond: number;
  /** Injectable clock in milliseconds, for tests. */
  now?: () => number;
}

export class TokenBucket {
  private tokens: number;
  private lastRefill: number;
  private readonly capacity: number;
  private readonly refillPerMs: number;
  private readonly now: () => number;

  constructor(options: TokenBucketOptions) {
    if (!(options.capacity > 0)) throw new RangeError('capacity must be > 0');
    if (!(options.refillPerSecond >= 0)) throw new RangeError('refillPerSecond must be >= 0');
    this.capacity = options.capacity;
    this.refillPerMs = options.refillPerSecond / 1000;
    this.now = options.now ?? (() => performance.now());
    this.tokens = options.capacity;
    this.lastRefill = this.now();
  }

  /** Takes `cost` tokens if available; returns false (taking nothing) otherwise. */
  take(cost = 1): boolean {
    this.refill();
    if (this.tokens < cost) return false;
    this.tokens -= cost;
    return true;
  }

  /** Tokens available right now. */
  available(): number {
    this.refill();
    return this.tokens;
  }

  private refill(): void {
    const t = this.now();
    const elapsed = t - this.lastRefill;
    if (elapsed <= 0) return;
    this.lastRefill = t;
    this.tokens = Math.min(this.capacity, this.tokens + elapsed * this.refillPerMs);
  }
}
