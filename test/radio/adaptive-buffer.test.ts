/**
 * @module test/radio/adaptive-buffer
 * The listener's adaptive buffer and jitter buffer (the code the AudioWorklet runs), driven by
 * synthetic clocks: tiers grow on underruns and jitter, shrink slowly, and playback is click-free
 * across gaps, underruns and skips.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { AdaptiveBuffer, CLIENT_TIERS_MS } from '../../src/apps/radio/shared/adaptive-buffer.js';
import { JitterBuffer, FADE_FRAMES } from '../../src/apps/radio/shared/jitter-buffer.js';
import { CHUNK_FRAMES, CHUNK_MS, SAMPLE_RATE } from '../../src/apps/radio/shared/format.js';

/** A continuous sine split into chunks, so any discontinuity shows as a large sample step. */
function sineChunk(seq: number, hz = 220): { left: Float32Array; right: Float32Array } {
  const left = new Float32Array(CHUNK_FRAMES);
  const right = new Float32Array(CHUNK_FRAMES);
  for (let i = 0; i < CHUNK_FRAMES; i++) {
    const t = (seq * CHUNK_FRAMES + i) / SAMPLE_RATE;
    left[i] = right[i] = 0.8 * Math.sin(2 * Math.PI * hz * t);
  }
  return { left, right };
}

/** Largest step between consecutive output samples; a 220 Hz sine at 0.8 steps ≤ 0.023. */
function maxStep(samples: number[]): number {
  let m = 0;
  for (let i = 1; i < samples.length; i++) m = Math.max(m, Math.abs(samples[i] - samples[i - 1]));
  return m;
}

describe('adaptive buffer tiers', () => {
  test('starts at the second tier, grows one tier per underrun, stops at the top', () => {
    const b = new AdaptiveBuffer();
    assert.equal(b.targetMs, CLIENT_TIERS_MS[1]);
    b.onUnderrun(1000);
    assert.equal(b.tier, 2);
    b.onUnderrun(1100);
    b.onUnderrun(1200);
    assert.equal(b.tier, 3);
    assert.equal(b.underruns, 3);
  });

  test('late arrivals raise the tier at once; early bursts (history replay) do not', () => {
    const replay = new AdaptiveBuffer();
    for (let seq = 0; seq < 10; seq++) replay.onArrival(5000, 5000 - 200 + seq * CHUNK_MS); // ten chunks arrive together
    assert.equal(replay.tier, 1, 'a burst of old chunks is not jitter');
    const late = new AdaptiveBuffer();
    let now = 0;
    for (let seq = 0; seq < 50; seq++) {
      const delay = seq % 10 === 5 ? 120 : 2;
      now = seq * CHUNK_MS + delay;
      late.onArrival(now, seq * CHUNK_MS);
    }
    assert.ok(late.tier >= 2, `tier ${late.tier} after 120 ms spikes (peak ${late.peakJitterMs})`);
  });

  test('a thick start settles to its home tier after a calm start, and not while arrivals are late', () => {
    const calm = new AdaptiveBuffer({ initialTier: 1, startTiersAbove: 1, settleMs: 2000 });
    assert.equal(calm.targetMs, CLIENT_TIERS_MS[2], 'starts one tier thicker');
    let t = 1000;
    for (; t < 2900; t += CHUNK_MS) calm.onArrival(t + 2, t);
    assert.equal(calm.tier, 2, 'still thick before 2 s of calm');
    for (; t < 3100; t += CHUNK_MS) calm.onArrival(t + 2, t);
    assert.equal(calm.tier, 1, 'settled home after 2 s of calm (not the 15 s shrink period)');
    for (; t < 17_000; t += CHUNK_MS) calm.onArrival(t + 2, t);
    assert.equal(calm.tier, 1, 'the settle is one step, home; below home only the slow rule (15 s after the settle)');

    // A 130 ms late burst in the first second (the thick tier holds it; the home tier would not): no
    // settle while the peak lateness remembers it, and a settle once the peak has decayed.
    const burst = new AdaptiveBuffer({ initialTier: 1, startTiersAbove: 1, settleMs: 2000 });
    t = 0;
    for (; t < 2500; t += CHUNK_MS) burst.onArrival(t >= 400 && t < 530 ? 530 + 2 : t + 2, t);
    assert.equal(burst.tier, 2, `not settled while the burst is remembered (peak ${burst.peakJitterMs.toFixed(0)} ms)`);
    for (; t < 6000; t += CHUNK_MS) burst.onArrival(t + 2, t);
    assert.equal(burst.tier, 1, `settled once the peak decayed (peak ${burst.peakJitterMs.toFixed(0)} ms)`);

    // An underrun even at the thick tier: the normal rules, no quick settle.
    const trouble = new AdaptiveBuffer({ initialTier: 1, startTiersAbove: 1, settleMs: 2000 });
    trouble.onArrival(0, 0);
    trouble.onUnderrun(100);
    assert.equal(trouble.tier, 3);
    for (t = 0; t < 10_000; t += CHUNK_MS) trouble.onArrival(t + 2, t);
    assert.equal(trouble.tier, 3, 'no quick settle after trouble');
  });

  test('shrinks one tier at a time, only after a long calm period', () => {
    const b = new AdaptiveBuffer({ shrinkAfterMs: 10_000 });
    b.onUnderrun(0);
    b.onUnderrun(0);
    assert.equal(b.tier, 3);
    let t = 0;
    for (; t < 9_000; t += CHUNK_MS) b.onArrival(t + 1, t);
    assert.equal(b.tier, 3, 'no shrink before the calm period');
    for (; t < 10_100; t += CHUNK_MS) b.onArrival(t + 1, t);
    assert.equal(b.tier, 2, 'one step after the calm period');
    for (; t < 15_000; t += CHUNK_MS) b.onArrival(t + 1, t);
    assert.equal(b.tier, 2, 'the next step waits another period');
    for (; t < 40_000; t += CHUNK_MS) b.onArrival(t + 1, t);
    assert.equal(b.tier, 0);
  });
});

describe('jitter buffer playout', () => {
  test('plays chunks in order after buffering its target, gap-free stream has no step above the signal', () => {
    const jb = new JitterBuffer({ sampleRate: SAMPLE_RATE });
    const out: number[] = [];
    const l = new Float32Array(128);
    const r = new Float32Array(128);
    let seq = 0;
    let clock = 0;
    // Producer ahead by 5 chunks, consumer at the audio rate.
    for (; seq < 5; seq++) jb.push(seq, seq * CHUNK_MS, sineChunk(seq).left, sineChunk(seq).right, CHUNK_FRAMES, seq * CHUNK_MS);
    for (let block = 0; block < 3000; block++) {
      clock = (block * 128 * 1000) / SAMPLE_RATE;
      while (seq * CHUNK_MS < clock + 100) {
        const c = sineChunk(seq);
        jb.push(seq, seq * CHUNK_MS, c.left, c.right, CHUNK_FRAMES, seq * CHUNK_MS);
        seq++;
      }
      jb.read(l, r, 128, clock);
      for (let i = 0; i < 128; i++) out.push(l[i]);
    }
    const s = jb.stats();
    assert.equal(s.underruns, 0);
    assert.equal(s.gaps, 0);
    assert.ok(s.framesPlayed > 128 * 2900);
    // Skip the initial fade-in, then the output must be the continuous sine.
    assert.ok(maxStep(out.slice(FADE_FRAMES)) < 0.03, `max step ${maxStep(out.slice(FADE_FRAMES))}`);
  });

  test('a gap, an underrun and a skip forward are all faded (no click)', () => {
    const jb = new JitterBuffer({ sampleRate: SAMPLE_RATE, initialTier: 0 });
    const out: number[] = [];
    const l = new Float32Array(128);
    const r = new Float32Array(128);
    const push = (seq: number, at: number) => {
      const c = sineChunk(seq, 440);
      jb.push(seq, seq * CHUNK_MS, c.left, c.right, CHUNK_FRAMES, at);
    };
    const read = (blocks: number, clock: number) => {
      for (let b = 0; b < blocks; b++) {
        jb.read(l, r, 128, clock);
        for (let i = 0; i < 128; i++) out.push(l[i]);
      }
    };
    for (let s = 0; s < 4; s++) push(s, 0);
    read(10, 0);
    push(9, 100); // seq 4-8 lost: a gap
    push(10, 100);
    read(40, 100); // runs dry: an underrun
    for (let s = 11; s < 16; s++) push(s, 200);
    read(5, 200); // playing again
    for (let s = 16; s < 60; s++) push(s, 300); // a burst far deeper than the target: a skip
    read(40, 300);
    const s = jb.stats();
    assert.ok(s.gaps >= 1, 'gap seen');
    assert.ok(s.underruns >= 1, 'underrun seen');
    assert.ok(s.skips >= 1, 'skip seen');
    // A 440 Hz sine at 0.8 steps at most ~0.046 per sample; a click would be a step near 0.8.
    assert.ok(maxStep(out) < 0.1, `max step ${maxStep(out)}`);
  });

  test('duplicates and old chunks are ignored; the head capture time tracks what plays', () => {
    const jb = new JitterBuffer({ sampleRate: SAMPLE_RATE, initialTier: 0 });
    const c = sineChunk(0);
    assert.equal(jb.push(5, 1000, c.left, c.right, CHUNK_FRAMES, 0), true);
    assert.equal(jb.push(5, 1000, c.left, c.right, CHUNK_FRAMES, 0), false);
    assert.equal(jb.push(3, 960, c.left, c.right, CHUNK_FRAMES, 0), false);
    jb.push(6, 1020, c.left, c.right, CHUNK_FRAMES, 0);
    jb.push(7, 1040, c.left, c.right, CHUNK_FRAMES, 0);
    const l = new Float32Array(480);
    const r = new Float32Array(480);
    jb.read(l, r, 480, 0); // 10 ms into chunk 5
    assert.ok(Math.abs(jb.headCaptureTs() - 1010) < 0.01, `head ${jb.headCaptureTs()}`);
    jb.read(l, r, 480, 0);
    jb.read(l, r, 480, 0); // 30 ms: 10 ms into chunk 6
    assert.ok(Math.abs(jb.headCaptureTs() - 1030) < 0.01);
  });
});
