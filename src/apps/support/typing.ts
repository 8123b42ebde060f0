/**
 * @module apps/support/typing
 * Typing indicators, coalesced per room and user over a 100 ms trailing-edge window: a typist
 * whose client reports every keystroke costs the room one event per window, and the state a
 * room sees is always the last one the typist reported (start, or the stop that ends it).
 */
import { Coalescer } from '../../core/coalescer.js';
import { prom, type Registry } from '../../core/metrics.js';

export const TYPING_WINDOW_MS = 100;

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
  offered = 0;

  constructor(emit: (signal: TypingSignal) => void, counters?: TypingCounters, windowMs = TYPING_WINDOW_MS) {
    this.coalescer = new Coalescer<TypingSignal>({
      windowMs,
      // Bounded: past this many open windows values pass straight through rather than pile up.
      maxKeys: 50_000,
      onCoalesced: () => counters?.coalesced.inc(),
      emit: (_key, signal) => {
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
    return { offered: this.offered, ...this.coalescer.stats };
  }
}
