/**
 * @module apps/radio/synth/voice
 * One playing note. Voices are preallocated in a pool and reused: starting a note only sets
 * numbers on an existing object. Each kind has its own small patch:
 * - pad: two detuned band-limited saws and a sub sine through a low-pass, slow attack and release;
 * - drone: sine plus a soft triangle an octave up, very slow envelope and a gentle swell;
 * - bell: two-operator FM at an inharmonic ratio, the modulation index decaying with the note;
 * - texture: noise through a slowly sweeping band-pass, like wind.
 */
import type { NoteEvent, VoiceKind } from '../compose/composer.js';
import { midiToHz } from '../compose/theory.js';
import { Adsr } from './envelope.js';
import { Biquad } from './biquad.js';
import { FmOsc, NoiseOsc, SawOsc, SineOsc, TriangleOsc } from './oscillators.js';

const PATCH: Record<VoiceKind, { attack: number; decay: number; sustain: number; release: number; gain: number }> = {
  pad: { attack: 2.5, decay: 2, sustain: 0.8, release: 3.5, gain: 0.11 },
  drone: { attack: 4, decay: 2, sustain: 0.9, release: 5, gain: 0.2 },
  bell: { attack: 0.004, decay: 3.2, sustain: 0, release: 1.5, gain: 0.16 },
  texture: { attack: 4, decay: 2, sustain: 0.85, release: 5, gain: 0.22 },
};

/** Filter coefficients are recomputed every this many samples, not every sample. */
const CONTROL_RATE = 64;

export class Voice {
  kind: VoiceKind = 'pad';
  /** Absolute frame at which the note is released; -1 when already released. */
  offAt = -1;
  startedAt = 0;
  private readonly env: Adsr;
  private readonly saw1 = new SawOsc();
  private readonly saw2 = new SawOsc();
  private readonly sine = new SineOsc();
  private readonly tri = new TriangleOsc();
  private readonly fm = new FmOsc();
  private readonly noise: NoiseOsc;
  private readonly filter: Biquad;
  private panL = 0.7;
  private panR = 0.7;
  private gain = 0;
  private cutoff = 1000;
  private centreHz = 1000;
  private bellIndex = 0;
  private bellIndexDecay = 1;
  private lfoPhase = 0;
  private lfoInc = 0;

  constructor(
    private readonly sampleRate: number,
    seed: number,
  ) {
    this.env = new Adsr(sampleRate);
    this.filter = new Biquad(sampleRate);
    this.noise = new NoiseOsc(seed);
  }

  get idle(): boolean {
    return this.env.idle;
  }

  /** How loud the voice is now (for stealing the quietest). */
  get level(): number {
    return this.env.level * this.gain;
  }

  start(e: NoteEvent, now: number): void {
    const sr = this.sampleRate;
    const patch = PATCH[e.kind];
    const hz = midiToHz(e.midi);
    this.kind = e.kind;
    this.startedAt = now;
    this.offAt = e.start + e.duration;
    this.gain = patch.gain * e.velocity;
    // Constant-power pan.
    const angle = ((e.pan + 1) * Math.PI) / 4;
    this.panL = Math.cos(angle);
    this.panR = Math.sin(angle);
    this.env.set(patch);
    if (this.env.idle) this.filter.reset();
    this.env.noteOn();
    this.lfoPhase = (e.midi * 0.137) % 1;
    this.lfoInc = (0.05 + (e.midi % 7) * 0.01) / sr;
    switch (e.kind) {
      case 'pad':
        this.saw1.setFrequency(hz * 1.0035, sr);
        this.saw2.setFrequency(hz * 0.9965, sr);
        this.sine.setFrequency(hz / 2, sr);
        this.cutoff = 500 + e.brightness * 1600;
        this.filter.lowpass(this.cutoff, 0.6);
        break;
      case 'drone':
        this.sine.setFrequency(hz, sr);
        this.tri.setFrequency(hz * 2.002, sr);
        break;
      case 'bell':
        this.fm.setFrequency(hz, sr, 3.5);
        this.sine.setFrequency(hz * 2, sr);
        this.bellIndex = 2.2 + e.velocity * 2;
        this.bellIndexDecay = Math.exp(Math.log(0.05) / (1.5 * sr));
        break;
      case 'texture':
        this.centreHz = hz;
        this.filter.bandpass(hz, 3);
        break;
    }
  }

  /** Adds frames [from, to) of this voice into the mix buses; `frame` is the absolute frame of index `from`. */
  render(busL: Float32Array, busR: Float32Array, from: number, to: number, frame: number): void {
    const env = this.env;
    const gl = this.gain * this.panL;
    const gr = this.gain * this.panR;
    let f = frame;
    switch (this.kind) {
      case 'pad': {
        for (let i = from; i < to; i++, f++) {
          if (f === this.offAt) env.noteOff();
          if ((i & (CONTROL_RATE - 1)) === 0) {
            // A slow wobble of the cutoff keeps a held chord alive.
            this.lfoPhase += this.lfoInc * CONTROL_RATE;
            if (this.lfoPhase >= 1) this.lfoPhase -= 1;
            const lfo = Math.sin(2 * Math.PI * this.lfoPhase);
            this.filter.lowpass(this.cutoff * (1 + 0.25 * lfo), 0.6);
          }
          const raw = (this.saw1.next() + this.saw2.next()) * 0.5 + this.sine.next() * 0.35;
          const v = this.filter.process(raw) * env.next();
          busL[i] += v * gl;
          busR[i] += v * gr;
          if (env.idle) break;
        }
        break;
      }
      case 'drone': {
        for (let i = from; i < to; i++, f++) {
          if (f === this.offAt) env.noteOff();
          this.lfoPhase += this.lfoInc;
          if (this.lfoPhase >= 1) this.lfoPhase -= 1;
          const swell = 0.85 + 0.15 * (this.lfoPhase < 0.5 ? 4 * this.lfoPhase - 1 : 3 - 4 * this.lfoPhase);
          const v = (this.sine.next() + this.tri.next() * 0.18) * env.next() * swell;
          busL[i] += v * gl;
          busR[i] += v * gr;
          if (env.idle) break;
        }
        break;
      }
      case 'bell': {
        let index = this.bellIndex;
        const decay = this.bellIndexDecay;
        for (let i = from; i < to; i++, f++) {
          if (f === this.offAt) env.noteOff();
          const v = (this.fm.next(index) + this.sine.next() * 0.12) * env.next();
          index *= decay;
          busL[i] += v * gl;
          busR[i] += v * gr;
          if (env.idle) break;
        }
        this.bellIndex = index;
        break;
      }
      case 'texture': {
        for (let i = from; i < to; i++, f++) {
          if (f === this.offAt) env.noteOff();
          if ((i & (CONTROL_RATE - 1)) === 0) {
            this.lfoPhase += this.lfoInc * CONTROL_RATE;
            if (this.lfoPhase >= 1) this.lfoPhase -= 1;
            this.filter.bandpass(this.centreHz * (1 + 0.4 * Math.sin(2 * Math.PI * this.lfoPhase)), 3);
          }
          const v = this.filter.process(this.noise.next()) * env.next();
          busL[i] += v * gl;
          busR[i] += v * gr;
          if (env.idle) break;
        }
        break;
      }
    }
  }
}
