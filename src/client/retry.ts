/**
 * @module client/retry
 * Trying again what a starting app refused. While an app starts, the hub answers commands in its
 * namespaces with `app_starting` (retryable, with a `retryAfterMs` hint): nothing was done, so a
 * subscribe, publish, history or presence can simply be sent again. {@link StartingRetry} keeps
 * one command's (or subscription's) streak of refusals: the delay before the next try (the
 * server's hint, else jittered exponential backoff) and when to give up and surface the error.
 */
import { backoffDelay } from './backoff.js';
import type { AirwavesClientError } from './codes.js';
import type { StartingRetryOptions } from './types.js';

/** Error codes that mean "refused for now, nothing was done": safe to send the same command again. */
export const RETRYABLE_CODES: ReadonlySet<string> = new Set(['app_starting']);

export const DEFAULT_STARTING_RETRY: Readonly<Required<StartingRetryOptions>> = Object.freeze({
  maxWaitMs: 30_000,
  initialDelayMs: 500,
  maxDelayMs: 4000,
  factor: 2,
  jitter: 0.5,
});

/**
 * Delay before retry `attempt` (1 = first). With the server's hint: at least the hint, spread
 * upward by up to `jitter` of it (so clients refused together do not return together), capped
 * at `maxDelayMs` only when the hint is larger. Without one: {@link backoffDelay}.
 */
export function retryDelay(attempt: number, hintMs: number | undefined, opts: StartingRetryOptions = {}, random: () => number = Math.random): number {
  if (hintMs === undefined || !Number.isFinite(hintMs) || hintMs < 0) return backoffDelay(attempt, { ...DEFAULT_STARTING_RETRY, ...opts }, random);
  const jitter = Math.min(1, Math.max(0, opts.jitter ?? DEFAULT_STARTING_RETRY.jitter));
  const max = Math.max(hintMs, opts.maxDelayMs ?? DEFAULT_STARTING_RETRY.maxDelayMs);
  const r = Math.min(1, Math.max(0, random()));
  return Math.round(Math.min(max, hintMs * (1 + jitter * r)));
}

/** One command's or subscription's streak of retryable refusals. */
export class StartingRetry {
  #attempt = 0;
  #since: number | undefined;

  constructor(
    private readonly options: Readonly<Required<StartingRetryOptions>> | false,
    private readonly now: () => number = Date.now,
    private readonly random: () => number = Math.random,
  ) {}

  /** Refusals in the current streak. */
  get attempts(): number {
    return this.#attempt;
  }

  /**
   * The delay before sending again after `err`, or undefined when `err` is final: not retryable,
   * retrying is off, or the next try would come later than `maxWaitMs` after the first refusal.
   */
  next(err: AirwavesClientError): number | undefined {
    if (!this.options || !RETRYABLE_CODES.has(err.code)) return undefined;
    const now = this.now();
    this.#since ??= now;
    const delay = retryDelay(this.#attempt + 1, err.retryAfterMs, this.options, this.random);
    if (now - this.#since + delay > this.options.maxWaitMs) return undefined;
    this.#attempt++;
    return delay;
  }

  /** Accepted: the next refusal starts a new streak. */
  reset(): void {
    this.#attempt = 0;
    this.#since = undefined;
  }
}
