/**
 * @module apps/market/pipeline/messages
 * What clients receive on market channels (the data of each hub publication), and the pooled
 * book message the dispatcher fills. Levels are flattened `[price, qty, price, qty, ...]`, best
 * first in snapshots; `seq` is our per-channel sequence (1, 2, 3, … with no holes: a client that
 * sees a hole lost something and must resubscribe or refetch), `vseq` the venue's sequence.
 *
 * - `<SYM>@<venue>.book`: `{t:'snapshot'|'delta', seq, vseq, b, a, te, tr}` — apply a delta's
 *   levels to the snapshot (qty 0 removes). A snapshot replaces the book (after a resync or a
 *   connection rotation, and every few seconds so late joiners can start without HTTP).
 * - `<SYM>@<venue>.trades`: `{t:'trade', seq, id, p, q, side, te, tr}`
 * - `<SYM>@<venue>.bbo`, `<SYM>@<venue>.ticker`: `{t:'bbo', seq, bp, bq, ap, aq, te, tr}` (conflated by key)
 * - `<SYM>@all.bbo`: `{t:'cbbo', seq, bp, bq, bv, ap, aq, av, te}` consolidated best bid/offer (conflated)
 * - `<SYM>@all.book`: `{t:'top', seq, b, a, venues}` the cross-venue book, top 10, summed per price (conflated)
 * - `health`: `{t:'status', venue, symbol, status, reason, ts}`
 */
import type { Poolable } from '../pool.js';

export class BookMessage implements Poolable {
  t: 'snapshot' | 'delta' = 'delta';
  seq = 0;
  vseq = 0;
  b: number[] = [];
  a: number[] = [];
  te = 0;
  tr = 0;

  reset(): void {
    this.t = 'delta';
    this.seq = 0;
    this.vseq = 0;
    this.b.length = 0;
    this.a.length = 0;
    this.te = 0;
    this.tr = 0;
  }
}

export function bookChannel(symbol: string, venue: string): string {
  return `market:${symbol}@${venue}.book`;
}

export type Publish = (channel: string, data: unknown, key?: string) => void;
