/**
 * @module apps/live/viewer-sessions
 * Viewer sessions reach the database in batches, never on a viewer's request path. A join or a
 * leave is queued with the moment it happened; every `flushMs` the queue becomes one multi-row
 * INSERT for the joins and one UPDATE … FROM (VALUES …) for the leaves (chunked). Why: PGlite
 * runs queries on the main thread (about 1 ms per single-row insert), so a thousand viewers
 * joining in the same second used to stall every playlist answer behind a thousand inserts.
 * Between statements the log yields to the event loop, so a batch never holds it for long.
 *
 * The queue is bounded: past `maxPending` an event is dropped and counted (the live count and
 * peak come from memory and are unaffected; only that session's history row is missing).
 * A leave closes the open session of that viewer that started before it, so a leave queued
 * behind its own join in the same batch still closes it, and a quick rejoin opens a new row.
 */
import type { LiveStore, ViewerSessionEvent } from './store.js';

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
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: LiveStore,
    private readonly options: ViewerSessionLogOptions,
  ) {
    this.timer = setInterval(() => void this.flush(), options.flushMs);
    this.timer.unref();
  }

  get pending(): number {
    return this.opens.length + this.closes.length;
  }

  opened(streamId: string, viewer: string, transport: 'ws' | 'hls', at = new Date()): void {
    if (this.pending >= this.options.maxPending) return this.options.onDropped('open');
    this.opens.push({ streamId, viewer, transport, at });
  }

  closed(streamId: string, viewer: string, transport: 'ws' | 'hls', at = new Date()): void {
    if (this.pending >= this.options.maxPending) return this.options.onDropped('close');
    this.closes.push({ streamId, viewer, transport, at });
  }

  /** Writes what is queued (joins before leaves); resolves once it is in the database. */
  flush(): Promise<void> {
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
    clearInterval(this.timer);
    await this.flush();
  }
}
