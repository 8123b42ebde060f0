/**
 * @module core/circuit-breaker
 * A circuit breaker: after `failureThreshold` consecutive failures it opens and refuses calls
 * for a cool-down (doubling up to `maxCooldownMs` while probes keep failing), then lets one
 * probe through (half-open); a success closes it. `onChange` fires once per state change, so
 * a dependency flapping under load produces a few log lines, not one per call.
 */
export type BreakerState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakerOptions {
  failureThreshold?: number;
  cooldownMs?: number;
  maxCooldownMs?: number;
  onChange?: (state: BreakerState, previous: BreakerState) => void;
  now?: () => number;
}

export class CircuitBreaker {
  private current: BreakerState = 'closed';
  private failures = 0;
  private openedAt = 0;
  private cooldown: number;
  private probing = false;
  private readonly now: () => number;

  constructor(private readonly options: CircuitBreakerOptions = {}) {
    this.cooldown = options.cooldownMs ?? 1000;
    this.now = options.now ?? Date.now;
  }

  get state(): BreakerState {
    if (this.current === 'open' && this.now() - this.openedAt >= this.cooldown) this.transition('half-open');
    return this.current;
  }

  /** Whether a call may go through now; in half-open only one probe at a time. */
  allow(): boolean {
    const state = this.state;
    if (state === 'closed') return true;
    if (state === 'half-open' && !this.probing) {
      this.probing = true;
      return true;
    }
    return false;
  }

  success(): void {
    this.failures = 0;
    this.probing = false;
    this.cooldown = this.options.cooldownMs ?? 1000;
    if (this.current !== 'closed') this.transition('closed');
  }

  failure(): void {
    this.probing = false;
    this.failures++;
    if (this.current === 'half-open') {
      this.cooldown = Math.min(this.cooldown * 2, this.options.maxCooldownMs ?? 10_000);
      this.open();
    } else if (this.current === 'closed' && this.failures >= (this.options.failureThreshold ?? 1)) this.open();
  }

  private open(): void {
    this.openedAt = this.now();
    this.transition('open');
  }

  private transition(next: BreakerState): void {
    const previous = this.current;
    if (previous === next) return;
    this.current = next;
    this.options.onChange?.(next, previous);
  }
}
