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
import { nowMs, type VenueName } from '../types.js';

export class WriteLatency {
  private readonly oldest = new Map<VenueName, number>();
  private scheduled = false;

  constructor(private readonly observe: (venue: VenueName, seconds: number) => void) {}

  /** A publication carrying the venue's event time was just handed to the hub. */
  published(venue: VenueName, tsEvent: number): void {
    if (!(tsEvent > 0)) return; // a venue message without a usable time (unparsable timestamp)
    const o = this.oldest.get(venue);
    if (o === undefined || tsEvent < o) this.oldest.set(venue, tsEvent);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.afterFlush);
    }
  }

  private flushedAt = 0;

  private readonly afterFlush = (): void => {
    this.scheduled = false;
    this.flushedAt = nowMs();
    // forEach with a method, not for..of: no [venue, time] entry array per venue per turn.
    this.oldest.forEach(this.observeOldest);
    this.oldest.clear();
  };

  private readonly observeOldest = (te: number, venue: VenueName): void => {
    this.observe(venue, Math.max(0, this.flushedAt - te) / 1000);
  };
}
