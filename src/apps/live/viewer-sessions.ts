/**
 * @module apps/live/viewer-sessions
 * Viewer sessions reach the database in batches, never on a viewer's request path. A join or a
 * leave is queued with the moment it happened; `flushMs` after the first event queued since the
 * last flush, the queue becomes one multi-row INSERT for the joins and one UPDATE … FROM
 * (VALUES …) for the leaves (chunked). Why: PGlite runs queries on the main thread (about 1 ms per
 * single-row insert), so a thousand viewers joining in the same second used to stall every
 * playlist answer behind a thousand inserts. Between statements the log yields to the event loop,
 * so a batch never holds it for long. Nothing queued, no flush is armed: a server nobody watches
 * has no timer of this log to wake it (it ticked every second before, idle or not).
 *
 * The queue is bounded: past `maxPending` an event is dropped and counted (the live count and
 * peak come from memory and are unaffected; only that session's history row is missing).
 * A leave closes the open session of that viewer that started before it, so a leave queued
 * behind its own join in the same batch still closes it, and a quick rejoin opens a new row.
 */
import type { LiveStore, ViewerSessionEvent } from './store.js';
import { WriteLater } from '../../core/write-later.js';

export interface ViewerSessionLogOptions {
  flushMs: number;
  /** Joins and leaves waiting for the next flush, at most. */
  maxPending: number;
  /** Rows per statement (each row is a few bind parameters; PostgreSQL allows 65,535). */
  chunkRows: number;
  /** A join or leave dropped because the queue was full. */
  onDropped(kind: 'open' | 'close'): void;
  /** A batch the database refused (its rows are lost; logged by the owner). */
  onFailed(err: Error, rows: number): void;
}

export class ViewerSessionLog {
  private opens: ViewerSessionEvent[] = [];
  private closes: ViewerSessionEvent[] = [];
  /** The next flush, armed only while joins or leaves wait for it. */
  private readonly writeLater: WriteLater;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: LiveStore,
    private readonly options: ViewerSessionLogOptions,
  ) {
    this.writeLater = new WriteLater(options.flushMs, () => void this.flush());
  }

  /** Whether a flush is armed (something waits for it). */
  get scheduled(): boolean {
    return this.writeLater.armed;
  }

  get pending(): number {
    return this.opens.length + this.closes.length;
  }

  opened(streamId: string, viewer: string, transport: 'ws' | 'hls', at = new Date()): void {
    if (this.pending >= this.options.maxPending) return this.options.onDropped('open');
    this.opens.push({ streamId, viewer, transport, at });
    this.writeLater.arm();
  }

  closed(streamId: string, viewer: string, transport: 'ws' | 'hls', at = new Date()): void {
    if (this.pending >= this.options.maxPending) return this.options.onDropped('close');
    this.closes.push({ streamId, viewer, transport, at });
    this.writeLater.arm();
  }

  /** Writes what is queued (joins before leaves); resolves once it is in the database. */
  flush(): Promise<void> {
    this.writeLater.cancel();
    const opens = this.opens;
    const closes = this.closes;
    if (!opens.length && !closes.length) return this.flushing;
    this.opens = [];
    this.closes = [];
    // One batch at a time, in order: a leave never overtakes the join it closes.
    this.flushing = this.flushing.then(async () => {
      const size = this.options.chunkRows;
      for (let i = 0; i < opens.length; i += size) await this.write(() => this.store.openViewerSessions(opens.slice(i, i + size)), Math.min(size, opens.length - i));
      for (let i = 0; i < closes.length; i += size) await this.write(() => this.store.closeViewerSessions(closes.slice(i, i + size)), Math.min(size, closes.length - i));
    });
    return this.flushing;
  }

  private async write(statement: () => Promise<void>, rows: number): Promise<void> {
    try {
      await statement();
    } catch (err) {
      this.options.onFailed(err as Error, rows);
    }
    // PGlite resolves on the microtask queue: without a real yield, a batch's statements would
    // run back to back as one task, and sockets (a join, a count event) would wait for all of them.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  async close(): Promise<void> {
    this.writeLater.stop();
    await this.flush();
  }
}
