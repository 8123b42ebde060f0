/**
 * @module apps/market/venues/session
 * One WebSocket connection to a venue and the books synced over it, and the adapter that keeps a
 * session alive: reconnect with jittered exponential backoff, a silence watchdog (no message
 * within `silenceMs` — heartbeats included — means a dead connection), keep-alive pings, and
 * rotation before the venue's connection age limit (Binance closes after 24 h).
 *
 * While nobody watches the market (the app's idle switch, `setIdle`), a session judges silence
 * over `IDLE_SILENCE_MS` instead of `silenceMs`, so its watchdog wakes and probes a quiet venue
 * six times less often; the books stay subscribed and synced. Waking, it pings at once and gives
 * the venue a quarter of the active limit to answer, so a connection that died unseen while idle
 * is found within `silenceMs` of the first watcher, as it would be at any other time.
 *
 * Rotation without a client-visible gap: a second session connects and syncs while the first
 * keeps publishing; once every book of the new one is live, it takes over, each book is
 * published as a snapshot (clients replace their book, our sequence continues) and the old
 * connection closes.
 */
import { WebSocket } from 'ws';
import type { OrderBook } from '../book.js';
import type { BookUpdate, MarketSink, VenueCounters } from './sink.js';
import { nowMs, type BboEvent, type StatusEvent, type SymbolSpec, type TradeEvent, type VenueName } from '../types.js';

export interface SessionOptions {
  symbols: SymbolSpec[];
  counters: VenueCounters;
  /** Close and reconnect when nothing arrived for this long. */
  silenceMs: number;
  pingIntervalMs: number;
  /** Sees every message as received (a JSONL recorder), before it is parsed. */
  record?: (venue: VenueName, text: string, tsRecv: number) => void;
}

/** How long a venue may stay silent while the app idles before its connection is declared dead. */
export const IDLE_SILENCE_MS = 30_000;

/** A venue session: subclasses subscribe, parse and sync. */
export abstract class VenueSession {
  abstract readonly venue: VenueName;
  protected ws: WebSocket | null = null;
  private lastMessage = 0;
  private timer: NodeJS.Timeout | null = null;
  private closedByUs = false;
  /** Where output goes; swapped by the adapter (a warming-up session publishes nowhere). */
  forward: MarketSink | null = null;
  onClosed: (() => void) | null = null;
  /** Called when every book of this session is live (the adapter completes a rotation). */
  onAllLive: (() => void) | null = null;

  constructor(protected readonly options: SessionOptions) {}

  protected abstract url(): string;
  protected abstract onOpen(): void;
  protected abstract onText(text: string, tsRecv: number): void;
  /** Application-level ping, if the venue has one. */
  protected ping(): void {
    this.ws?.ping();
  }
  abstract books(): Iterable<OrderBook>;
  abstract allLive(): boolean;

  connect(): void {
    const ws = new WebSocket(this.url(), { perMessageDeflate: false });
    this.ws = ws;
    ws.on('open', () => {
      this.lastMessage = this.lastWatch = performance.now();
      this.onOpen();
      this.timer = setInterval(() => this.watch(), this.watchIntervalMs());
      this.timer.unref();
    });
    ws.on('message', (data) => {
      this.lastMessage = performance.now();
      this.options.counters.messages(this.venue);
      const text = data.toString();
      const tsRecv = nowMs();
      this.options.record?.(this.venue, text, tsRecv);
      this.parseStart = performance.now();
      this.onText(text, tsRecv);
    });
    ws.on('pong', () => (this.lastMessage = performance.now()));
    ws.on('error', () => {});
    ws.on('close', () => {
      if (this.timer) clearInterval(this.timer);
      this.timer = null;
      this.ws = null;
      if (!this.closedByUs) this.onClosed?.();
    });
  }

  /** When the current message's parse began (the parse-time histogram's start). */
  private parseStart = 0;

  /**
   * The field scanner's verdict on a message in the venue's usual layout: a refusal is counted
   * as malformed; a success records the parse time. Returns `ok`.
   */
  protected scanned(ok: boolean): boolean {
    if (ok) this.options.counters.parseTime(this.venue, (performance.now() - this.parseStart) / 1000);
    else this.options.counters.malformed(this.venue);
    return ok;
  }

  /**
   * JSON.parse for the messages the scanner does not take (other channels, another key order):
   * the object, with its parse time recorded, or undefined (counted as malformed) for text that
   * is not JSON or not an object (`null`, a number: reading a field of one would throw).
   */
  protected parsed<T extends object>(text: string): T | undefined {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      msg = undefined;
    }
    if (typeof msg !== 'object' || msg === null) {
      this.options.counters.malformed(this.venue);
      return undefined;
    }
    this.options.counters.parseTime(this.venue, (performance.now() - this.parseStart) / 1000);
    return msg as T;
  }

  private lastPing = 0;
  private lastWatch = 0;
  private idle = false;
  private silenceMs(): number {
    return this.idle ? Math.max(this.options.silenceMs, IDLE_SILENCE_MS) : this.options.silenceMs;
  }
  private watchIntervalMs(): number {
    return Math.min(this.options.pingIntervalMs, this.silenceMs() / 4);
  }

  /** The app-wide idle switch (see the module comment). */
  setIdle(idle: boolean): void {
    if (idle === this.idle) return;
    this.idle = idle;
    if (this.timer) {
      clearInterval(this.timer);
      this.timer = setInterval(() => this.watch(), this.watchIntervalMs());
      this.timer.unref();
      this.lastWatch = performance.now();
    }
    if (idle || this.ws?.readyState !== WebSocket.OPEN) return;
    const now = performance.now();
    this.lastMessage = Math.max(this.lastMessage, now - this.options.silenceMs / 4);
    this.lastPing = now;
    this.ping();
  }

  /**
   * The silence watchdog, every `min(pingIntervalMs, silenceMs / 4)`. Silence counts only time
   * this process could have read: a tick that fires late means the event loop was blocked (a
   * loaded machine, a long synchronous task), and messages that arrived meanwhile are still
   * unread, so the blocked time is not charged to the venue and no verdict is given until they
   * have been read. A connection idle for a quarter of the silence limit is probed with a ping
   * (a quiet Binance stream sends nothing at all, and its pong proves it alive), which leaves
   * the pong at least half the limit to arrive; idle past the limit, it is dead.
   */
  private watch(): void {
    const now = performance.now();
    const interval = this.watchIntervalMs();
    const late = this.lastWatch === 0 ? 0 : now - this.lastWatch - interval;
    this.lastWatch = now;
    if (late > interval) this.lastMessage = Math.min(now, this.lastMessage + late);
    const idle = now - this.lastMessage;
    // After a stall, judge on the next tick: by then the socket reads queued behind it have run.
    const silenceMs = this.silenceMs();
    if (idle > silenceMs && late <= interval) {
      this.status(null, 'down', `silent for ${Math.round(idle)} ms`);
      this.ws?.terminate();
      return;
    }
    const probe = idle >= silenceMs / 4 && this.lastPing < this.lastMessage;
    if (probe || now - this.lastPing >= this.options.pingIntervalMs) {
      this.lastPing = now;
      this.ping();
    }
  }

  send(text: string): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(text);
  }

  close(): void {
    this.closedByUs = true;
    if (this.timer) clearInterval(this.timer);
    this.ws?.close();
    this.ws?.terminate();
  }

  // Output helpers: drop everything while this session is not the adapter's active one.
  protected emitBook(update: BookUpdate): void {
    this.forward?.book(update);
    if (update.snapshot && this.onAllLive && this.allLive()) this.onAllLive();
  }
  protected emitTrade(event: TradeEvent): void {
    this.forward?.trade(event);
  }
  protected emitBbo(event: BboEvent): void {
    this.forward?.bbo(event);
  }
  protected status(symbol: string | null, status: StatusEvent['status'], reason: string): void {
    this.forward?.status({ type: 'status', venue: this.venue, symbol, status, reason, ts: nowMs() });
  }
  /** A sink that routes a sync machine's output through this session's gate. */
  protected gatedSink(): MarketSink {
    return {
      book: (u) => this.emitBook(u),
      trade: (e) => this.emitTrade(e),
      bbo: (e) => this.emitBbo(e),
      status: (e) => this.forward?.status(e),
    };
  }
}

export interface AdapterOptions {
  /** Rotate the connection after this long (Binance's limit is 24 h). */
  rotateAfterMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
}

/** Keeps one live session per venue, reconnecting and rotating it. */
export class VenueAdapter {
  private active: VenueSession | null = null;
  private incoming: VenueSession | null = null;
  private attempts = 0;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private rotateTimer: NodeJS.Timeout | null = null;
  private idle = false;
  rotations = 0;

  constructor(
    readonly venue: VenueName,
    private readonly makeSession: () => VenueSession,
    private readonly sink: MarketSink,
    private readonly counters: VenueCounters,
    private readonly options: AdapterOptions,
  ) {}

  start(): void {
    this.stopped = false;
    this.open();
  }

  /** The active session's books (what clients see). */
  books(): Iterable<OrderBook> {
    return this.active?.books() ?? [];
  }

  /** The app-wide idle switch, passed to the live session and to every later one. */
  setIdle(idle: boolean): void {
    this.idle = idle;
    this.active?.setIdle(idle);
    this.incoming?.setIdle(idle);
  }

  private open(): void {
    const s = this.makeSession();
    s.setIdle(this.idle);
    s.forward = this.sink;
    s.onAllLive = () => {
      this.attempts = 0; // a session that synced resets the backoff
      s.onAllLive = null;
    };
    s.onClosed = () => this.onActiveClosed(s);
    this.active = s;
    this.sink.status({ type: 'status', venue: this.venue, symbol: null, status: 'connecting', reason: this.attempts ? `reconnect attempt ${this.attempts}` : 'start', ts: nowMs() });
    s.connect();
    this.scheduleRotation();
  }

  private onActiveClosed(s: VenueSession): void {
    if (this.stopped || s !== this.active) return;
    this.counters.reconnect(this.venue);
    this.sink.status({ type: 'status', venue: this.venue, symbol: null, status: 'down', reason: 'connection closed', ts: nowMs() });
    const delay = Math.min(this.options.backoffMaxMs, this.options.backoffBaseMs * 2 ** this.attempts) * (0.5 + Math.random() * 0.5);
    this.attempts++;
    this.retryTimer = setTimeout(() => this.open(), delay);
  }

  private scheduleRotation(): void {
    if (this.rotateTimer) clearTimeout(this.rotateTimer);
    this.rotateTimer = setTimeout(() => this.rotate(), this.options.rotateAfterMs);
    this.rotateTimer.unref();
  }

  /** Opens a successor, lets it sync silently, then switches over. */
  rotate(): void {
    if (this.stopped || this.incoming) return;
    const next = this.makeSession();
    next.setIdle(this.idle);
    this.incoming = next;
    next.onClosed = () => {
      if (this.incoming === next) this.incoming = null; // failed before taking over: try again later
      this.scheduleRotation();
    };
    next.onAllLive = () => {
      next.onAllLive = null;
      const old = this.active;
      this.active = next;
      this.incoming = null;
      next.onClosed = () => this.onActiveClosed(next);
      next.forward = this.sink;
      this.rotations++;
      const ts = nowMs();
      for (const book of next.books()) {
        this.sink.book({ venue: this.venue, symbol: book.symbol, book, snapshot: true, bids: [], asks: [], nb: 0, na: 0, venueSeq: book.venueSeq, tsEvent: ts, tsRecv: ts });
      }
      old?.close();
      this.scheduleRotation();
    };
    next.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.rotateTimer) clearTimeout(this.rotateTimer);
    this.active?.close();
    this.incoming?.close();
  }
}
