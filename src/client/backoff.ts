/**
 * @module client/backoff
 * The reconnection delay: jittered exponential backoff, capped.
 */
import type { ReconnectOptions } from './types.js';

export const DEFAULT_RECONNECT: Readonly<Required<ReconnectOptions>> = Object.freeze({
  initialDelayMs: 250,
  maxDelayMs: 10_000,
  factor: 2,
  jitter: 0.5,
});

/**
 * Delay before reconnection attempt `attempt` (1 = first): `base = min(max, initial * factor^(attempt-1))`,
 * then `base * (1 - jitter * random())`, so the result lies in `[base * (1 - jitter), base]` and
 * never exceeds `maxDelayMs`. `random` must return a number in [0, 1) (it is clamped to [0, 1]).
 */
export function backoffDelay(attempt: number, opts: ReconnectOptions = {}, random: () => number = Math.random): number {
  const initial = Math.max(0, opts.initialDelayMs ?? DEFAULT_RECONNECT.initialDelayMs);
  const max = Math.max(0, opts.maxDelayMs ?? DEFAULT_RECONNECT.maxDelayMs);
  const factor = Math.max(1, opts.factor ?? DEFAULT_RECONNECT.factor);
  const jitter = Math.min(1, Math.max(0, opts.jitter ?? DEFAULT_RECONNECT.jitter));
  const n = Number.isFinite(attempt) ? Math.max(1, Math.floor(attempt)) : 1;
  const base = Math.min(max, initial * factor ** (n - 1));
  const r = Math.min(1, Math.max(0, random()));
  return Math.round(base * (1 - jitter * r));
}
