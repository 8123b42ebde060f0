/**
 * @module apps/market/pipeline/write-latency
 * The end-to-end latency the issue asks for: venue event time (`tsEvent`) → the hub's write of
 * the publication to client sockets, per venue.
 *
 * The hub writes queued frames in one flush pass at the end of the event-loop turn (a
 * `setImmediate` it schedules while delivering the turn's first publication to a subscriber).
 * Observing every message at its socket write would cost a clock read per client per message;
 * instead, like the hub's own delivery histogram, one observation per venue per turn: the oldest
 * event time published in the turn, measured from a `setImmediate` queued after that first
 * publication — so it runs after the flush pass it joined, and is an upper bound for every
 * message of the turn. (A pass that yields after its time slice finishes a little later.)
 * With real venues the venue's clock is in it: a skewed clock shifts the whole histogram.
 */
import { nowMs, VENUES, type VenueName } from '../types.js';

/**
 * One typed-array slot per venue, overwritten, not a Map cleared every turn: a long-lived Map's
 * `clear()` keeps the turn's entries alive in old space until a mark-compact (core/scavenger,
 * "Per-turn state"; docs/market.md, "Garbage collection").
 */
export class WriteLatency {
  /** The oldest event time published this turn, by venue index in VENUES; NaN: none. */
  private readonly oldest = new Float64Array(VENUES.length).fill(Number.NaN);
  private scheduled = false;

  constructor(private readonly observe: (venue: VenueName, seconds: number) => void) {}

  /**
   * A publication carrying the venue's event time was just handed to the hub. The venue comes as
   * its index in VENUES, which the caller already holds (no search per publication).
   */
  published(venueIndex: number, tsEvent: number): void {
    if (!(tsEvent > 0)) return; // a venue message without a usable time (unparsable timestamp)
    const i = venueIndex;
    const o = this.oldest[i];
    if (!(tsEvent >= o)) this.oldest[i] = tsEvent; // NaN (none yet) compares false
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.afterFlush);
    }
  }

  private readonly afterFlush = (): void => {
    this.scheduled = false;
    const flushedAt = nowMs();
    for (let i = 0; i < VENUES.length; i++) {
      const te = this.oldest[i];
      if (Number.isNaN(te)) continue;
      this.observe(VENUES[i], Math.max(0, flushedAt - te) / 1000);
      this.oldest[i] = Number.NaN;
    }
  };
}
