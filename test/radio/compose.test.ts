/**
 * @module test/radio/compose
 * The composer's musical rules: determinism, notes in key, smooth voice leading, no harsh
 * clusters, dynamics in range, rests, and slow key drift.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Composer, type Phrase } from '../../src/apps/radio/compose/composer.js';
import { MOODS, isHarsh, scalePitchClasses, voiceLead } from '../../src/apps/radio/compose/theory.js';
import { Rng } from '../../src/apps/radio/compose/rng.js';

const SR = 48_000;

function phrases(seed: number, mood: (typeof MOODS)[number], n: number): Phrase[] {
  const c = new Composer(seed, mood, SR);
  return Array.from({ length: n }, () => c.nextPhrase());
}

describe('composer', () => {
  test('the same seed composes the same music; different seeds differ', () => {
    assert.deepEqual(phrases(7, 'calm', 20), phrases(7, 'calm', 20));
    assert.notDeepEqual(phrases(7, 'calm', 5), phrases(8, 'calm', 5));
  });

  test('phrases are contiguous and every event lies in its phrase', () => {
    for (const mood of MOODS) {
      let expected = 0;
      for (const p of phrases(3, mood, 30)) {
        assert.equal(p.start, expected);
        expected = p.start + p.length;
        for (const e of p.events) {
          assert.ok(e.start >= p.start && e.start < p.start + p.length, 'event starts inside its phrase');
          assert.ok(e.duration > 0 && e.velocity > 0 && e.velocity <= 1 && Math.abs(e.pan) <= 1);
        }
      }
    }
  });

  test('pads and bells stay in the key of their phrase', () => {
    for (const mood of MOODS) {
      for (const p of phrases(11, mood, 40)) {
        const scale = scalePitchClasses(p.key);
        for (const e of p.events) {
          if (e.kind === 'pad' || e.kind === 'bell' || e.kind === 'drone') assert.ok(scale.includes(e.midi % 12), `${mood}: ${e.kind} ${e.midi} not in ${scale}`);
        }
      }
    }
  });

  test('voice leading moves each pad voice by at most a fifth (mostly by step) between chords, with no semitone clashes', () => {
    let moves = 0;
    let total = 0;
    for (const mood of MOODS) {
      const chords = phrases(5, mood, 60).flatMap((p) => p.chords);
      for (let i = 1; i < chords.length; i++) {
        const a = chords[i - 1].notes;
        const b = chords[i].notes;
        for (let v = 0; v < a.length; v++) {
          const d = Math.abs(a[v] - b[v]);
          assert.ok(d <= 7, `${mood}: voice ${v} leapt ${d} semitones`);
          moves++;
          total += d;
        }
        const sorted = [...b].sort((x, y) => x - y);
        for (let x = 0; x < sorted.length; x++) for (let y = x + 1; y < sorted.length; y++) assert.ok(!isHarsh(sorted[x], sorted[y]), `${mood}: harsh chord ${sorted}`);
      }
    }
    assert.ok(total / moves < 2.5, `average motion ${total / moves} semitones per voice`);
  });

  test('bells never sound a semitone against the pad chord and move mostly by step', () => {
    for (const mood of MOODS) {
      let prev: number | null = null;
      let leaps = 0;
      let steps = 0;
      for (const p of phrases(9, mood, 40)) {
        for (const e of p.events) {
          if (e.kind !== 'bell') continue;
          const chord = p.chords.filter((c) => c.start <= e.start).pop()!;
          for (const n of chord.notes) assert.ok(!isHarsh(n, e.midi), `${mood}: bell ${e.midi} against pad ${n}`);
          if (prev !== null) {
            const d = Math.abs(e.midi - prev);
            if (d > 7) leaps++;
            else steps++;
          }
          prev = e.midi;
        }
      }
      assert.ok(steps > 20, `${mood}: enough bells (${steps})`);
      assert.ok(leaps / (steps + leaps) < 0.1, `${mood}: leaps ${leaps} of ${steps + leaps}`);
    }
  });

  test('dynamics breathe and some half-phrases rest (no bells)', () => {
    const ps = phrases(21, 'calm', 60);
    const intensities = ps.map((p) => p.intensity);
    assert.ok(Math.min(...intensities) >= 0.35 && Math.max(...intensities) <= 1);
    assert.ok(Math.max(...intensities) - Math.min(...intensities) > 0.2, 'intensity varies');
    let restingHalves = 0;
    for (const p of ps) {
      const half = p.length / 2;
      for (const h of [0, 1]) {
        const bells = p.events.filter((e) => e.kind === 'bell' && e.start >= p.start + h * half && e.start < p.start + (h + 1) * half);
        if (bells.length === 0) restingHalves++;
      }
    }
    assert.ok(restingHalves >= 10, `resting half-phrases ${restingHalves}`);
  });

  test('the key drifts slowly: a few modulations per hour, each to a neighbouring key', () => {
    const ps = phrases(13, 'dusk', 200);
    let changes = 0;
    for (let i = 1; i < ps.length; i++) {
      const a = ps[i - 1].key.tonic;
      const b = ps[i].key.tonic;
      if (a !== b) {
        changes++;
        const d = (b - a + 12) % 12;
        assert.ok(d === 5 || d === 7, `modulation by ${d} semitones`);
      }
    }
    assert.ok(changes >= 10 && changes <= 40, `${changes} modulations in 200 phrases`);
  });

  test('voiceLead picks nearest tones and the Rng is uniform enough', () => {
    assert.deepEqual(voiceLead([60, 64, 67, 71], [0, 4, 7, 11], 48, 76), [60, 64, 67, 71]);
    // C maj7 → F maj7: the cheapest clash-free voicing moves 8 semitones in all (not 4: E–F would clash).
    const moved = voiceLead([60, 64, 67, 71], [5, 9, 0, 4], 48, 76);
    assert.equal(moved.reduce((sum, n, i) => sum + Math.abs(n - [60, 64, 67, 71][i]), 0), 8, `moved ${moved}`);
    assert.deepEqual([...moved.map((n) => n % 12)].sort((a, b) => a - b), [0, 4, 5, 9]);
    const rng = new Rng(1);
    const buckets = new Array(10).fill(0);
    for (let i = 0; i < 10_000; i++) buckets[Math.floor(rng.next() * 10)]++;
    for (const b of buckets) assert.ok(b > 850 && b < 1150);
  });
});
