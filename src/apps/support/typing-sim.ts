/**
 * @module apps/support/typing-sim
 * A seeded model of people typing chat messages, as a naive client that reports typing on every
 * keystroke would send it (reportsOfWebClient in ./typing-client.ts turns it into what the help
 * desk's own client sends). Tests and the benchmark use it to measure what the 100 ms coalescing window
 * saves on traffic shaped like real typing rather than on a synthetic burst.
 *
 * The model, per typist: a personal median inter-key interval (IKI) drawn from a population
 * (large keystroke studies report a mean IKI near 240 ms with a wide spread: ~120 ms for fast
 * typists, 400+ ms for slow ones); within a word, IKIs are log-normal around it; a space adds a
 * pause; some words end in a thinking pause (the client then reports "stop" after 2 s idle); some
 * words are corrected by holding backspace (key auto-repeat at ~33 ms after a 500 ms delay).
 */
import { seededRandom } from '../../core/random.js';
import { TYPING_IDLE_MS } from './shared/typing-client.js';

export interface TypistProfile {
  /** Median of the population's per-typist median IKI, ms. */
  medianIkiMs: number;
  /** Log-normal sigma of the per-typist median across the population. */
  populationSigma: number;
}

/** Everyone: the general population of customers. */
export const GENERAL_TYPISTS: TypistProfile = { medianIkiMs: 200, populationSigma: 0.35 };
/** Support agents: people who type all day. */
export const FAST_TYPISTS: TypistProfile = { medianIkiMs: 125, populationSigma: 0.2 };

export interface TypingSignalAt {
  /** Milliseconds since the start of the simulation. */
  at: number;
  state: 'start' | 'stop';
}

export interface TypedMessage {
  /** When the message is sent (after the last keystroke). */
  sentAt: number;
  chars: number;
}

export interface TypistScript {
  signals: TypingSignalAt[];
  messages: TypedMessage[];
  keystrokes: number;
}

function normal(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

const logNormal = (rand: () => number, median: number, sigma: number) => median * Math.exp(sigma * normal(rand));

const AUTOREPEAT_DELAY_MS = 500;
const AUTOREPEAT_MS = 33;

/**
 * What one typist's client sends over `durationMs`: a "start" per keystroke, a "stop" after
 * 2 s idle or when a message is sent.
 */
export function simulateTypist(seed: number, durationMs: number, profile: TypistProfile = GENERAL_TYPISTS): TypistScript {
  const rand = seededRandom(seed);
  const typistIki = Math.min(600, Math.max(70, logNormal(rand, profile.medianIkiMs, profile.populationSigma)));
  const signals: TypingSignalAt[] = [];
  const messages: TypedMessage[] = [];
  let keystrokes = 0;
  let t = rand() * 3000;
  const key = () => {
    signals.push({ at: t, state: 'start' });
    keystrokes++;
  };
  while (t < durationMs) {
    const length = 15 + Math.floor(rand() * 100);
    let typed = 0;
    while (typed < length && t < durationMs) {
      const word = 2 + Math.floor(rand() * 7);
      for (let i = 0; i < word && typed < length; i++, typed++) {
        key();
        t += Math.max(25, logNormal(rand, typistIki * 0.85, 0.5));
      }
      if (rand() < 0.04) {
        // Hold backspace: the first repeat after the delay, then one every 33 ms.
        key();
        t += AUTOREPEAT_DELAY_MS;
        const repeats = 1 + Math.floor(rand() * 7);
        for (let r = 0; r < repeats; r++) {
          key();
          t += AUTOREPEAT_MS;
        }
        typed = Math.max(0, typed - repeats - 1);
        t += logNormal(rand, typistIki * 2, 0.4);
      }
      key(); // the space
      t += Math.max(25, logNormal(rand, typistIki * 1.6, 0.5));
      if (rand() < 0.03) {
        const pause = 1000 + rand() * 3000;
        if (pause > TYPING_IDLE_MS) signals.push({ at: t + TYPING_IDLE_MS, state: 'stop' });
        t += pause;
      }
    }
    // Enter: the client sends the message and reports "stop" at once.
    signals.push({ at: t, state: 'stop' });
    messages.push({ sentAt: t, chars: length });
    t += 3000 + rand() * 12_000; // read the answer, think
  }
  signals.sort((a, b) => a.at - b.at);
  return { signals: signals.filter((s) => s.at < durationMs), messages: messages.filter((m) => m.sentAt < durationMs), keystrokes };
}

/**
 * Replays signals through the typing coalescer's two steps in virtual time, exactly as
 * TypingCoalescer does: a trailing-edge window (first value opens it, later ones replace it, the
 * last is emitted when it closes), then repeat suppression (a "start" within `refreshMs` of the
 * last sent "start" is not sent). `refreshMs = 0` models the window alone.
 */
export function coalescedCount(signals: readonly TypingSignalAt[], windowMs: number, refreshMs = 0): { offered: number; emitted: number; absorbed: number } {
  let windowEnd = -Infinity;
  let pending: TypingSignalAt | null = null;
  let typingSentAt: number | null = null;
  let emitted = 0;
  const close = () => {
    if (!pending) return;
    const at = windowEnd;
    if (pending.state === 'start') {
      if (typingSentAt === null || at - typingSentAt >= refreshMs) {
        typingSentAt = at;
        emitted++;
      }
    } else {
      typingSentAt = null;
      emitted++;
    }
    pending = null;
  };
  for (const s of signals) {
    if (pending && s.at >= windowEnd) close();
    if (!pending) {
      windowEnd = s.at + windowMs;
    }
    pending = s;
  }
  close();
  return { offered: signals.length, emitted, absorbed: signals.length - emitted };
}
