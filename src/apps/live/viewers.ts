/**
 * @module apps/live/viewers
 * Who is watching each stream, from two sources: hub subscriptions to `live:<streamId>` (a
 * WebSocket viewer, counted the moment it subscribes) and HLS/DASH manifest requests (a viewer
 * without a WebSocket, identified by its `viewer` query parameter or else its address and user
 * agent, counted until it has not polled for `pollTimeoutMs`). A viewer seen both ways is
 * counted once when the page passes its hub client id as `viewer`.
 *
 * Changes are pushed as `viewer_count_changed` on the stream's channel as they happen, at most
 * one event per `flushMs`: a change after a quiet spell goes out on the next turn of the event
 * loop (leading edge), changes inside the window are coalesced into one event at its end
 * (trailing edge), so a join storm becomes one event per window and the latest count wins.
 * Why not a fixed delay: under CPU load every timer fires late, and a delay added to each
 * change was the bulk of a count's way to the viewers.
 */

export interface ViewerCountChange {
  streamId: string;
  viewers: number;
  peak: number;
  ws: number;
  hls: number;
}

export interface ViewerRegistryOptions {
  pollTimeoutMs: number;
  flushMs: number;
  onChange(change: ViewerCountChange): void;
  onJoin?(streamId: string, viewer: string, transport: 'ws' | 'hls'): void;
  onLeave?(streamId: string, viewer: string, transport: 'ws' | 'hls'): void;
}

interface StreamViewers {
  ws: Set<string>;
  hls: Map<string, number>;
  /** Viewers in both (a page passing its hub id to its playlist requests): counted once. */
  both: number;
  peak: number;
  published: number;
  /** When the last event went out (performance.now()), for the coalescing window. */
  publishedAt: number;
  timer: NodeJS.Timeout | null;
}

export class ViewerRegistry {
  private readonly streams = new Map<string, StreamViewers>();
  /** Runs only while some HLS viewer may time out: an idle server has no sweeper. */
  private sweeper: NodeJS.Timeout | undefined;

  constructor(private readonly options: ViewerRegistryOptions) {}

  /** Whether the sweeper runs (some HLS viewer may time out). */
  get sweeping(): boolean {
    return this.sweeper !== undefined;
  }

  private startSweeper(): void {
    if (this.sweeper) return;
    this.sweeper = setInterval(() => this.sweep(), Math.max(250, Math.min(1000, this.options.pollTimeoutMs / 4)));
    this.sweeper.unref();
  }

  private entry(streamId: string): StreamViewers {
    let s = this.streams.get(streamId);
    if (!s) {
      s = { ws: new Set(), hls: new Map(), both: 0, peak: 0, published: 0, publishedAt: -Infinity, timer: null };
      this.streams.set(streamId, s);
    }
    return s;
  }

  wsJoined(streamId: string, client: string): void {
    const s = this.entry(streamId);
    if (s.ws.has(client)) return;
    s.ws.add(client);
    if (s.hls.has(client)) s.both++;
    this.options.onJoin?.(streamId, client, 'ws');
    this.changed(streamId, s);
  }

  wsLeft(streamId: string, client: string): void {
    const s = this.streams.get(streamId);
    if (!s?.ws.delete(client)) return;
    if (s.hls.has(client)) s.both--;
    this.options.onLeave?.(streamId, client, 'ws');
    this.changed(streamId, s);
  }

  /** A manifest request: a new viewer joins, a known one stays. */
  polled(streamId: string, viewer: string, now = Date.now()): void {
    const s = this.entry(streamId);
    // One hash lookup, not has + set: a known viewer (nearly every request) leaves the size as it was.
    const before = s.hls.size;
    s.hls.set(viewer, now);
    if (s.hls.size === before) return;
    if (s.ws.has(viewer)) s.both++;
    this.startSweeper();
    this.options.onJoin?.(streamId, viewer, 'hls');
    this.changed(streamId, s);
  }

  count(streamId: string): number {
    const s = this.streams.get(streamId);
    // Kept by counting, not by a scan: a join storm of N viewers asks this N times.
    return s ? s.ws.size + s.hls.size - s.both : 0;
  }

  peak(streamId: string): number {
    return this.streams.get(streamId)?.peak ?? 0;
  }

  breakdown(streamId: string): { ws: number; hls: number } {
    const s = this.streams.get(streamId);
    return { ws: s?.ws.size ?? 0, hls: s?.hls.size ?? 0 };
  }

  /** Forget a stream that ended (its HLS pollers are gone with it). */
  forget(streamId: string): void {
    const s = this.streams.get(streamId);
    if (s?.timer) clearTimeout(s.timer);
    this.streams.delete(streamId);
  }

  totals(): { streamId: string; viewers: number }[] {
    return [...this.streams.keys()].map((streamId) => ({ streamId, viewers: this.count(streamId) }));
  }

  close(): void {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    for (const s of this.streams.values()) if (s.timer) clearTimeout(s.timer);
  }

  private changed(streamId: string, s: StreamViewers): void {
    const now = this.count(streamId);
    if (now > s.peak) s.peak = now;
    if (s.timer) return;
    // Leading edge after a quiet window (0 ms: the rest of this turn's joins still coalesce).
    const wait = Math.max(0, s.publishedAt + this.options.flushMs - performance.now());
    s.timer = setTimeout(() => {
      s.timer = null;
      const viewers = this.count(streamId);
      if (viewers === s.published) return;
      s.published = viewers;
      s.publishedAt = performance.now();
      const { ws, hls } = this.breakdown(streamId);
      this.options.onChange({ streamId, viewers, peak: s.peak, ws, hls });
    }, wait);
  }

  private sweep(now = Date.now()): void {
    let watching = false;
    for (const [streamId, s] of this.streams) {
      let left = false;
      for (const [viewer, at] of s.hls) {
        if (now - at < this.options.pollTimeoutMs) continue;
        s.hls.delete(viewer);
        if (s.ws.has(viewer)) s.both--;
        this.options.onLeave?.(streamId, viewer, 'hls');
        left = true;
      }
      if (left) this.changed(streamId, s);
      if (s.hls.size > 0) watching = true;
    }
    if (!watching) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }
}
