/**
 * @module apps/radio/synth/renderer
 * A station's synthesiser: the composer's events played on a fixed voice pool, through a
 * reverb and a limiter, rendered block by block into preallocated buffers. Deterministic: the
 * same seed and mood give the same samples, whoever renders them (the live worker, the WAV
 * renderer, the tests). Nothing is allocated per block except when a new phrase is composed
 * (a few dozen small event objects every ~15 s).
 */
import { Composer, type NoteEvent, type Phrase } from '../compose/composer.js';
import type { Mood } from '../compose/theory.js';
import { SAMPLE_RATE } from '../shared/format.js';
import { FdnReverb } from './reverb.js';
import { SoftLimiter } from './limiter.js';
import { Voice } from './voice.js';
import { Biquad } from './biquad.js';

const VOICES = 32;
/** Master gain before the limiter: leaves the limiter idle most of the time. */
const MASTER_GAIN = 2.8;

export interface RendererOptions {
  seed: number;
  mood: Mood;
  sampleRate?: number;
  /** Largest block ever rendered at once (buffers are sized to it). */
  maxBlockFrames?: number;
}

export class StationRenderer {
  readonly sampleRate: number;
  readonly composer: Composer;
  private readonly voices: Voice[] = [];
  private readonly reverb: FdnReverb;
  private readonly limiter: SoftLimiter;
  private readonly lowCutL: Biquad;
  private readonly lowCutR: Biquad;
  private readonly busL: Float32Array;
  private readonly busR: Float32Array;
  private readonly maxBlock: number;
  private events: NoteEvent[] = [];
  private eventIndex = 0;
  private composedUntil = 0;
  /** Absolute frame of the next sample to render. */
  position = 0;
  phrasesComposed = 0;
  lastPhrase: Phrase | null = null;

  constructor(options: RendererOptions) {
    this.sampleRate = options.sampleRate ?? SAMPLE_RATE;
    this.maxBlock = options.maxBlockFrames ?? 4800;
    this.composer = new Composer(options.seed, options.mood, this.sampleRate);
    for (let i = 0; i < VOICES; i++) this.voices.push(new Voice(this.sampleRate, (options.seed * 7919 + i * 104729) >>> 0));
    this.reverb = new FdnReverb(this.sampleRate, 5.5, 4200, this.composer.profile.reverbMix);
    this.limiter = new SoftLimiter(this.sampleRate);
    this.lowCutL = new Biquad(this.sampleRate);
    this.lowCutR = new Biquad(this.sampleRate);
    // Nothing musical lives below 30 Hz; removing it keeps the limiter from pumping on rumble.
    this.lowCutL.highpass(30);
    this.lowCutR.highpass(30);
    this.busL = new Float32Array(this.maxBlock);
    this.busR = new Float32Array(this.maxBlock);
  }

  /**
   * Renders the next `frames` frames as interleaved stereo into `out` (length ≥ 2·frames).
   * Blocks larger than maxBlockFrames are rendered in pieces.
   */
  renderInterleaved(out: Float32Array, frames: number): void {
    let done = 0;
    while (done < frames) {
      const n = Math.min(this.maxBlock, frames - done);
      this.renderBlock(n);
      const l = this.busL;
      const r = this.busR;
      for (let i = 0, j = done * 2; i < n; i++, j += 2) {
        out[j] = l[i];
        out[j + 1] = r[i];
      }
      done += n;
    }
  }

  /** Renders the next `frames` frames into planar buffers. */
  renderPlanar(left: Float32Array, right: Float32Array, frames: number): void {
    let done = 0;
    while (done < frames) {
      const n = Math.min(this.maxBlock, frames - done);
      this.renderBlock(n);
      left.set(this.busL.subarray(0, n), done);
      right.set(this.busR.subarray(0, n), done);
      done += n;
    }
  }

  private renderBlock(n: number): void {
    const start = this.position;
    const end = start + n;
    this.composeUntil(end);
    const busL = this.busL;
    const busR = this.busR;
    busL.fill(0, 0, n);
    busR.fill(0, 0, n);
    // Voices already sounding.
    for (const v of this.voices) if (!v.idle) v.render(busL, busR, 0, n, start);
    // Notes starting inside this block begin at their exact sample.
    while (this.eventIndex < this.events.length && this.events[this.eventIndex].start < end) {
      const e = this.events[this.eventIndex++];
      const at = Math.max(0, e.start - start);
      const voice = this.allocate();
      voice.start(e, start + at);
      voice.render(busL, busR, at, n, start + at);
    }
    for (let i = 0; i < n; i++) {
      busL[i] = this.lowCutL.process(busL[i] * MASTER_GAIN);
      busR[i] = this.lowCutR.process(busR[i] * MASTER_GAIN);
    }
    this.reverb.process(busL, busR, n);
    this.limiter.process(busL, busR, n);
    this.position = end;
  }

  private composeUntil(frame: number): void {
    while (this.composedUntil < frame + this.sampleRate) {
      const phrase = this.composer.nextPhrase();
      // Drop events already started; the list stays small (one or two phrases).
      this.events = this.events.slice(this.eventIndex).concat(phrase.events);
      this.events.sort((a, b) => a.start - b.start);
      this.eventIndex = 0;
      this.composedUntil = phrase.start + phrase.length;
      this.phrasesComposed++;
      this.lastPhrase = phrase;
    }
  }

  /** A free voice, or the quietest one (stolen; its envelope restarts from its current level). */
  private allocate(): Voice {
    let quietest = this.voices[0];
    for (const v of this.voices) {
      if (v.idle) return v;
      if (v.level < quietest.level) quietest = v;
    }
    return quietest;
  }

  get activeVoices(): number {
    let n = 0;
    for (const v of this.voices) if (!v.idle) n++;
    return n;
  }
}
