/**
 * @module apps/live/sample-log
 * A live stream's time series (one row per stream per sampling tick) reaches the database in
 * batches: rows wait in memory and go out in one INSERT every `writeEveryMs`, when a stream ends,
 * and on close. Why: with one publisher, the INSERT every 5 s through PGlite's worker was about
 * 60 % of the process's CPU in a profile, more than the remux itself (bench live ingest,
 * --cpu-prof), which made one stream cost several times what it costs nginx-rtmp.
 *
 * The write is armed by the first row (or peak) queued after the last write, `writeEveryMs` later, and
 * not at all while nothing waits: a server with no live stream has no timer of this log to wake it.
 *
 * A history read merges the rows still waiting ({@link SampleLog.waiting}), so a reader never
 * sees a hole. The queue is bounded: past `maxPending` the oldest waiting row is dropped and
 * counted. A write the database refuses keeps its rows for the next one, within the same bound,
 * each row counting its own refusals: after {@link MAX_ATTEMPTS} a row is dropped and counted. When
 * the refusal is about the data (SQLSTATE class 22 or 23: a row for a stream deleted meanwhile, say)
 * the batch's rows are written one by one at once, so only the rows the database refuses wait and
 * the others are not held back by them; any other refusal (the database unreachable) requeues the batch.
 */
import type { LiveStore } from './store.js';
import type { SampleView } from './types.js';
import { WriteLater } from '../../core/write-later.js';

const MAX_ATTEMPTS = 3;

/** A refusal about the rows themselves (SQLSTATE class 22 data exception, 23 integrity constraint), not the database. */
function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^2[23]/.test(code);
}

export type SampleRow = Omit<SampleView, 'at'> & { streamId: string; at: Date };

export interface SampleLogOptions {
  writeEveryMs: number;
  /** Rows waiting for the next write, at most. */
  maxPending: number;
  /** Rows dropped: the queue was full, or the database refused each of them MAX_ATTEMPTS times. */
  onDropped(rows: number): void;
  /** A write the database refused (`rows` 0: a peak; its rows stay queued unless dropped; logged by the owner). */
  onFailed(err: Error, rows: number): void;
}

export class SampleLog {
  private pending: SampleRow[] = [];
  /** Batches taken from the queue whose write has not finished: still read by {@link waiting}. */
  private readonly writing = new Set<SampleRow[]>();
  /** Peaks to write with the next batch, by stream (only the highest matters). */
  private peaks = new Map<string, number>();
  /** The next write, armed only while rows or peaks wait for it. */
  private readonly writeLater: WriteLater;
  private flushing: Promise<void> = Promise.resolve();
  /** Refusals so far of the rows the database refused (a row not here was never refused). */
  private readonly refusals = new WeakMap<SampleRow, number>();

  constructor(
    private readonly store: LiveStore,
    private readonly options: SampleLogOptions,
  ) {
    this.writeLater = new WriteLater(options.writeEveryMs, () => void this.flush());
  }

  /** Whether a write is armed (something waits for it). */
  get scheduled(): boolean {
    return this.writeLater.armed;
  }

  add(rows: readonly SampleRow[]): void {
    if (rows.length) this.writeLater.arm();
    this.pending.push(...rows);
    this.keepWithinBound();
  }

  /** Drops the oldest rows past `maxPending`, counted. */
  private keepWithinBound(): void {
    const over = this.pending.length - this.options.maxPending;
    if (over > 0) {
      this.pending.splice(0, over);
      this.options.onDropped(over);
    }
  }

  /** A stream's peak grew: written with the next batch. */
  peak(streamId: string, peak: number): void {
    if (peak <= (this.peaks.get(streamId) ?? 0)) return;
    this.peaks.set(streamId, peak);
    this.writeLater.arm();
  }

  /** The rows of one stream not written yet, within [from, to], oldest first. */
  waiting(streamId: string, from: Date | null, to: Date | null): SampleView[] {
    const out: SampleView[] = [];
    for (const batch of [...this.writing, this.pending]) {
      for (const r of batch) {
        if (r.streamId !== streamId || (from && r.at < from) || (to && r.at > to)) continue;
        out.push({ at: r.at.toISOString(), viewers: r.viewers, bitrateKbps: r.bitrateKbps, fps: r.fps, droppedFrames: r.droppedFrames, segmentMs: r.segmentMs });
      }
    }
    return out;
  }

  /** Writes what is queued; resolves once it is in the database (or refused and requeued). */
  flush(): Promise<void> {
    this.writeLater.cancel();
    const rows = this.pending;
    const peaks = this.peaks;
    if (!rows.length && !peaks.size) return this.flushing;
    this.pending = [];
    this.peaks = new Map();
    this.writing.add(rows);
    // One batch at a time: a later batch never lands before an earlier one.
    this.flushing = this.flushing.then(async () => {
      try {
        this.requeue(await this.writeRows(rows));
        for (const [streamId, peak] of peaks) {
          await this.store.recordPeak(streamId, peak).catch((err: Error) => {
            this.options.onFailed(err, 0);
            this.peak(streamId, peak); // with the next batch
          });
        }
      } finally {
        this.writing.delete(rows);
      }
    });
    return this.flushing;
  }

  /** Writes `rows`; returns the ones the database refused. */
  private async writeRows(rows: SampleRow[]): Promise<SampleRow[]> {
    if (!rows.length) return [];
    try {
      await this.store.addSamples(rows);
      return [];
    } catch (err) {
      this.options.onFailed(err as Error, rows.length);
      if (rows.length === 1 || !isDataError(err)) return rows;
    }
    const refused: SampleRow[] = [];
    for (const row of rows) await this.store.addSamples([row]).catch(() => refused.push(row));
    return refused;
  }

  /** Refused rows go back in front of what came meanwhile (addSamples ignores rows already stored), but not forever. */
  private requeue(refused: SampleRow[]): void {
    if (!refused.length) return;
    const kept = refused.filter((row) => {
      const n = (this.refusals.get(row) ?? 0) + 1;
      this.refusals.set(row, n);
      return n < MAX_ATTEMPTS;
    });
    if (kept.length < refused.length) this.options.onDropped(refused.length - kept.length);
    this.pending = [...kept, ...this.pending];
    this.keepWithinBound();
    if (this.pending.length) this.writeLater.arm(); // the next attempt
  }

  async close(): Promise<void> {
    this.writeLater.stop();
    await this.flush();
  }
}
