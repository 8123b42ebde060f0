/**
 * @module apps/radio/synth/oscillators
 * Oscillators as small stateful objects with a per-sample `next()` (monomorphic, so V8 inlines
 * them into the voice loops) and a block `render()` for tests and simple uses.
 * Sine comes from a shared wavetable with linear interpolation: cheaper than Math.sin and far
 * below audible error at this table size. The saw is band-limited with polyBLEP.
 */

const TABLE_SIZE = 4096;
/** One cycle of sine plus a guard point, so interpolation never wraps. */
const SINE_TABLE = (() => {
  const t = new Float32Array(TABLE_SIZE + 1);
  for (let i = 0; i <= TABLE_SIZE; i++) t[i] = Math.sin((2 * Math.PI * i) / TABLE_SIZE);
  return t;
})();

/** sin(2π·phase) for phase in [0, 1). */
export function sineAt(phase: number): number {
  const x = phase * TABLE_SIZE;
  const i = x | 0;
  const f = x - i;
  const a = SINE_TABLE[i];
  return a + (SINE_TABLE[i + 1] - a) * f;
}

function wrap(phase: number): number {
  return phase - Math.floor(phase);
}

export class SineOsc {
  phase = 0;
  inc = 0;
  setFrequency(hz: number, sampleRate: number): void {
    this.inc = hz / sampleRate;
  }
  next(): number {
    const v = sineAt(this.phase);
    this.phase += this.inc;
    if (this.phase >= 1) this.phase -= 1;
    return v;
  }
  render(out: Float32Array, n: number): void {
    for (let i = 0; i < n; i++) out[i] = this.next();
  }
}

export class TriangleOsc {
  phase = 0;
  inc = 0;
  setFrequency(hz: number, sampleRate: number): void {
    this.inc = hz / sampleRate;
  }
  next(): number {
    const p = this.phase;
    this.phase += this.inc;
    if (this.phase >= 1) this.phase -= 1;
    // Triangles' harmonics fall as 1/n²: aliasing is negligible at the pitches used here.
    return p < 0.5 ? 4 * p - 1 : 3 - 4 * p;
  }
  render(out: Float32Array, n: number): void {
    for (let i = 0; i < n; i++) out[i] = this.next();
  }
}

/** polyBLEP residual: smooths the saw's discontinuity over one sample either side. */
function polyBlep(t: number, dt: number): number {
  if (t < dt) {
    const x = t / dt;
    return x + x - x * x - 1;
  }
  if (t > 1 - dt) {
    const x = (t - 1) / dt;
    return x * x + x + x + 1;
  }
  return 0;
}

export class SawOsc {
  phase = 0;
  inc = 0;
  setFrequency(hz: number, sampleRate: number): void {
    this.inc = hz / sampleRate;
  }
  next(): number {
    const t = this.phase;
    const v = 2 * t - 1 - polyBlep(t, this.inc);
    this.phase += this.inc;
    if (this.phase >= 1) this.phase -= 1;
    return v;
  }
  render(out: Float32Array, n: number): void {
    for (let i = 0; i < n; i++) out[i] = this.next();
  }
}

/**
 * Two-operator FM (phase modulation): a sine carrier whose phase is pushed by a sine modulator
 * at `ratio` × the carrier frequency. `index` is the modulation depth in radians.
 */
export class FmOsc {
  carrierPhase = 0;
  modPhase = 0;
  carrierInc = 0;
  modInc = 0;
  ratio = 3.5;
  setFrequency(hz: number, sampleRate: number, ratio = this.ratio): void {
    this.ratio = ratio;
    this.carrierInc = hz / sampleRate;
    this.modInc = (hz * ratio) / sampleRate;
  }
  next(index: number): number {
    const m = sineAt(this.modPhase);
    const v = sineAt(wrap(this.carrierPhase + (index * m) / (2 * Math.PI)));
    this.carrierPhase += this.carrierInc;
    if (this.carrierPhase >= 1) this.carrierPhase -= 1;
    this.modPhase += this.modInc;
    if (this.modPhase >= 1) this.modPhase -= 1;
    return v;
  }
  render(out: Float32Array, n: number, index: number): void {
    for (let i = 0; i < n; i++) out[i] = this.next(index);
  }
}

/** White noise from a seeded xorshift (deterministic, unlike Math.random). */
export class NoiseOsc {
  private state: number;
  constructor(seed = 1) {
    this.state = seed >>> 0 || 1;
  }
  next(): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state / 2147483648 - 1;
  }
}
