/**
 * @module bench/shared/delivery-check
 * What a receiver process checks of every benchmark message it is delivered, and the byte scan
 * that finds those messages in a frame without JSON.parse: per client (one subscription per
 * client) how many of the current step arrived, whether each came right after the previous one
 * (sequence + 1), and its publish→arrival latency in a histogram; messages of an earlier step are
 * counted apart. Lost and duplicated are read off the counts against what was published.
 *
 * Why a module of its own with no socket in it: the receiver is the hot loop of every load
 * generator (one call per frame, hundreds of thousands a second on cores shared with the servers
 * under test), so it is written as plain loops over typed arrays with nothing allocated per
 * message, and that shape must not weaken what is checked: test/cluster/delivery-check.test.ts
 * feeds it hand-made frames with lost, duplicated, reordered and stale messages.
 *
 * Every server relays the publisher's `data` object unchanged inside its own envelope
 * (bench/hub/wire.ts), so a message is found by the `{"r":` marker and r (step), s (sequence in
 * the channel) and t (publish time, µs on CLOCK_MONOTONIC) are read at fixed offsets after it:
 * `{"r":N,"s":N,"t":N` (dataJson's layout).
 */
import { LatencyHistogram } from '../hub/histogram.js';
import type { ReceiverReport } from '../hub/ipc.js';

const MARK = Buffer.from('{"r":');
/** `,"s":` and `,"t":` between the three numbers. */
const SEPARATOR = 5;
const CHAR_0 = 0x30;
const CHAR_9 = 0x39;

export class DeliveryCheck {
  readonly histogram = new LatencyHistogram();
  /** Per client: messages of the current step received. */
  private counts = new Int32Array(0);
  /** Per client: the last sequence received in the current step (0 before the first). */
  private lastSeq = new Float64Array(0);
  private step = 0;
  received = 0;
  outOfOrder = 0;
  stale = 0;
  frames = 0;
  /** Where the last readNumber stopped. */
  private cursor = 0;

  get clients(): number {
    return this.counts.length;
  }

  /** Room for `clients` clients; those already counted keep their counts. */
  grow(clients: number): void {
    if (clients <= this.counts.length) return;
    const counts = new Int32Array(clients);
    counts.set(this.counts);
    this.counts = counts;
    const lastSeq = new Float64Array(clients);
    lastSeq.set(this.lastSeq);
    this.lastSeq = lastSeq;
  }

  /** A new step: every count starts from zero, and messages of other steps are stale. */
  startStep(step: number): void {
    this.step = step;
    this.counts.fill(0);
    this.lastSeq.fill(0);
    this.histogram.reset();
    this.received = this.outOfOrder = this.stale = this.frames = 0;
  }

  /**
   * Checks every benchmark message in the frame buf[start, end) delivered to `client`, which
   * arrived at `arrivalUs` (CLOCK_MONOTONIC); returns how many it found. The numbers are read in
   * place: no string, array or closure per message.
   */
  frame(client: number, buf: Buffer, start: number, end: number, arrivalUs: number): number {
    this.frames++;
    let found = 0;
    let i = buf.indexOf(MARK, start);
    while (i >= 0 && i < end) {
      const step = this.readNumber(buf, i + MARK.length, end);
      const seq = this.readNumber(buf, this.cursor + SEPARATOR, end);
      const tUs = this.readNumber(buf, this.cursor + SEPARATOR, end);
      this.message(client, step, seq, arrivalUs - tUs);
      found++;
      i = buf.indexOf(MARK, this.cursor);
    }
    return found;
  }

  /**
   * The decimal digits at buf[at, end) (none: 0), leaving `cursor` on the first byte after them:
   * a field rather than a returned pair, so that nothing is allocated per number.
   */
  private readNumber(buf: Buffer, at: number, end: number): number {
    let n = 0;
    let j = at;
    for (let c = buf[j]; j < end && c >= CHAR_0 && c <= CHAR_9; c = buf[++j]) n = n * 10 + (c - CHAR_0);
    this.cursor = j;
    return n;
  }

  private message(client: number, step: number, seq: number, latencyUs: number): void {
    if (step !== this.step) {
      this.stale++;
      return;
    }
    this.counts[client]++;
    this.received++;
    if (seq !== this.lastSeq[client] + 1) this.outOfOrder++;
    this.lastSeq[client] = seq;
    this.histogram.record(latencyUs);
  }

  /**
   * Lost and duplicated against `expected` (publications per channel in this step): client i
   * subscribed to `channels[i]` (null: an idle client, expecting nothing).
   */
  report(channels: readonly (string | null)[], expected: Record<string, number>, connected: number): ReceiverReport {
    let lost = 0;
    let duplicated = 0;
    for (let i = 0; i < channels.length; i++) {
      const ch = channels[i];
      if (ch === null) continue;
      const want = expected[ch] ?? 0;
      if (this.counts[i] < want) lost += want - this.counts[i];
      else duplicated += this.counts[i] - want;
    }
    return {
      clients: channels.length,
      connected,
      received: this.received,
      lost,
      duplicated,
      outOfOrder: this.outOfOrder,
      stale: this.stale,
      frames: this.frames,
      histogram: this.histogram.snapshot(),
    };
  }
}
