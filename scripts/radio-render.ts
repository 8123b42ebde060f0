/**
 * @module scripts/radio-render
 * Renders a station to a WAV file, offline and faster than real time:
 *   npm run radio:render -- --seconds 30 --seed 7 [--mood calm|dusk|drift] out.wav
 * The samples are exactly what the live station with the same seed and mood plays.
 */
import { writeFileSync } from 'node:fs';
import { StationRenderer } from '../src/apps/radio/synth/renderer.js';
import { MOODS, type Mood } from '../src/apps/radio/compose/theory.js';
import { CHANNELS, SAMPLE_RATE, floatToPcm16 } from '../src/apps/radio/shared/format.js';

function usage(message: string): never {
  console.error(`${message}\nusage: npm run radio:render -- --seconds N --seed N [--mood ${MOODS.join('|')}] out.wav`);
  process.exit(2);
}

export function wavHeader(dataBytes: number, sampleRate = SAMPLE_RATE, channels = CHANNELS): Buffer {
  const h = Buffer.alloc(44);
  h.write('RIFF', 0);
  h.writeUInt32LE(36 + dataBytes, 4);
  h.write('WAVE', 8);
  h.write('fmt ', 12);
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20); // PCM
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(sampleRate, 24);
  h.writeUInt32LE(sampleRate * channels * 2, 28);
  h.writeUInt16LE(channels * 2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36);
  h.writeUInt32LE(dataBytes, 40);
  return h;
}

export function parseArgs(argv: string[]): { seconds: number; seed: number; mood: Mood; out: string } {
  let seconds = 30;
  let seed = 7;
  let mood: Mood = 'calm';
  let out = '';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => argv[++i] ?? usage(`${a} needs a value`);
    if (a === '--seconds') seconds = Number(value());
    else if (a === '--seed') seed = Number(value());
    else if (a === '--mood') mood = value() as Mood;
    else if (a.startsWith('--')) usage(`unknown option ${a}`);
    else out = a;
  }
  if (!out) usage('missing output file');
  if (!(Number.isFinite(seconds) && seconds > 0 && seconds <= 3600)) usage('--seconds must be between 0 and 3600');
  if (!(Number.isInteger(seed) && seed >= 0 && seed < 2 ** 31)) usage('--seed must be a non-negative integer');
  if (!MOODS.includes(mood)) usage(`--mood must be one of ${MOODS.join(', ')}`);
  return { seconds, seed, mood, out };
}

export function render(seconds: number, seed: number, mood: Mood): Buffer {
  const frames = Math.round(seconds * SAMPLE_RATE);
  const renderer = new StationRenderer({ seed, mood });
  const float = new Float32Array(frames * CHANNELS);
  renderer.renderInterleaved(float, frames);
  const pcm = new Int16Array(float.length);
  floatToPcm16(float, pcm);
  const data = Buffer.from(pcm.buffer);
  return Buffer.concat([wavHeader(data.byteLength), data]);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { seconds, seed, mood, out } = parseArgs(process.argv.slice(2));
  const t0 = performance.now();
  const wav = render(seconds, seed, mood);
  writeFileSync(out, wav);
  const ms = performance.now() - t0;
  console.log(`${out}: ${seconds} s of station seed ${seed} (${mood}), ${(wav.byteLength / 1e6).toFixed(1)} MB, rendered ${((seconds * 1000) / ms).toFixed(1)}× real time`);
}
