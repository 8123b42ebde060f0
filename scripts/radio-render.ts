/**
 * @module scripts/radio-render
 * Renders a station to a WAV file, offline and faster than real time:
 *   npm run radio:render -- --seconds 30 --seed 7 [--mood calm|dusk|drift] out.wav
 * The samples are exactly what the live station with the same seed and mood plays.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
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

/** Seconds rendered per block: bounds memory (an hour is 1.4 GB as floats) whatever the length. */
const BLOCK_SECONDS = 1;

/**
 * Renders `seconds` of the station into `write` as a 16-bit WAV, block by block; returns the
 * file's size in bytes.
 */
export function renderWav(seconds: number, seed: number, mood: Mood, write: (bytes: Uint8Array) => void): number {
  const frames = Math.round(seconds * SAMPLE_RATE);
  const dataBytes = frames * CHANNELS * 2;
  write(wavHeader(dataBytes));
  const renderer = new StationRenderer({ seed, mood });
  const blockFrames = BLOCK_SECONDS * SAMPLE_RATE;
  const float = new Float32Array(blockFrames * CHANNELS);
  const pcm = new Int16Array(float.length);
  for (let done = 0; done < frames; done += blockFrames) {
    const n = Math.min(blockFrames, frames - done);
    renderer.renderInterleaved(float, n);
    floatToPcm16(float, pcm);
    write(new Uint8Array(pcm.buffer, 0, n * CHANNELS * 2));
  }
  return 44 + dataBytes;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { seconds, seed, mood, out } = parseArgs(process.argv.slice(2));
  const t0 = performance.now();
  let fd: number;
  try {
    fd = openSync(out, 'w');
  } catch (err) {
    usage(`cannot write ${out}: ${(err as Error).message}`);
  }
  const bytes = renderWav(seconds, seed, mood, (b) => writeSync(fd, b));
  closeSync(fd);
  const ms = performance.now() - t0;
  console.log(`${out}: ${seconds} s of station seed ${seed} (${mood}), ${(bytes / 1e6).toFixed(1)} MB, rendered ${((seconds * 1000) / ms).toFixed(1)}× real time`);
}
