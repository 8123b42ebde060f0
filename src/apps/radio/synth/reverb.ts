/**
 * @module apps/radio/synth/reverb
 * A stereo feedback-delay-network reverb: four mutually prime delay lines mixed through a
 * Hadamard matrix (lossless, so the decay time is set only by the per-line gains), with a
 * one-pole low-pass in each loop so high frequencies die first, as in a real room.
 * All buffers are allocated once in the constructor.
 */

const LINE_MS = [59.3, 71.9, 83.1, 97.7];

export class FdnReverb {
  private readonly lines: Float32Array[];
  private readonly lengths: number[];
  private readonly pos = [0, 0, 0, 0];
  private readonly gains: number[];
  private readonly damp = [0, 0, 0, 0];
  private readonly dampCoef: number;
  private readonly preDelay: Float32Array;
  private preDelayPos = 0;

  constructor(
    sampleRate: number,
    decaySeconds = 5,
    dampingHz = 4500,
    private mix = 0.35,
  ) {
    this.lengths = LINE_MS.map((ms) => Math.round((ms / 1000) * sampleRate));
    this.lines = this.lengths.map((n) => new Float32Array(n));
    // Gain for a 60 dB fall over `decaySeconds`, per pass through a line of this length.
    this.gains = this.lengths.map((n) => Math.pow(10, (-3 * n) / (sampleRate * decaySeconds)));
    this.dampCoef = 1 - Math.exp((-2 * Math.PI * dampingHz) / sampleRate);
    this.preDelay = new Float32Array(Math.round(0.025 * sampleRate));
  }

  setMix(mix: number): void {
    this.mix = mix;
  }

  /** Processes interleaved-free planar stereo in place: out = dry·(1-mix) + wet·mix. */
  process(left: Float32Array, right: Float32Array, n: number): void {
    const [l0, l1, l2, l3] = this.lines;
    const [n0, n1, n2, n3] = this.lengths;
    const [g0, g1, g2, g3] = this.gains;
    const dc = this.dampCoef;
    const dry = 1 - this.mix;
    const wetGain = this.mix * 0.6;
    const pre = this.preDelay;
    let [p0, p1, p2, p3] = this.pos;
    let [d0, d1, d2, d3] = this.damp;
    let pp = this.preDelayPos;
    for (let i = 0; i < n; i++) {
      const inL = left[i];
      const inR = right[i];
      const mono = pre[pp];
      pre[pp] = (inL + inR) * 0.5;
      pp = pp + 1 === pre.length ? 0 : pp + 1;
      const a = l0[p0];
      const b = l1[p1];
      const c = l2[p2];
      const d = l3[p3];
      // Hadamard 4×4 scaled by 1/2: orthogonal, so energy is preserved before the gains.
      const h0 = (a + b + c + d) * 0.5;
      const h1 = (a - b + c - d) * 0.5;
      const h2 = (a + b - c - d) * 0.5;
      const h3 = (a - b - c + d) * 0.5;
      d0 += (h0 - d0) * dc;
      d1 += (h1 - d1) * dc;
      d2 += (h2 - d2) * dc;
      d3 += (h3 - d3) * dc;
      l0[p0] = mono + d0 * g0;
      l1[p1] = mono + d1 * g1;
      l2[p2] = mono * 0.9 + d2 * g2;
      l3[p3] = -mono * 0.9 + d3 * g3;
      p0 = p0 + 1 === n0 ? 0 : p0 + 1;
      p1 = p1 + 1 === n1 ? 0 : p1 + 1;
      p2 = p2 + 1 === n2 ? 0 : p2 + 1;
      p3 = p3 + 1 === n3 ? 0 : p3 + 1;
      left[i] = inL * dry + (a + c) * wetGain;
      right[i] = inR * dry + (b + d) * wetGain;
    }
    this.pos[0] = p0;
    this.pos[1] = p1;
    this.pos[2] = p2;
    this.pos[3] = p3;
    this.damp[0] = d0;
    this.damp[1] = d1;
    this.damp[2] = d2;
    this.damp[3] = d3;
    this.preDelayPos = pp;
  }
}
