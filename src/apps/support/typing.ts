/**
 * @module apps/support/typing
 * Typing indicators, coalesced per room and user in two steps:
 *  1. a 100 ms trailing-edge window: of the reports inside it only the last state survives;
 *  2. repeat suppression: a window whose state is the one the room already has ("start" after
 *     "start") is not sent again, unless the last "start" is older than TYPING_REFRESH_MS — the
 *     refresh keeps the indicator alive on viewers, which fade a "start" after 6 s (a lost "stop").
 * The state a room sees is always the last one the typist reported, at most one window late. Step 2
 * is what makes the cut large: people type slower than 100 ms per key, so the window alone absorbs
 * little (~15% on the simulated population), while a room needs to hear only state changes.
 */
import { Coalescer } from '../../core/coalescer.js';
import { prom, type Registry } from '../../core/metrics.js';

export const TYPING_WINDOW_MS = 100;
/** A typist still typing is re-announced this often, so viewers' stale-indicator timers never fire. */
export const TYPING_REFRESH_MS = 1000;

export interface TypingSignal {
  roomId: string;
  userId: string;
  userName: string;
  state: 'start' | 'stop';
  /** Role of the typist, carried into the event's metadata. */
  role: 'agent' | 'customer';
}

export interface TypingCounters {
  coalesced: { inc(): void };
  emitted: { inc(): void };
}

/** The app's counters on the server registry (one registry per server, so tests can run several). */
export function typingCounters(registry: Registry): TypingCounters {
  const coalesced = new prom.Counter({
    name: 'events_coalesced_total',
    help: 'Typing events absorbed by the 100 ms per-room-and-user window (never published on their own)',
    labelNames: ['app'] as const,
    registers: [registry],
  });
  const emitted = new prom.Counter({
    name: 'events_typing_emitted_total',
    help: 'Typing events published after coalescing',
    labelNames: ['app'] as const,
    registers: [registry],
  });
  return { coalesced: coalesced.labels('support'), emitted: emitted.labels('support') };
}

export class TypingCoalescer {
  private readonly coalescer: Coalescer<TypingSignal>;
  /** When each typist's current "start" was last sent; only typists who are typing are here. */
  private readonly typingSince = new Map<string, number>();
  private suppressed = 0;
  offered = 0;

  constructor(emit: (signal: TypingSignal) => void, counters?: TypingCounters, windowMs = TYPING_WINDOW_MS, refreshMs = TYPING_REFRESH_MS) {
    this.coalescer = new Coalescer<TypingSignal>({
      windowMs,
      // Bounded: past this many open windows values pass straight through rather than pile up.
      maxKeys: 50_000,
      onCoalesced: () => counters?.coalesced.inc(),
      emit: (key, signal) => {
        const now = Date.now();
        if (signal.state === 'start') {
          const sentAt = this.typingSince.get(key);
          if (sentAt !== undefined && now - sentAt < refreshMs) {
            this.suppressed++;
            counters?.coalesced.inc();
            return;
          }
          // Bounded like the windows: a typist who never sends "stop" is forgotten past the cap.
          if (this.typingSince.size >= 50_000 && sentAt === undefined) this.typingSince.delete(this.typingSince.keys().next().value!);
          this.typingSince.set(key, now);
        } else {
          this.typingSince.delete(key);
        }
        counters?.emitted.inc();
        emit(signal);
      },
    });
  }

  offer(signal: TypingSignal): void {
    this.offered++;
    this.coalescer.offer(`${signal.roomId}\u0000${signal.userId}`, signal);
  }

  /** Emits every open window now (shutdown: a pending "stop" must not be lost). */
  flush(): void {
    this.coalescer.flush();
  }

  get stats(): { offered: number; absorbed: number; emitted: number; open: number } {
    const { absorbed, emitted, open } = this.coalescer.stats;
    return { offered: this.offered, absorbed: absorbed + this.suppressed, emitted: emitted - this.suppressed, open };
  }
}
