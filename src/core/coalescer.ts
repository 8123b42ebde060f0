/**
 * @module core/coalescer
 * Trailing-edge coalescing per key: the first value for a key opens a window of `windowMs`; later
 * values in the window replace it; when the window closes the last value is emitted once.
 * Typing indicators and cursor-like state use it: receivers need the latest state, not every step.
 *
 * @example
 * const c = new Coalescer<string>({ windowMs: 100, emit: (key, v) => send(key, v) });
 * c.offer('room:1/alice', 'typing');
 */
export interface CoalescerOptions<V> {
  windowMs: number;
  emit: (key: string, value: V) => void;
  /** Called for every value absorbed (replaced before its window closed). */
  onCoalesced?: (key: string) => void;
  /** Upper bound on open windows; past it, values are emitted at once rather than held. */
  maxKeys?: number;
}

export class Coalescer<V> {
  private readonly pending = new Map<string, { value: V; timer: NodeJS.Timeout }>();
  private absorbed = 0;
  private emitted = 0;

  constructor(private readonly options: CoalescerOptions<V>) {
    if (!(options.windowMs > 0)) throw new RangeError('windowMs must be > 0');
  }

  /** Offers a value; returns true if it replaced one waiting in an open window. */
  offer(key: string, value: V): boolean {
    const open = this.pending.get(key);
    if (open) {
      open.value = value;
      this.absorbed++;
      this.options.onCoalesced?.(key);
      return true;
    }
    if (this.pending.size >= (this.options.maxKeys ?? 100_000)) {
      this.emitted++;
      this.options.emit(key, value);
      return false;
    }
    const timer = setTimeout(() => this.close(key), this.options.windowMs);
    timer.unref?.();
    this.pending.set(key, { value, timer });
    return false;
  }

  /** Emits every open window now (used at shutdown so nothing waiting is lost). */
  flush(): void {
    for (const key of [...this.pending.keys()]) this.close(key);
  }

  get stats(): { absorbed: number; emitted: number; open: number } {
    return { absorbed: this.absorbed, emitted: this.emitted, open: this.pending.size };
  }

  private close(key: string): void {
    const open = this.pending.get(key);
    if (!open) return;
    clearTimeout(open.timer);
    this.pending.delete(key);
    this.emitted++;
    this.options.emit(key, open.value);
  }
}
