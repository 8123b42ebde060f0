/**
 * @module apps/market/simulator/market
 * The simulated markets: one true book per (venue, symbol), each moved by its own seeded random
 * walk, stepped at a configured rate (or by hand in tests). Venue connections register as
 * listeners and render each change in their venue's format.
 */
import { TruthBook, type TruthChange } from './truth.js';
import type { SymbolSpec, VenueName } from '../types.js';
import { VENUES } from '../types.js';

export type ChangeListener = (venue: VenueName, truth: TruthBook, change: TruthChange) => void;
/** Told when the walk starts or stops stepping in real time. */
export type MotionListener = (moving: boolean) => void;

export interface SimMarketOptions {
  symbols: SymbolSpec[];
  seed?: number;
  /** Book updates per second per (venue, symbol). 0 = stepped by hand only. */
  updatesPerSecond?: number;
  /** Venues the timer steps (default all): a benchmark runs one simulator process per venue. */
  venues?: readonly VenueName[];
  /** Keep the copies stale-snapshot faults serve (default true; they cost a book copy every 50 updates). */
  keepStaleCopies?: boolean;
  /**
   * Event times with sub-millisecond resolution (`performance.timeOrigin + now()`), so a
   * benchmark can measure venue send → client receive below 1 ms. Real venues send whole ms.
   */
  preciseTime?: boolean;
}

const STALE_EVERY = 50;

export class SimMarket {
  readonly books = new Map<VenueName, Map<string, TruthBook>>();
  /** A snapshot of each book taken up to STALE_EVERY updates ago (served by "stale snapshot" faults). */
  readonly staleCopies = new Map<TruthBook, { updateId: number; bids: [string, string][]; asks: [string, string][]; age: number }>();
  private readonly listeners = new Set<ChangeListener>();
  private readonly motionListeners = new Set<MotionListener>();
  private timer: NodeJS.Timeout | null = null;
  private carry = 0;
  private last = 0;
  private burstUntil = 0;
  updatesPerSecond: number;
  /** Total changes produced. */
  produced = 0;
  /**
   * The event time of the next step, when set (ms since the epoch): a benchmark that renders a
   * feed ahead of time stamps each message with the time it is due to be sent.
   */
  clock: (() => number) | null = null;

  constructor(readonly options: SimMarketOptions) {
    const seed = options.seed ?? 42;
    this.updatesPerSecond = options.updatesPerSecond ?? 20;
    VENUES.forEach((venue, v) => {
      const m = new Map<string, TruthBook>();
      options.symbols.forEach((spec, i) => m.set(spec.symbol, new TruthBook(spec, seed * 1000 + v * 100 + i)));
      this.books.set(venue, m);
    });
  }

  truth(venue: VenueName, symbol: string): TruthBook | undefined {
    return this.books.get(venue)?.get(symbol);
  }

  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Whether the walk steps in real time (started, at a rate above 0); stepped by hand otherwise. */
  get moving(): boolean {
    return this.timer !== null;
  }

  /** Calls `listener` each time the walk starts or stops moving (the venue simulator's clock follows it). */
  onMotion(listener: MotionListener): () => void {
    this.motionListeners.add(listener);
    return () => this.motionListeners.delete(listener);
  }

  /** Steps every book `n` times, notifying listeners after each step. */
  step(n = 1, venues: readonly VenueName[] = this.options.venues ?? VENUES): void {
    const precise = this.options.preciseTime ?? false;
    const clock = this.clock;
    let ts = Date.now();
    const keepCopies = this.options.keepStaleCopies ?? true;
    for (let k = 0; k < n; k++) {
      for (const venue of venues) {
        for (const truth of this.books.get(venue)!.values()) {
          if (clock) ts = clock();
          else if (precise) ts = performance.timeOrigin + performance.now(); // each message's own send time, not its tick's
          const change = truth.step(ts);
          this.produced++;
          const copy = keepCopies ? this.staleCopies.get(truth) : null;
          if (copy === undefined || (copy !== null && ++copy.age >= STALE_EVERY)) {
            this.staleCopies.set(truth, { updateId: truth.updateId, bids: truth.levels('bid'), asks: truth.levels('ask'), age: 0 });
          }
          for (const l of this.listeners) l(venue, truth, change);
        }
      }
    }
  }

  /** One update at the top of one book (see TruthBook.resizeTop): a deterministic step for tests. */
  stepTop(venue: VenueName, symbol: string, side: 'bid' | 'ask' = 'bid'): void {
    const truth = this.truth(venue, symbol);
    if (!truth) throw new Error(`no simulated book for ${venue} ${symbol}`);
    const change = truth.resizeTop(side, Date.now());
    this.produced++;
    for (const l of this.listeners) l(venue, truth, change);
  }

  /** Matches an order against a venue's true book; the consumed levels go out as an update. */
  take(venue: VenueName, symbol: string, side: 'buy' | 'sell', limitTicks: number | null, lots: number): { priceTicks: number; lots: number }[] {
    const truth = this.truth(venue, symbol);
    if (!truth) return [];
    const result = truth.take(side, limitTicks, lots, Date.now());
    if (!result) return [];
    for (const l of this.listeners) l(venue, truth, result.change);
    return result.fills;
  }

  /** A burst: ten times the rate for `ms`. */
  burst(ms = 1000): void {
    this.burstUntil = performance.now() + ms;
  }

  /**
   * Starts stepping in real time: each tick takes the steps due since the last one. The tick is
   * as coarse as the rate allows (10 ms at 100/s and above, 250 ms at 4/s and below): a slow
   * demo feed must not wake the process 100 times a second.
   */
  start(): void {
    if (this.timer || this.updatesPerSecond <= 0) return;
    this.startTimer();
    for (const l of this.motionListeners) l(true);
  }

  private startTimer(): void {
    this.last = performance.now();
    this.timer = setInterval(() => {
      const now = performance.now();
      const rate = now < this.burstUntil ? this.updatesPerSecond * 10 : this.updatesPerSecond;
      this.carry += ((now - this.last) / 1000) * rate;
      this.last = now;
      const due = Math.min(Math.floor(this.carry), Math.max(1, rate)); // never more than 1 s of work per tick
      this.carry -= Math.floor(this.carry);
      if (due > 0) this.step(due);
    }, Math.min(250, Math.max(10, Math.floor(1000 / this.updatesPerSecond))));
    this.timer.unref();
  }

  stop(): void {
    if (!this.timer) return;
    clearInterval(this.timer);
    this.timer = null;
    for (const l of this.motionListeners) l(false);
  }

  /** Changes the real-time rate (updates per second per venue and symbol; 0 stops the walk). */
  setRate(updatesPerSecond: number): void {
    if (updatesPerSecond === this.updatesPerSecond && (this.timer !== null) === updatesPerSecond > 0) return;
    this.updatesPerSecond = updatesPerSecond;
    // A new rate on a moving walk only changes its tick (no motion change to report).
    if (this.timer && updatesPerSecond > 0) {
      clearInterval(this.timer);
      this.startTimer();
    } else if (updatesPerSecond > 0) this.start();
    else this.stop();
  }
}
