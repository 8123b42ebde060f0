/**
 * @module core/write-later
 * A one-shot timer for the batch writers: armed by the first item that waits, it runs the write
 * once, `delayMs` later, and is free again. Nothing ticks while nothing waits, so an idle process
 * is not woken by a writer with nothing to write (an interval was: every second, idle or not).
 */
export class WriteLater {
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private readonly delayMs: number,
    private readonly write: () => void,
  ) {}

  /** A write is waiting for its time. */
  get armed(): boolean {
    return this.timer !== null;
  }

  /** Something waits: write it `delayMs` from now, unless a write is already armed (or stopped). */
  arm(): void {
    if (this.timer || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.write();
    }, this.delayMs);
    this.timer.unref();
  }

  /** The write happens now instead (its owner flushes): nothing left to wait for. */
  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** No more writes later (closing: the owner writes what is left itself). */
  stop(): void {
    this.stopped = true;
    this.cancel();
  }
}
