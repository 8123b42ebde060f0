/**
 * @module apps/radio/shared/jitter-buffer
 * The listener's playout buffer: a preallocated stereo ring of decoded audio, read by the audio
 * clock (the AudioWorklet's process() in the browser, a timer in tests) and written as chunks
 * arrive. Pure TypeScript shared by the worklet and Node tests.
 *
 * Click-free by construction:
 * - a sequence gap (chunks the hub dropped for us) fades the buffered tail out and the new chunk in;
 * - running dry is detected a short reserve early, so the last samples fade to silence;
 * - starting (or restarting) after buffering fades in;
 * - skipping forward when the buffer is far deeper than its target crossfades old and new audio.
 */
import { AdaptiveBuffer, type AdaptiveBufferOptions } from './adaptive-buffer.js';

/** Fade length in frames (~2.7 ms at 48 kHz): long enough to hide the edge, short enough to be inaudible. */
export const FADE_FRAMES = 128;
const META_CAPACITY = 512;

export interface JitterBufferOptions extends AdaptiveBufferOptions {
  sampleRate: number;
  capacityMs?: number;
}

export interface JitterBufferStats {
  framesPlayed: number;
  underruns: number;
  gaps: number;
  skips: number;
  bufferMs: number;
  targetMs: number;
  tier: number;
  jitterMs: number;
  /** Decaying peak of arrival lateness, ms: what a burst of network or server delay looked like. */
  peakJitterMs: number;
  playing: boolean;
  /** Capture timestamp (server clock, ms) of the next sample to play; NaN before the first chunk. */
  headCaptureTs: number;
}

export class JitterBuffer {
  readonly adaptive: AdaptiveBuffer;
  private readonly sampleRate: number;
  private readonly capacity: number;
  private readonly left: Float32Array;
  private readonly right: Float32Array;
  // Absolute frame positions (monotonic); ring index = position % capacity.
  private readPos = 0;
  private writePos = 0;
  // Where each buffered chunk starts and when it was captured, for latency.
  private readonly metaPos = new Float64Array(META_CAPACITY);
  private readonly metaTs = new Float64Array(META_CAPACITY);
  private metaHead = 0;
  private metaCount = 0;
  private lastSeq = -1;
  private playing = false;
  private fadeIn = 0;
  private lastMs = 0;
  framesPlayed = 0;
  gaps = 0;
  skips = 0;

  constructor(options: JitterBufferOptions) {
    this.sampleRate = options.sampleRate;
    this.capacity = Math.round(((options.capacityMs ?? 2000) / 1000) * options.sampleRate);
    this.left = new Float32Array(this.capacity);
    this.right = new Float32Array(this.capacity);
    this.adaptive = new AdaptiveBuffer(options);
  }

  get depthFrames(): number {
    return this.writePos - this.readPos;
  }

  private msToFrames(ms: number): number {
    return Math.round((ms / 1000) * this.sampleRate);
  }

  /**
   * Adds a decoded chunk. `arrivalMs` is the local clock when it arrived, `captureTs` the server's
   * capture time; their variation drives the adaptive target. Returns false when it was ignored
   * (a duplicate or an old chunk).
   */
  push(seq: number, captureTs: number, left: Float32Array, right: Float32Array, frames: number, arrivalMs: number, discontinuity = false): boolean {
    if (this.lastSeq >= 0 && seq <= this.lastSeq && !discontinuity) return false;
    this.lastMs = arrivalMs;
    this.adaptive.onArrival(arrivalMs, captureTs);
    const gap = this.lastSeq >= 0 && (discontinuity || seq !== this.lastSeq + 1);
    this.lastSeq = seq;
    const cap = this.capacity;
    if (this.depthFrames + frames > cap) this.skipTo(this.writePos + frames - cap + FADE_FRAMES);
    const start = this.writePos;
    if (gap) {
      this.gaps++;
      // Fade out what is buffered but not yet played, so the cut is not a click.
      const tail = Math.min(FADE_FRAMES, this.writePos - this.readPos);
      for (let i = 0; i < tail; i++) {
        const idx = (this.writePos - tail + i) % cap;
        const g = 1 - (i + 1) / tail;
        this.left[idx] *= g;
        this.right[idx] *= g;
      }
    }
    for (let i = 0; i < frames; i++) {
      const idx = (start + i) % cap;
      let l = left[i];
      let r = right[i];
      if (gap && i < FADE_FRAMES) {
        const g = i / FADE_FRAMES;
        l *= g;
        r *= g;
      }
      this.left[idx] = l;
      this.right[idx] = r;
    }
    this.writePos += frames;
    this.addMeta(start, captureTs);
    this.trimIfTooDeep();
    return true;
  }

  private addMeta(pos: number, ts: number): void {
    const i = (this.metaHead + this.metaCount) % META_CAPACITY;
    if (this.metaCount === META_CAPACITY) {
      this.metaHead = (this.metaHead + 1) % META_CAPACITY;
      this.metaCount--;
    }
    this.metaPos[i] = pos;
    this.metaTs[i] = ts;
    this.metaCount++;
  }

  /** Far deeper than needed (after a burst or a tier step down): skip forward to cut latency. */
  private trimIfTooDeep(): void {
    if (!this.playing) return;
    const target = this.msToFrames(this.adaptive.targetMs);
    const slack = Math.max(this.msToFrames(45), target >> 1);
    if (this.depthFrames > target + slack) this.skipTo(this.writePos - target);
  }

  /** Moves the read head to `pos`, crossfading from the old position into the new one. */
  private skipTo(pos: number): void {
    if (pos <= this.readPos) return;
    this.skips++;
    const cap = this.capacity;
    const n = Math.min(FADE_FRAMES, this.writePos - pos);
    for (let i = 0; i < n; i++) {
      const g = i / n;
      const from = (this.readPos + i) % cap;
      const to = (pos + i) % cap;
      this.left[to] = this.left[to] * g + this.left[from] * (1 - g);
      this.right[to] = this.right[to] * g + this.right[from] * (1 - g);
    }
    this.readPos = pos;
  }

  /**
   * Fills `outL`/`outR` with `n` frames of audio (silence while buffering). `nowMs` is the
   * caller's clock, used for the adaptive tier's timing.
   */
  read(outL: Float32Array, outR: Float32Array, n: number, nowMs: number): void {
    const cap = this.capacity;
    this.adaptive.update(nowMs);
    let i = 0;
    if (!this.playing) {
      if (this.depthFrames >= this.msToFrames(this.adaptive.targetMs)) {
        this.playing = true;
        this.fadeIn = FADE_FRAMES;
        // A burst may have arrived while buffering: start near the target, not a second behind.
        this.trimIfTooDeep();
      } else {
        outL.fill(0, 0, n);
        outR.fill(0, 0, n);
        return;
      }
    }
    if (this.depthFrames < n + FADE_FRAMES) {
      // About to run dry: play what is left with a fade-out, then buffer again.
      const left = Math.min(this.depthFrames, FADE_FRAMES, n);
      for (; i < left; i++) {
        const g = (1 - (i + 1) / left) * this.fadeGain();
        const idx = this.readPos % cap;
        outL[i] = this.left[idx] * g;
        outR[i] = this.right[idx] * g;
        this.readPos++;
        this.framesPlayed++;
      }
      outL.fill(0, i, n);
      outR.fill(0, i, n);
      this.playing = false;
      this.adaptive.onUnderrun(nowMs);
      return;
    }
    for (; i < n; i++) {
      const idx = this.readPos % cap;
      const g = this.fadeGain();
      outL[i] = this.left[idx] * g;
      outR[i] = this.right[idx] * g;
      this.readPos++;
    }
    this.framesPlayed += n;
  }

  private fadeGain(): number {
    if (this.fadeIn <= 0) return 1;
    this.fadeIn--;
    return 1 - this.fadeIn / FADE_FRAMES;
  }

  /** Capture time of the sample at the read head, interpolated within its chunk. */
  headCaptureTs(): number {
    let ts = NaN;
    while (this.metaCount > 1) {
      const next = (this.metaHead + 1) % META_CAPACITY;
      if (this.metaPos[next] <= this.readPos) {
        this.metaHead = next;
        this.metaCount--;
      } else break;
    }
    if (this.metaCount > 0 && this.metaPos[this.metaHead] <= this.readPos) {
      ts = this.metaTs[this.metaHead] + ((this.readPos - this.metaPos[this.metaHead]) / this.sampleRate) * 1000;
    }
    return ts;
  }

  stats(): JitterBufferStats {
    return {
      framesPlayed: this.framesPlayed,
      underruns: this.adaptive.underruns,
      gaps: this.gaps,
      skips: this.skips,
      bufferMs: (this.depthFrames / this.sampleRate) * 1000,
      targetMs: this.adaptive.targetMs,
      tier: this.adaptive.tier,
      jitterMs: this.adaptive.jitterMs,
      peakJitterMs: this.adaptive.peakJitterMs,
      playing: this.playing,
      headCaptureTs: this.headCaptureTs(),
    };
  }

  /** Last arrival on the caller's clock (to tell a silent stream from a slow one). */
  get lastArrivalMs(): number {
    return this.lastMs;
  }
}
