/**
 * @module apps/radio/compose/composer
 * The generative composer: a seeded, deterministic stream of phrases for one station.
 *
 * Each phrase is four bars. The harmony drifts: two chords per phrase chosen from the mood's
 * favoured degrees, pads voice-led to the nearest chord tones, an occasional modulation to a
 * neighbouring key. Over it, a sparse bell melody moves mostly by step, shaped by the phrase's
 * dynamic arc, and rests for whole half-phrases now and then. A drone holds the tonic; a soft
 * noise texture breathes under some phrases. Nothing here touches audio: it only emits events.
 */
import { Rng } from './rng.js';
import {
  MOOD_PROFILES,
  consonantChord,
  diatonicChord,
  isHarsh,
  neighbourKey,
  scalePitchClasses,
  voiceLead,
  type Key,
  type Mood,
  type MoodProfile,
} from './theory.js';

export type VoiceKind = 'pad' | 'drone' | 'bell' | 'texture';

export interface NoteEvent {
  /** Absolute start, in frames since the station began. */
  start: number;
  /** Held length in frames (the envelope's release comes after). */
  duration: number;
  kind: VoiceKind;
  midi: number;
  /** 0..1 */
  velocity: number;
  /** -1 (left) .. 1 (right) */
  pan: number;
  /** 0..1: filter opening for pads and textures. */
  brightness: number;
}

export interface Phrase {
  index: number;
  start: number;
  length: number;
  key: Key;
  intensity: number;
  chords: { start: number; pitchClasses: number[]; notes: number[] }[];
  events: NoteEvent[];
}

const BEATS_PER_PHRASE = 16;
const BEATS_PER_CHORD = 8;
const PAD_LOW = 48;
const PAD_HIGH = 76;
const BELL_LOW = 67;
const BELL_HIGH = 91;

function hasHarshPair(notes: readonly number[]): boolean {
  for (let i = 0; i < notes.length; i++) for (let j = i + 1; j < notes.length; j++) if (isHarsh(notes[i], notes[j])) return true;
  return false;
}

export class Composer {
  readonly profile: MoodProfile;
  readonly bpm: number;
  readonly framesPerBeat: number;
  private readonly rng: Rng;
  private key: Key;
  private degree = 0;
  private padNotes: number[];
  private bellNote: number;
  private intensity = 0.6;
  private phraseIndex = 0;
  private nextStart = 0;
  private phrasesInKey = 0;
  private modulateAfter: number;

  constructor(
    readonly seed: number,
    readonly mood: Mood,
    readonly sampleRate: number,
  ) {
    this.rng = new Rng(seed);
    this.profile = MOOD_PROFILES[mood];
    this.bpm = Math.round(this.rng.range(this.profile.bpm[0], this.profile.bpm[1]));
    this.framesPerBeat = Math.round((sampleRate * 60) / this.bpm);
    this.key = { tonic: this.rng.int(0, 11), mode: this.rng.pick(this.profile.modes) };
    const tonic = 48 + this.key.tonic;
    this.padNotes = voiceLead([tonic, tonic + 4, tonic + 7, tonic + 11], diatonicChord(this.key, 0, 'ninth'), PAD_LOW, PAD_HIGH);
    this.bellNote = 74 + this.key.tonic;
    this.modulateAfter = this.rng.int(6, 10);
  }

  get currentKey(): Key {
    return this.key;
  }

  /** Generates the next phrase. Phrases are contiguous: each starts where the last ended. */
  nextPhrase(): Phrase {
    const rng = this.rng;
    const start = this.nextStart;
    const length = BEATS_PER_PHRASE * this.framesPerBeat;
    const fpb = this.framesPerBeat;
    if (++this.phrasesInKey > this.modulateAfter) {
      this.key = neighbourKey(this.key, rng, this.profile.modes);
      this.phrasesInKey = 0;
      this.modulateAfter = rng.int(6, 10);
    }
    // Dynamics drift as a bounded random walk, so the station breathes over minutes.
    this.intensity = Math.min(1, Math.max(0.35, this.intensity + rng.range(-0.15, 0.15)));
    const intensity = this.intensity;
    const events: NoteEvent[] = [];
    const chords: Phrase['chords'] = [];
    const brightness = rng.range(0.2, 0.8) * (0.6 + 0.4 * intensity);

    // Drone: the tonic, low, held through the phrase.
    const droneNote = 36 + this.key.tonic;
    events.push({ start, duration: length, kind: 'drone', midi: droneNote, velocity: 0.35 + 0.15 * intensity, pan: 0, brightness });

    const scale = scalePitchClasses(this.key);
    for (let c = 0; c < BEATS_PER_PHRASE / BEATS_PER_CHORD; c++) {
      const chordStart = start + c * BEATS_PER_CHORD * fpb;
      const choices = this.profile.degrees.filter((d) => d !== this.degree);
      const weights = this.profile.degrees.map((d, i) => (d === this.degree ? -1 : this.profile.degreeWeights[i])).filter((w) => w >= 0);
      // The first chord of a phrase after a modulation is the new tonic: it anchors the change.
      this.degree = this.phrasesInKey === 0 && c === 0 ? 0 : rng.weighted(choices, weights);
      const colour = rng.weighted(['ninth', 'seventh', 'sus2'] as const, [3, 2, 2]);
      // Some colours cannot be voiced near the previous chord without a semitone rub: try the
      // next colour, and the tonic's as a last resort.
      let pcs: number[] = [];
      let notes: number[] = [];
      for (const [degree, c] of [[this.degree, colour], [this.degree, 'sus2'], [this.degree, 'ninth'], [0, 'sus2']] as const) {
        pcs = consonantChord(this.key, degree, c);
        notes = voiceLead(this.padNotes, pcs, PAD_LOW, PAD_HIGH);
        if (!hasHarshPair(notes)) {
          this.degree = degree;
          break;
        }
      }
      this.padNotes = notes;
      chords.push({ start: chordStart, pitchClasses: pcs, notes: [...this.padNotes] });
      const padVelocity = 0.45 + 0.3 * intensity;
      this.padNotes.forEach((midi, v) => {
        events.push({
          start: chordStart + v * Math.round(fpb * 0.12), // a soft strum: voices enter one after another
          duration: BEATS_PER_CHORD * fpb,
          kind: 'pad',
          midi,
          velocity: padVelocity * (v === 0 ? 1 : 0.85),
          pan: (v / (this.padNotes.length - 1)) * 1.2 - 0.6,
          brightness,
        });
      });

      // Bells: half-beat slots, sparse, stepwise; some half-phrases rest entirely.
      if (rng.chance(0.25)) continue;
      const slots = BEATS_PER_CHORD * 2;
      const allowed = this.bellCandidates(pcs, scale);
      for (let s = 0; s < slots; s++) {
        const pos = (c * slots + s) / (slots * 2);
        const arc = Math.sin(Math.PI * pos); // swell to the middle of the phrase, recede to its end
        const onBeat = s % 2 === 0;
        const p = this.profile.bellDensity * (0.5 + intensity) * (onBeat ? 1.3 : 0.6) * (0.5 + arc);
        if (!rng.chance(p)) continue;
        const note = this.nextBellNote(allowed);
        const durationBeats = rng.pick([1, 2, 2, 3, 4]);
        events.push({
          start: chordStart + s * (fpb >> 1),
          duration: durationBeats * fpb,
          kind: 'bell',
          midi: note,
          velocity: (0.22 + 0.3 * intensity) * (0.6 + 0.4 * arc) * rng.range(0.8, 1),
          pan: rng.range(-0.7, 0.7),
          brightness,
        });
      }
    }

    // Texture: filtered noise breathing under about half the phrases.
    if (rng.chance(0.55)) {
      const pc = rng.pick(chords[0].pitchClasses);
      events.push({ start, duration: length, kind: 'texture', midi: 72 + pc, velocity: 0.12 + 0.1 * intensity, pan: rng.range(-0.4, 0.4), brightness });
    }

    events.sort((a, b) => a.start - b.start);
    this.nextStart = start + length;
    return { index: this.phraseIndex++, start, length, key: { ...this.key }, intensity, chords, events };
  }

  /** Chord tones and their gentle neighbours in the scale, never a semitone against the pad. */
  private bellCandidates(chord: number[], scale: number[]): number[] {
    const out: number[] = [];
    for (let note = BELL_LOW; note <= BELL_HIGH; note++) {
      const pc = note % 12;
      if (!chord.includes(pc) && !scale.includes(pc)) continue;
      if (!chord.includes(pc) && this.rng.chance(0.5)) continue; // chord tones twice as likely
      if (this.padNotes.some((p) => isHarsh(p, note))) continue;
      out.push(note);
    }
    return out.length ? out : [this.bellNote];
  }

  /** Mostly steps, now and then a small leap; never more than a fifth. */
  private nextBellNote(allowed: number[]): number {
    const step = this.rng.weighted([-2, -1, 1, 2, -4, 4, 0], [3, 4, 4, 3, 1, 1, 1]);
    const sorted = allowed;
    let idx = 0;
    let bestDist = Infinity;
    for (let i = 0; i < sorted.length; i++) {
      const d = Math.abs(sorted[i] - this.bellNote);
      if (d < bestDist) {
        bestDist = d;
        idx = i;
      }
    }
    idx = Math.min(sorted.length - 1, Math.max(0, idx + step));
    let note = sorted[idx];
    if (Math.abs(note - this.bellNote) > 7) note = sorted[Math.max(0, Math.min(sorted.length - 1, idx - Math.sign(step)))];
    this.bellNote = note;
    return note;
  }
}
