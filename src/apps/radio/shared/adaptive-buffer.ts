/**
 * @module apps/radio/shared/adaptive-buffer
 * The listener's jitter-buffer target, in four tiers. Pure logic with injected clocks so the
 * browser's AudioWorklet and the Node tests run exactly the same code.
 *
 * Why tiers rather than a continuous target: a target that follows every jitter sample makes the
 * player skip or stall constantly; a few well-spaced steps change rarely and audibly never.
 * Growth is immediate (an underrun or a jitter estimate above the tier); shrinking waits for a
 * long quiet period and goes one step at a time, so a flaky network does not oscillate.
 *
 * Starting thick: the first seconds of a play are its riskiest (the page and its connection warming
 * up, the first collections, a server answering the join beside its schedule): on a slow 2-core
 * machine the first live chunks came in ~100 ms late in most plays, more than the home tier's 80 ms
 * holds. A player may therefore start `startTiersAbove` tiers above its home tier and settle to the
 * home tier once the stream has been calm for `settleMs` — one step, seconds after the start,
 * instead of an underrun at once and the higher tier (and its latency) for a long quiet period.
 */
import { CHUNK_MS } from './format.js';

export const CLIENT_TIERS_MS = [40, 80, 160, 320] as const;

/** The browser player's start: home tier 1 (80 ms), starting one tier thicker, settling after 2 s calm. */
export const PLAYER_START = { initialTier: 1, startTiersAbove: 1, settleMs: 2_000 } as const;

/** The buffer the browser player starts with (160 ms): how far behind the live edge its page rewinds. */
export const PLAYER_START_MS = CLIENT_TIERS_MS[Math.min(PLAYER_START.initialTier + PLAYER_START.startTiersAbove, CLIENT_TIERS_MS.length - 1)];

export interface AdaptiveBufferOptions {
  tiersMs?: readonly number[];
  /** The home tier: where the buffer settles when the stream is calm (default 1). */
  initialTier?: number;
  /** Tiers above home to start at (default 0: start at home). */
  startTiersAbove?: number;
  /** Calm time after the first arrival (and any trouble) before a thick start settles home. */
  settleMs?: number;
  /** Quiet time (no underrun, jitter low) required before stepping down one tier. */
  shrinkAfterMs?: number;
  /** EMA weight of one transit-variation sample (RFC 3550 uses 1/16). */
  alpha?: number;
}

export class AdaptiveBuffer {
  readonly tiersMs: readonly number[];
  private tierIndex: number;
  private readonly shrinkAfterMs: number;
  private readonly alpha: number;
  private jitter = 0;
  /** A slowly decaying peak of transit variation: bursts matter more than the average. */
  private peak = 0;
  private lastTransit = NaN;
  private lastTroubleAt = 0;
  private lastChangeAt = 0;
  /** The home tier a thick start settles to, until it has (or trouble raised the tier above the start). */
  private settleTo: number | null;
  private readonly settleMs: number;
  private firstArrivalAt = NaN;
  underruns = 0;

  constructor(options: AdaptiveBufferOptions = {}) {
    this.tiersMs = options.tiersMs ?? CLIENT_TIERS_MS;
    if (this.tiersMs.length === 0) throw new RangeError('at least one tier is required');
    const top = this.tiersMs.length - 1;
    const home = Math.min(Math.max(0, options.initialTier ?? 1), top);
    this.tierIndex = Math.min(home + Math.max(0, options.startTiersAbove ?? 0), top);
    this.settleTo = this.tierIndex > home ? home : null;
    this.settleMs = options.settleMs ?? 2_000;
    this.shrinkAfterMs = options.shrinkAfterMs ?? 15_000;
    this.alpha = options.alpha ?? 1 / 16;
  }

  get tier(): number {
    return this.tierIndex;
  }

  get targetMs(): number {
    return this.tiersMs[this.tierIndex];
  }

  get jitterMs(): number {
    return this.jitter;
  }

  get peakJitterMs(): number {
    return this.peak;
  }

  /** A chunk captured at `captureMs` (server clock) arrived at `arrivalMs` (local clock). */
  onArrival(arrivalMs: number, captureMs: number): void {
    if (Number.isNaN(this.firstArrivalAt)) this.firstArrivalAt = arrivalMs;
    const transit = arrivalMs - captureMs;
    if (!Number.isNaN(this.lastTransit)) {
      // Only lateness counts: a chunk arriving later than its predecessor's pace is what drains the
      // buffer. Early arrivals (a burst catching up, the history replay at start) are harmless.
      const d = Math.max(0, transit - this.lastTransit);
      this.jitter += (d - this.jitter) * this.alpha;
      // Decays to a tenth in ~200 arrivals (~4 s): long enough to remember a burst.
      this.peak = Math.max(d, this.peak * 0.9886);
    }
    this.lastTransit = transit;
    this.update(arrivalMs);
  }

  /** The player ran dry: grow one tier now. */
  onUnderrun(nowMs: number): void {
    this.underruns++;
    this.lastTroubleAt = nowMs;
    if (this.tierIndex < this.tiersMs.length - 1) {
      this.tierIndex++;
      this.lastChangeAt = nowMs;
    }
    // Trouble even at the thick start's tier: the normal, slow rules from now on.
    this.settleTo = null;
  }

  /** Buffer the jitter estimate says is needed: one chunk plus headroom for the bursts seen. */
  neededMs(): number {
    return CHUNK_MS + Math.max(4 * this.jitter, this.peak);
  }

  /** Re-evaluates the tier; call on arrivals and periodically. Returns true when it changed. */
  update(nowMs: number): boolean {
    const need = this.neededMs();
    const before = this.tierIndex;
    while (this.tierIndex < this.tiersMs.length - 1 && need > this.tiersMs[this.tierIndex]) {
      this.tierIndex++;
      this.lastTroubleAt = nowMs;
      this.settleTo = null;
    }
    if (this.tierIndex !== before) {
      this.lastChangeAt = nowMs;
      return true;
    }
    if (
      this.settleTo !== null &&
      nowMs - this.firstArrivalAt >= this.settleMs &&
      nowMs - this.lastTroubleAt >= this.settleMs &&
      need < this.tiersMs[this.settleTo] * 0.7
    ) {
      this.tierIndex = this.settleTo;
      this.settleTo = null;
      this.lastChangeAt = nowMs;
      return true;
    }
    if (
      this.tierIndex > 0 &&
      nowMs - this.lastTroubleAt >= this.shrinkAfterMs &&
      nowMs - this.lastChangeAt >= this.shrinkAfterMs &&
      need < this.tiersMs[this.tierIndex - 1] * 0.7
    ) {
      this.tierIndex--;
      this.lastChangeAt = nowMs;
      return true;
    }
    return false;
  }
}
