/**
 * @module apps/market/pool
 * Object pools for the market pipeline's internal stages.
 *
 * `BoundedPool` hands out at most `capacity` objects (a counting semaphore): `tryAcquire()` is the
 * synchronous hot-path call, `acquire()` waits up to `acquireTimeoutMs` (100 ms by default) and
 * then rejects with a {@link BackpressureError} the caller handles (drop and resync, never block
 * forever). Released objects are `reset()` before reuse. In debug mode every object remembers
 * where it was acquired and released: releasing it twice throws with both stacks, and a released
 * object's fields are poisoned so a use-after-release shows up as NaN/"<released>" at once.
 *
 * `PoolManager` owns a set of pools and, on shutdown, waits (up to 5 s) for every acquired object
 * to come back, reporting which pools leaked.
 */

export interface Poolable {
  /** Clears every field to its initial value (unit-tested per pooled type). */
  reset(): void;
}

export class BackpressureError extends Error {
  readonly code = 'market_backpressure';
  constructor(pool: string, waitedMs: number) {
    super(`pool "${pool}" exhausted: no object within ${waitedMs} ms`);
  }
}

export class DoubleReleaseError extends Error {
  readonly code = 'market_double_release';
}

interface Tracking {
  acquiredAt?: string;
  releasedAt?: string;
  free: boolean;
}

export interface PoolOptions<T> {
  name: string;
  capacity: number;
  create: () => T;
  acquireTimeoutMs?: number;
  /** Track stacks, fail on double release and poison released objects. */
  debug?: boolean;
}

export class BoundedPool<T extends Poolable> {
  readonly name: string;
  readonly capacity: number;
  private readonly free: T[] = [];
  private readonly tracking = new WeakMap<T, Tracking>();
  private readonly waiters: { resolve: (v: T) => void; timer: NodeJS.Timeout }[] = [];
  private inUse = 0;
  private created = 0;
  private readonly timeoutMs: number;
  private readonly debug: boolean;
  /** acquire() calls that timed out. */
  timeouts = 0;
  private drainedWaiters: (() => void)[] = [];

  constructor(private readonly options: PoolOptions<T>) {
    this.name = options.name;
    this.capacity = options.capacity;
    this.timeoutMs = options.acquireTimeoutMs ?? 100;
    this.debug = options.debug ?? false;
  }

  get acquired(): number {
    return this.inUse;
  }

  /** Share of capacity in use, 0..1. */
  get utilisation(): number {
    return this.inUse / this.capacity;
  }

  /** An object now, or null when all `capacity` are out. */
  tryAcquire(): T | null {
    if (this.inUse >= this.capacity) return null;
    this.inUse++;
    let obj = this.free.pop();
    if (obj === undefined) {
      obj = this.options.create();
      this.created++;
    }
    if (this.debug) this.tracking.set(obj, { acquiredAt: new Error('acquired here').stack, free: false });
    else this.tracking.set(obj, { free: false });
    return obj;
  }

  /** Waits up to the acquire timeout, then rejects with BackpressureError. */
  acquire(): Promise<T> {
    const now = this.tryAcquire();
    if (now) return Promise.resolve(now);
    return new Promise<T>((resolve, reject) => {
      const waiter = {
        resolve,
        timer: setTimeout(() => {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          this.timeouts++;
          reject(new BackpressureError(this.name, this.timeoutMs));
        }, this.timeoutMs),
      };
      this.waiters.push(waiter);
    });
  }

  release(obj: T): void {
    const t = this.tracking.get(obj);
    if (t === undefined) throw new DoubleReleaseError(`pool "${this.name}": released an object it never handed out`);
    if (t.free) {
      const detail = this.debug ? `\n--- first release:\n${t.releasedAt}\n--- second release:\n${new Error('released again here').stack}\n--- acquired:\n${t.acquiredAt}` : ' (enable debug mode for stacks)';
      throw new DoubleReleaseError(`pool "${this.name}": object released twice${detail}`);
    }
    t.free = true;
    if (this.debug) t.releasedAt = new Error('released here').stack;
    obj.reset();
    if (this.debug) poison(obj);
    const waiter = this.waiters.shift();
    if (waiter) {
      clearTimeout(waiter.timer);
      if (this.debug) obj.reset(); // un-poison: it goes straight to a new owner
      t.free = false;
      if (this.debug) t.acquiredAt = new Error('acquired here').stack;
      waiter.resolve(obj);
      return;
    }
    this.inUse--;
    this.free.push(obj);
    if (this.inUse === 0) for (const d of this.drainedWaiters.splice(0)) d();
  }

  /** Resolves when every acquired object is back. */
  drained(): Promise<void> {
    if (this.inUse === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainedWaiters.push(resolve));
  }
}

/** Overwrites a released object's own fields so any later use is visibly wrong. */
function poison(obj: object): void {
  const o = obj as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    const v = o[key];
    if (typeof v === 'number') o[key] = NaN;
    else if (typeof v === 'string') o[key] = '<released>';
    else if (Array.isArray(v)) v.length = 0;
  }
}

export class PoolManager {
  private readonly pools: BoundedPool<Poolable>[] = [];

  add<T extends Poolable>(pool: BoundedPool<T>): BoundedPool<T> {
    this.pools.push(pool as unknown as BoundedPool<Poolable>);
    return pool;
  }

  list(): readonly BoundedPool<Poolable>[] {
    return this.pools;
  }

  /** Waits for every pool to drain, up to `timeoutMs`; returns the pools that did not (leaks). */
  async drain(timeoutMs = 5000): Promise<{ drained: boolean; leaked: { pool: string; acquired: number }[] }> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
    const result = await Promise.race([Promise.all(this.pools.map((p) => p.drained())).then(() => 'ok' as const), timeout]);
    clearTimeout(timer);
    const leaked = this.pools.filter((p) => p.acquired > 0).map((p) => ({ pool: p.name, acquired: p.acquired }));
    return { drained: result === 'ok', leaked };
  }
}
