/**
 * @module apps/radio/synth/limiter
 * A soft limiter for the master bus: a stereo-linked peak follower (instant attack, slow
 * release) sets a gain that keeps peaks at the threshold, and a final soft knee above the
 * threshold guarantees the output never reaches 0 dBFS even on a sample the follower missed.
 */
export class SoftLimiter {
  private envelope = 0;
  private readonly releaseCoef: number;

  constructor(
    sampleRate: number,
    private readonly threshold = 0.89, // -1 dBFS
    releaseSeconds = 0.25,
  ) {
    this.releaseCoef = Math.exp(-1 / (releaseSeconds * sampleRate));
  }

  process(left: Float32Array, right: Float32Array, n: number): void {
    const thr = this.threshold;
    const rc = this.releaseCoef;
    let env = this.envelope;
    for (let i = 0; i < n; i++) {
      const l = left[i];
      const r = right[i];
      const peak = Math.max(l < 0 ? -l : l, r < 0 ? -r : r);
      env = peak > env ? peak : env * rc + peak * (1 - rc);
      const gain = env > thr ? thr / env : 1;
      left[i] = softKnee(l * gain, thr);
      right[i] = softKnee(r * gain, thr);
    }
    this.envelope = env;
  }
}

/** Identity below `knee`; above it, a tanh curve that approaches but never reaches 1. */
function softKnee(x: number, knee: number): number {
  const a = x < 0 ? -x : x;
  if (a <= knee) return x;
  const room = 1 - knee;
  const y = knee + room * Math.tanh((a - knee) / room) * 0.999;
  return x < 0 ? -y : y;
}
