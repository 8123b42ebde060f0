/**
 * @module apps/radio/synth/envelope
 * ADSR envelope. Attack is linear from wherever the level is (a retrigger never jumps, so never
 * clicks); decay and release are exponential, which is how acoustic sounds fade.
 */

const enum Stage {
  Idle,
  Attack,
  Decay,
  Sustain,
  Release,
}

/** Below this the voice is inaudible (-80 dB) and returns to idle. */
const SILENT = 1e-4;

export interface AdsrSettings {
  attack: number;
  decay: number;
  sustain: number;
  release: number;
}

export class Adsr {
  level = 0;
  private stage = Stage.Idle;
  private attackInc = 0;
  private decayCoef = 0;
  private releaseCoef = 0;
  private sustain = 0;

  constructor(private readonly sampleRate: number) {}

  /** Times in seconds; decay and release are the time to fall by 60 dB. */
  set(s: AdsrSettings): void {
    this.attackInc = 1 / Math.max(1, s.attack * this.sampleRate);
    this.decayCoef = Math.exp(Math.log(1e-3) / Math.max(1, s.decay * this.sampleRate));
    this.releaseCoef = Math.exp(Math.log(1e-3) / Math.max(1, s.release * this.sampleRate));
    this.sustain = s.sustain;
  }

  noteOn(): void {
    this.stage = Stage.Attack;
  }

  noteOff(): void {
    if (this.stage !== Stage.Idle) this.stage = Stage.Release;
  }

  get idle(): boolean {
    return this.stage === Stage.Idle;
  }

  get releasing(): boolean {
    return this.stage === Stage.Release;
  }

  next(): number {
    switch (this.stage) {
      case Stage.Attack:
        this.level += this.attackInc;
        if (this.level >= 1) {
          this.level = 1;
          this.stage = Stage.Decay;
        }
        break;
      case Stage.Decay:
        // Exponential approach to the sustain level.
        this.level = this.sustain + (this.level - this.sustain) * this.decayCoef;
        if (this.level - this.sustain < SILENT) {
          this.level = this.sustain;
          this.stage = this.sustain > 0 ? Stage.Sustain : Stage.Idle;
        }
        break;
      case Stage.Release:
        this.level *= this.releaseCoef;
        if (this.level < SILENT) {
          this.level = 0;
          this.stage = Stage.Idle;
        }
        break;
      default:
        break;
    }
    return this.level;
  }

  reset(): void {
    this.level = 0;
    this.stage = Stage.Idle;
  }
}
