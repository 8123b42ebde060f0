/**
 * @module apps/radio/compose/theory
 * The little music theory the composer needs: modes, diatonic chords, moods, and voice leading
 * that moves each pad voice to the nearest tone of the next chord.
 */
import type { Rng } from './rng.js';

export const MODES = {
  ionian: [0, 2, 4, 5, 7, 9, 11],
  lydian: [0, 2, 4, 6, 7, 9, 11],
  mixolydian: [0, 2, 4, 5, 7, 9, 10],
  dorian: [0, 2, 3, 5, 7, 9, 10],
  aeolian: [0, 2, 3, 5, 7, 8, 10],
} as const;
export type ModeName = keyof typeof MODES;

export const MOODS = ['calm', 'dusk', 'drift'] as const;
export type Mood = (typeof MOODS)[number];

export interface MoodProfile {
  modes: readonly ModeName[];
  /** Beats per minute of the underlying pulse (slow: this is ambient). */
  bpm: [number, number];
  /** Probability that a bell plays on a given half-beat slot, before dynamics. */
  bellDensity: number;
  /** Pad low-pass cutoff range in Hz (brightness). */
  padCutoff: [number, number];
  reverbMix: number;
  /** Chord degrees (0-based scale steps) the progression favours. */
  degrees: readonly number[];
  degreeWeights: readonly number[];
}

export const MOOD_PROFILES: Record<Mood, MoodProfile> = {
  calm: { modes: ['ionian', 'lydian'], bpm: [54, 62], bellDensity: 0.22, padCutoff: [900, 1800], reverbMix: 0.38, degrees: [0, 3, 5, 1, 4], degreeWeights: [4, 3, 3, 2, 1.5] },
  dusk: { modes: ['dorian', 'aeolian'], bpm: [48, 56], bellDensity: 0.16, padCutoff: [600, 1300], reverbMix: 0.42, degrees: [0, 2, 3, 5, 6], degreeWeights: [4, 2, 3, 3, 1.5] },
  drift: { modes: ['mixolydian', 'lydian', 'dorian'], bpm: [58, 66], bellDensity: 0.3, padCutoff: [1000, 2200], reverbMix: 0.35, degrees: [0, 1, 3, 4, 6], degreeWeights: [4, 2.5, 3, 2, 2] },
};

export interface Key {
  /** Pitch class of the tonic, 0 = C. */
  tonic: number;
  mode: ModeName;
}

/** Pitch classes of the scale. */
export function scalePitchClasses(key: Key): number[] {
  return MODES[key.mode].map((s) => (key.tonic + s) % 12);
}

/**
 * A chord on scale degree `degree`, as pitch classes: root, third (or sus2), fifth, and a colour
 * tone (seventh or ninth). Ambient favours open, unresolved colours over plain triads.
 */
export function diatonicChord(key: Key, degree: number, colour: 'seventh' | 'ninth' | 'sus2'): number[] {
  const steps = MODES[key.mode];
  const at = (d: number) => (key.tonic + steps[(degree + d) % 7]) % 12;
  const root = at(0);
  const fifth = at(4);
  if (colour === 'sus2') return [root, at(1), fifth, at(6)];
  return [root, at(2), fifth, colour === 'seventh' ? at(6) : at(1)];
}

/** True when two of the pitch classes are a tritone apart: no voicing within the pad's range avoids it. */
export function hasTritone(pcs: readonly number[]): boolean {
  for (let i = 0; i < pcs.length; i++) for (let j = i + 1; j < pcs.length; j++) if ((pcs[i] - pcs[j] + 12) % 12 === 6) return true;
  return false;
}

/**
 * The chord on `degree` in the preferred colour, or the first other colour without a tritone;
 * an open fifth with a ninth when every colour has one (the diminished degree).
 */
export function consonantChord(key: Key, degree: number, preferred: 'seventh' | 'ninth' | 'sus2'): number[] {
  for (const colour of [preferred, 'ninth', 'sus2', 'seventh'] as const) {
    const pcs = diatonicChord(key, degree, colour);
    if (!hasTritone(pcs)) return pcs;
  }
  // The diminished degree: borrow the tonic's colour instead (always tritone-free in these modes).
  return degree === 0 ? diatonicChord(key, 0, 'sus2') : consonantChord(key, 0, preferred);
}

/**
 * Is the interval between two MIDI notes harsh when held together? A semitone or a minor ninth
 * (any octave), or a close tritone. A major seventh is a colour ambient harmony wants, so it passes.
 */
export function isHarsh(a: number, b: number): boolean {
  const diff = Math.abs(a - b);
  const d = diff % 12;
  return d === 1 || (d === 6 && diff < 12);
}

/**
 * Moves `previous` voices (MIDI notes, low to high) to the pitch classes `target` with the least
 * total motion, every voice within [low, high], no two voices a semitone apart.
 * Tries every assignment of the chord tones to the voices (4! = 24) and the nearest octave of each.
 */
export function voiceLead(previous: readonly number[], target: readonly number[], low: number, high: number): number[] {
  const n = previous.length;
  let best: number[] = [...previous];
  let bestCost = Infinity;
  const notes: number[] = new Array(n);
  const sorted: number[] = new Array(n);
  // Each voice may take a chord tone in any octave within a fifth of where it was.
  const options = (from: number, pc: number) => {
    const out: number[] = [];
    for (let note = Math.max(low, from - 7); note <= Math.min(high, from + 7); note++) if (((note % 12) + 12) % 12 === pc) out.push(note);
    if (out.length) return out;
    // Near the edge of the range the tone may only exist just outside it: step out a little
    // rather than leap (the cost below pulls the voice back in later).
    for (let note = from - 6; note <= from + 6; note++) if (((note % 12) + 12) % 12 === pc) out.push(note);
    return out;
  };
  const evaluate = (): void => {
    let cost = 0;
    for (let v = 0; v < n; v++) cost += Math.abs(notes[v] - previous[v]) + 3 * Math.max(0, low - notes[v], notes[v] - high);
    for (let v = 0; v < n; v++) sorted[v] = notes[v];
    sorted.sort((a, b) => a - b);
    for (let i = 0; i < n; i++) {
      if (i > 0 && sorted[i] === sorted[i - 1]) cost += 8; // doubled note: thinner sound
      for (let j = i + 1; j < n; j++) if (isHarsh(sorted[i], sorted[j])) cost += 40;
    }
    if (cost < bestCost) {
      bestCost = cost;
      best = [...notes];
    }
  };
  const choose = (assignment: number[], v: number): void => {
    if (v === n) return evaluate();
    for (const note of options(previous[v], assignment[v % assignment.length])) {
      notes[v] = note;
      choose(assignment, v + 1);
    }
  };
  const perm = (arr: number[], k: number): void => {
    if (k === arr.length) return choose(arr, 0);
    for (let i = k; i < arr.length; i++) {
      [arr[k], arr[i]] = [arr[i], arr[k]];
      perm(arr, k + 1);
      [arr[k], arr[i]] = [arr[i], arr[k]];
    }
  };
  perm([...target], 0);
  return best;
}

/** A slow key change to a close neighbour (a fifth up or down), keeping the mood's modes. */
export function neighbourKey(key: Key, rng: Rng, modes: readonly ModeName[]): Key {
  const shift = rng.pick([7, 5]);
  return { tonic: (key.tonic + shift) % 12, mode: rng.chance(0.7) ? key.mode : rng.pick(modes) };
}

export function midiToHz(midi: number): number {
  return 440 * Math.pow(2, (midi - 69) / 12);
}
