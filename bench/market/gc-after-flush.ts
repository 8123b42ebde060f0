/**
 * @module bench/market/gc-after-flush
 * An experiment, not server behaviour (`BENCH_MARKET_GC_AFTER_FLUSH=<fraction>`): a minor GC
 * forced right after the hub's flush pass, once the young generation is at least `fraction` full,
 * instead of waiting for V8's own scavenge (an allocation failure mid-turn, or its idle task in
 * the poll phase). After the flush pass a turn's publications have been written, so what is
 * still in flight (queued frames, the turn's pooled objects, the gateway's parse state) should be
 * at its smallest; the question is whether that makes the pauses shorter, not only the survivors.
 *
 * Like write-latency, it queues a `setImmediate` after the turn's first publication: the hub
 * queued its flush pass while delivering that publication, so this runs after the pass.
 */
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type MinorGc = (options: { type: 'minor'; execution: 'sync' }) => void;

export class GcAfterFlush {
  private readonly gc: MinorGc;
  private scheduled = false;
  /** Minor GCs this forced (each one is also a perf_hooks GC entry, so counted in the pauses). */
  forced = 0;

  constructor(private readonly fraction: number) {
    if (!(fraction > 0 && fraction <= 1)) throw new Error(`BENCH_MARKET_GC_AFTER_FLUSH: a fraction in (0, 1], not ${fraction}`);
    setFlagsFromString('--expose-gc');
    this.gc = runInNewContext('gc') as MinorGc;
  }

  /** A publication was just handed to the hub. */
  published(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.afterFlush);
  }

  private readonly afterFlush = (): void => {
    this.scheduled = false;
    const young = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
    if (!young) return;
    const capacity = young.space_used_size + young.space_available_size;
    if (young.space_used_size < this.fraction * capacity) return;
    this.forced++;
    this.gc({ type: 'minor', execution: 'sync' });
  };
}
