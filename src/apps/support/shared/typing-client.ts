/**
 * @module apps/support/shared/typing-client
 * How the help desk's own client reports typing, shared by the web UI and the typing simulation
 * so the benchmark drives the server with the traffic the product really sends.
 *
 * Like Slack's or Intercom's clients, it reports state, not keystrokes: a "start" on the first
 * keystroke and again at most every TYPING_RESEND_MS while typing goes on (the resend keeps
 * viewers' fading indicators alive), a "stop" after TYPING_IDLE_MS without a keystroke or when the
 * message is sent. The server's coalescer (../typing.ts) still absorbs what a client that reports
 * every keystroke would send; this keeps such traffic off the wire in the first place.
 */

/** A typist still typing says so again after this long. */
export const TYPING_RESEND_MS = 1000;
/** A typist who stopped pressing keys this long is reported as stopped. */
export const TYPING_IDLE_MS = 2000;

export interface TypingReport {
  /** Milliseconds on any clock (the UI uses Date.now(), the simulation virtual time). */
  at: number;
  state: 'start' | 'stop';
}

/**
 * Decides, keystroke by keystroke, whether a "start" goes out. The idle "stop" is a timer in the
 * UI (and a scripted signal in the simulation), so it is not decided here.
 */
export class TypingThrottle {
  private lastStart = -Infinity;

  /** True when this keystroke must be reported as a "start". */
  keystroke(now: number): boolean {
    if (now - this.lastStart <= TYPING_RESEND_MS) return false;
    this.lastStart = now;
    return true;
  }

  /** A "stop" went out (idle or sent): the next keystroke starts again at once. */
  stopped(): void {
    this.lastStart = -Infinity;
  }
}

/**
 * The reports the help desk client sends for a typist whose keystrokes are the "start" signals of
 * `perKeystroke` (as src/apps/support/typing-sim.ts scripts them, with their idle and send stops).
 */
export function reportsOfWebClient(perKeystroke: readonly TypingReport[]): TypingReport[] {
  const throttle = new TypingThrottle();
  const out: TypingReport[] = [];
  for (const s of perKeystroke) {
    if (s.state === 'stop') {
      throttle.stopped();
      out.push(s);
    } else if (throttle.keystroke(s.at)) out.push(s);
  }
  return out;
}
