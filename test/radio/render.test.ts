/**
 * @module test/radio/render
 * `npm run radio:render` writes a playable WAV of exactly what the station plays: the script is
 * run as a user would run it, and its file is parsed and analysed.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { StationRenderer } from '../../src/apps/radio/synth/renderer.js';
import { CHUNK_FRAMES, floatToPcm16 } from '../../src/apps/radio/shared/format.js';

const run = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'radio-render-'));

function render(args: string[]) {
  return run(process.execPath, ['--import', 'tsx', 'scripts/radio-render.ts', ...args], { cwd: ROOT, timeout: 60_000 });
}

describe('radio:render', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('writes a 48 kHz stereo 16-bit WAV holding the same samples the live station streams', async () => {
    const out = join(dir, 'seed7.wav');
    const { stdout } = await render(['--seconds', '3', '--seed', '7', out]);
    assert.match(stdout, /3 s of station seed 7 \(calm\)/);
    const wav = readFileSync(out);
    assert.equal(wav.toString('latin1', 0, 4), 'RIFF');
    assert.equal(wav.toString('latin1', 8, 12), 'WAVE');
    assert.equal(wav.readUInt16LE(20), 1, 'PCM');
    assert.equal(wav.readUInt16LE(22), 2, 'stereo');
    assert.equal(wav.readUInt32LE(24), 48_000);
    assert.equal(wav.readUInt16LE(34), 16);
    assert.equal(wav.readUInt32LE(40), 3 * 48_000 * 4);
    assert.equal(wav.byteLength, 44 + 3 * 48_000 * 4);

    // The live worker renders 20 ms chunks; the file must hold exactly those samples.
    const live = new StationRenderer({ seed: 7, mood: 'calm' });
    const float = new Float32Array(CHUNK_FRAMES * 2);
    const pcm = new Int16Array(float.length);
    let sumSq = 0;
    let peak = 0;
    for (let c = 0; c < 150; c++) {
      live.renderInterleaved(float, CHUNK_FRAMES);
      floatToPcm16(float, pcm);
      for (let i = 0; i < pcm.length; i++) {
        const v = wav.readInt16LE(44 + (c * pcm.length + i) * 2);
        if (v !== pcm[i]) assert.fail(`sample ${c * pcm.length + i} is ${v}; the live station plays ${pcm[i]}`);
        sumSq += v * v;
        peak = Math.max(peak, Math.abs(v));
      }
    }
    const rmsDb = 20 * Math.log10(Math.sqrt(sumSq / (150 * pcm.length)) / 32768);
    assert.ok(peak < 32767, `peak ${peak}: the limiter keeps the file below full scale`);
    assert.ok(rmsDb > -45, `RMS ${rmsDb.toFixed(1)} dBFS: audible`);
  });

  test('bad arguments get a precise message and exit code 2', async () => {
    const expectUsage = (args: string[], message: RegExp) =>
      assert.rejects(render(args), (err: { code: number; stderr: string }) => {
        assert.equal(err.code, 2);
        assert.match(err.stderr, message);
        return true;
      });
    await Promise.all([
      expectUsage(['--seconds', '0', join(dir, 'x.wav')], /--seconds must be between 0 and 3600/),
      expectUsage(['--seconds', '1', '--mood', 'loud', join(dir, 'x.wav')], /--mood must be one of calm, dusk, drift/),
      expectUsage(['--seconds', '1'], /missing output file/),
    ]);
  });
});
