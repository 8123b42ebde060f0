/**
 * @module bench/market/heap-settle
 * Collections on demand in the measured process, for the bench only (the server never forces one).
 *
 * `settleHeap()`: one full mark-compact after the rig is set up and before anything is measured.
 * Connecting 1,000 subscribers (handshakes, sessions, subscriptions) and syncing 150 books put
 * ~15 MB into the old generation, most of it dead by the ladder; left alone, that set-up's
 * garbage brings a mark-compact (10–34 ms) into whichever rung reaches V8's old-generation limit
 * first, and with ~140 pauses pooled it alone is the p99's "second-worst pause". In steady state
 * the old generation grows only by the ladder's own inflow (heap-flow.ts: `oldInflowMbPerMin`,
 * `markCompactsPerMin`, reported per rung), and the limit V8 sets after this collection is what
 * that inflow has to fill before the next one. A mark-compact the windows still see is then the
 * steady state's, and is counted as before. `--heap-settle off` measures without it.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** With no argument a full mark-compact; `{ type: 'major' }` runs a scavenge on Node 20 (checked). */
type Gc = (options?: { type: 'minor'; execution: 'sync' }) => void;
let gcFunction: Gc | null = null;

/** V8's `gc()`, exposed at run time (the bench's node is started without `--expose-gc`). */
function gc(): Gc {
  if (!gcFunction) {
    setFlagsFromString('--expose-gc');
    gcFunction = runInNewContext('gc') as Gc;
  }
  return gcFunction;
}

/** A scavenge now (the survivors' profile, profile.ts). */
export function scavengeNow(): void {
  gc()({ type: 'minor', execution: 'sync' });
}

export interface HeapSettle {
  /** Heap used before and after (MB), and the collection's wall time (ms). */
  usedMbBefore: number;
  usedMbAfter: number;
  ms: number;
  at: string;
}

/** One full mark-compact now: what the set-up left in the old generation goes before the windows. */
export function settleHeap(): HeapSettle {
  const before = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  gc()();
  const ms = performance.now() - t0;
  const after = process.memoryUsage().heapUsed;
  return { usedMbBefore: Number((before / 1e6).toFixed(1)), usedMbAfter: Number((after / 1e6).toFixed(1)), ms: Number(ms.toFixed(1)), at: new Date().toISOString() };
}
