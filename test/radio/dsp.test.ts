/**
 * @module test/radio/dsp
 * The synthesiser's building blocks and the whole station renderer: pitch, envelope shape,
 * filters, reverb and limiter bounds, determinism, chunk-boundary continuity, real-time factor.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { FmOsc, SawOsc, SineOsc, TriangleOsc } from '../../src/apps/radio/synth/oscillators.js';
import { Adsr } from '../../src/apps/radio/synth/envelope.js';
import { Biquad } from '../../src/apps/radio/synth/biquad.js';
import { FdnReverb } from '../../src/apps/radio/synth/reverb.js';
import { SoftLimiter } from '../../src/apps/radio/synth/limiter.js';
import { StationRenderer } from '../../src/apps/radio/synth/renderer.js';
import { CHUNK_FRAMES, SAMPLE_RATE, decodeChunk, encodeChunk, floatToPcm16, pcm16ToPlanar, CODEC_PCM16, ChunkFormatError } from '../../src/apps/radio/shared/format.js';

const SR = SAMPLE_RATE;

/** Frequency from upward zero crossings (linear interpolation between samples). */
function zeroCrossingHz(buf: Float32Array): number {
  const crossings: number[] = [];
  for (let i = 1; i < buf.length; i++) {
    if (buf[i - 1] < 0 && buf[i] >= 0) crossings.push(i - 1 + -buf[i - 1] / (buf[i] - buf[i - 1]));
  }
  return ((crossings.length - 1) * SR) / (crossings[crossings.length - 1] - crossings[0]);
}

function rms(buf: Float32Array, from = 0, to = buf.length): number {
  let s = 0;
  for (let i = from; i < to; i++) s += buf[i] * buf[i];
  return Math.sqrt(s / (to - from));
}

function allFinite(buf: Float32Array): boolean {
  for (const v of buf) if (!Number.isFinite(v)) return false;
  return true;
}

describe('oscillators', () => {
  for (const [name, make] of [
    ['sine', () => new SineOsc()],
    ['triangle', () => new TriangleOsc()],
    ['polyBLEP saw', () => new SawOsc()],
  ] as const) {
    test(`${name} oscillates at the frequency asked for (zero crossings, within 0.1%)`, () => {
      for (const hz of [110, 440, 1234.5]) {
        const osc = make();
        osc.setFrequency(hz, SR);
        const buf = new Float32Array(SR);
        osc.render(buf, buf.length);
        const measured = zeroCrossingHz(buf);
        assert.ok(Math.abs(measured - hz) / hz < 0.001, `${name} ${hz} Hz measured ${measured}`);
        assert.ok(allFinite(buf));
        let peak = 0;
        for (const v of buf) peak = Math.max(peak, Math.abs(v));
        assert.ok(peak <= 1.0001 && peak > 0.9, `${name} peak ${peak}`);
      }
    });
  }

  test('the polyBLEP saw has far less aliasing than a naive saw', () => {
    // A 5 kHz saw at 48 kHz: harmonics above Nyquist fold back. Compare energy at a folded
    // frequency (48k - 4·5k... pick the first alias: 48000 - 10·5000 = -2000 → 2 kHz) via a DFT bin.
    const hz = 5000;
    const n = SR;
    const blep = new SawOsc();
    blep.setFrequency(hz, SR);
    const a = new Float32Array(n);
    blep.render(a, n);
    const naive = new Float32Array(n);
    let p = 0;
    for (let i = 0; i < n; i++) {
      naive[i] = 2 * p - 1;
      p += hz / SR;
      if (p >= 1) p -= 1;
    }
    const bin = (buf: Float32Array, f: number) => {
      let re = 0;
      let im = 0;
      for (let i = 0; i < buf.length; i++) {
        re += buf[i] * Math.cos((2 * Math.PI * f * i) / SR);
        im -= buf[i] * Math.sin((2 * Math.PI * f * i) / SR);
      }
      return Math.hypot(re, im) / buf.length;
    };
    const aliasBlep = bin(a, 2000);
    const aliasNaive = bin(naive, 2000);
    assert.ok(aliasBlep < aliasNaive / 4, `alias at 2 kHz: polyBLEP ${aliasBlep}, naive ${aliasNaive}`);
  });

  test('FM output is finite, bounded, at the carrier pitch, and brighter with a larger index', () => {
    const quiet = new FmOsc();
    quiet.setFrequency(440, SR, 1);
    const bright = new FmOsc();
    bright.setFrequency(440, SR, 1);
    const q = new Float32Array(SR / 2);
    const b = new Float32Array(SR / 2);
    quiet.render(q, q.length, 0);
    bright.render(b, b.length, 4);
    assert.ok(allFinite(q) && allFinite(b));
    assert.ok(Math.abs(zeroCrossingHz(q) - 440) < 0.5);
    // More modulation means more zero crossings (higher partials).
    const crossings = (buf: Float32Array) => buf.reduce((n, v, i) => n + (i > 0 && buf[i - 1] < 0 && v >= 0 ? 1 : 0), 0);
    assert.ok(crossings(b) > crossings(q));
    for (const v of b) assert.ok(Math.abs(v) <= 1.0001);
  });
});

describe('ADSR envelope', () => {
  test('rises linearly in the attack time, decays to sustain, releases to silence, and goes idle', () => {
    const env = new Adsr(SR);
    env.set({ attack: 0.1, decay: 0.2, sustain: 0.5, release: 0.3 });
    env.noteOn();
    const attack = Math.round(0.1 * SR);
    const values: number[] = [];
    for (let i = 0; i < attack; i++) values.push(env.next());
    assert.ok(Math.abs(values[Math.floor(attack / 2)] - 0.5) < 0.01, 'half way up at half the attack time');
    assert.ok(values[attack - 1] > 0.99);
    for (let i = 1; i < values.length; i++) assert.ok(values[i] >= values[i - 1], 'attack is monotonic');
    let v = 0;
    for (let i = 0; i < SR; i++) v = env.next();
    assert.ok(Math.abs(v - 0.5) < 1e-3, `sustain ${v}`);
    env.noteOff();
    const afterRelease: number[] = [];
    for (let i = 0; i < 0.3 * SR; i++) afterRelease.push(env.next());
    // -60 dB over the release time.
    assert.ok(afterRelease[afterRelease.length - 1] < 0.5 * 0.0015, `after release ${afterRelease[afterRelease.length - 1]}`);
    for (let i = 0; i < SR && !env.idle; i++) env.next();
    assert.equal(env.idle, true);
  });

  test('a retrigger during release restarts from the current level (no jump)', () => {
    const env = new Adsr(SR);
    env.set({ attack: 0.05, decay: 0.1, sustain: 0.8, release: 1 });
    env.noteOn();
    for (let i = 0; i < SR / 2; i++) env.next();
    env.noteOff();
    for (let i = 0; i < SR / 10; i++) env.next();
    const before = env.level;
    env.noteOn();
    const after = env.next();
    assert.ok(Math.abs(after - before) < 0.001, `${before} → ${after}`);
  });
});

describe('filters, reverb and limiter', () => {
  test('the biquad low-pass passes lows and cuts highs', () => {
    const measure = (hz: number) => {
      const f = new Biquad(SR);
      f.lowpass(1000);
      const osc = new SineOsc();
      osc.setFrequency(hz, SR);
      const buf = new Float32Array(SR / 4);
      osc.render(buf, buf.length);
      f.processBlock(buf, buf.length);
      return rms(buf, buf.length / 2);
    };
    assert.ok(measure(100) > 0.68, 'passband ~ -3 dB or better');
    assert.ok(measure(8000) < 0.02, 'three octaves above: < -30 dB');
  });

  test('the FDN reverb stays finite, bounded, and rings on after the input stops', () => {
    const rev = new FdnReverb(SR, 4, 5000, 0.5);
    const l = new Float32Array(SR * 3);
    const r = new Float32Array(SR * 3);
    for (let i = 0; i < 4800; i++) l[i] = r[i] = Math.sin(i / 5) * 0.5;
    rev.process(l, r, l.length);
    assert.ok(allFinite(l) && allFinite(r));
    assert.ok(rms(l, SR, SR + 4800) > 0.001, 'tail still audible 1 s later');
    assert.ok(rms(l, SR * 2.8, SR * 3) < rms(l, SR, SR + 4800), 'and decaying');
    for (const v of l) assert.ok(Math.abs(v) < 2);
  });

  test('the soft limiter keeps every sample below 0 dBFS, even for +12 dB input', () => {
    const lim = new SoftLimiter(SR);
    const l = new Float32Array(SR);
    const r = new Float32Array(SR);
    for (let i = 0; i < SR; i++) {
      l[i] = 4 * Math.sin(i / 7);
      r[i] = i % 1000 === 0 ? -8 : 0.3;
    }
    lim.process(l, r, SR);
    for (let i = 0; i < SR; i++) {
      assert.ok(Math.abs(l[i]) < 1 && Math.abs(r[i]) < 1, `sample ${i}: ${l[i]}, ${r[i]}`);
    }
  });
});

describe('station renderer', () => {
  test('renders 20 s of each mood with no NaN/Inf, peak below 0 dBFS, and audible level', () => {
    for (const mood of ['calm', 'dusk', 'drift'] as const) {
      const r = new StationRenderer({ seed: 11, mood });
      const out = new Float32Array(CHUNK_FRAMES * 2 * 50);
      let peak = 0;
      let energy = 0;
      for (let s = 0; s < 20; s++) {
        r.renderInterleaved(out, CHUNK_FRAMES * 50);
        assert.ok(allFinite(out), `${mood}: finite at second ${s}`);
        for (const v of out) {
          const a = Math.abs(v);
          if (a > peak) peak = a;
          energy += v * v;
        }
      }
      const level = Math.sqrt(energy / (20 * SR * 2));
      assert.ok(peak < 1, `${mood} peak ${peak}`);
      assert.ok(level > 0.02, `${mood} rms ${level}`);
    }
  });

  test('is deterministic: the same seed renders the same samples, another seed does not', () => {
    const render = (seed: number) => {
      const r = new StationRenderer({ seed, mood: 'calm' });
      const out = new Float32Array(SR * 2 * 5);
      r.renderInterleaved(out, SR * 5);
      return out;
    };
    const a = render(7);
    const b = render(7);
    const c = render(8);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
  });

  test('chunked rendering equals one long render, and chunk boundaries have no discontinuity', () => {
    const whole = new StationRenderer({ seed: 3, mood: 'drift' });
    const chunked = new StationRenderer({ seed: 3, mood: 'drift' });
    const n = CHUNK_FRAMES * 500; // 10 s
    const a = new Float32Array(n * 2);
    whole.renderInterleaved(a, n);
    const b = new Float32Array(n * 2);
    const chunk = new Float32Array(CHUNK_FRAMES * 2);
    for (let c = 0; c < 500; c++) {
      chunked.renderInterleaved(chunk, CHUNK_FRAMES);
      b.set(chunk, c * CHUNK_FRAMES * 2);
    }
    assert.deepEqual(a, b);
    // Largest sample-to-sample step at chunk boundaries vs anywhere: boundaries are not special.
    let maxStep = 0;
    let maxBoundaryStep = 0;
    let sumStep = 0;
    let sumBoundary = 0;
    let boundaries = 0;
    for (let i = 2; i < b.length; i += 2) {
      const step = Math.abs(b[i] - b[i - 2]);
      maxStep = Math.max(maxStep, step);
      sumStep += step;
      if ((i / 2) % CHUNK_FRAMES === 0) {
        maxBoundaryStep = Math.max(maxBoundaryStep, step);
        sumBoundary += step;
        boundaries++;
      }
    }
    const meanStep = sumStep / (b.length / 2);
    const meanBoundary = sumBoundary / boundaries;
    assert.ok(maxBoundaryStep <= maxStep, `boundary step ${maxBoundaryStep}, max step ${maxStep}`);
    assert.ok(meanBoundary < meanStep * 2, `mean step at boundaries ${meanBoundary} vs everywhere ${meanStep}`);
  });

  test('synthesises at least 20× real time (seconds of audio per second of CPU)', () => {
    const r = new StationRenderer({ seed: 7, mood: 'calm' });
    const out = new Float32Array(CHUNK_FRAMES * 2);
    for (let i = 0; i < 500; i++) r.renderInterleaved(out, CHUNK_FRAMES); // warm the JIT
    const seconds = 30;
    // CPU time, not wall time: on a shared machine the wall clock measures the neighbours too.
    // Nothing else runs in this test process, so its CPU time is the renderer's.
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < seconds * 50; i++) r.renderInterleaved(out, CHUNK_FRAMES);
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    const rtf = (seconds * 1000) / cpuMs;
    console.log(`# synthesis real-time factor: ${rtf.toFixed(1)}× per CPU second (${((seconds * 1000) / wallMs).toFixed(1)}× wall clock)`);
    assert.ok(rtf >= 20, `real-time factor ${rtf.toFixed(1)}× per CPU second; the target is 20×`);
  });
});

describe('chunk format', () => {
  test('header round-trips and PCM survives float → s16 → float within one LSB', () => {
    const float = new Float32Array(CHUNK_FRAMES * 2);
    for (let i = 0; i < float.length; i++) float[i] = Math.sin(i / 13) * 0.9;
    const pcm = new Int16Array(float.length);
    floatToPcm16(float, pcm);
    const bytes = encodeChunk({ codec: CODEC_PCM16, flags: 1, seq: 123456, captureTs: 1_700_000_000_123.25, frames: CHUNK_FRAMES, channels: 2, sampleRate: SR }, new Uint8Array(pcm.buffer));
    const c = decodeChunk(bytes);
    assert.equal(c.seq, 123456);
    assert.equal(c.captureTs, 1_700_000_000_123.25);
    assert.equal(c.flags, 1);
    assert.equal(c.frames, CHUNK_FRAMES);
    const l = new Float32Array(CHUNK_FRAMES);
    const r = new Float32Array(CHUNK_FRAMES);
    pcm16ToPlanar(c.payload, l, r, CHUNK_FRAMES);
    for (let i = 0; i < CHUNK_FRAMES; i++) {
      assert.ok(Math.abs(l[i] - float[i * 2]) < 1 / 16384);
      assert.ok(Math.abs(r[i] - float[i * 2 + 1]) < 1 / 16384);
    }
  });

  test('malformed chunks are rejected with a precise message', () => {
    assert.throws(() => decodeChunk(new Uint8Array(10)), (e: Error) => e instanceof ChunkFormatError && /header alone is 24/.test(e.message));
    const bad = new Uint8Array(30);
    bad[0] = 0x52;
    bad[1] = 9;
    assert.throws(() => decodeChunk(bad), /version 9 is not supported/);
    bad[1] = 1;
    bad[2] = 7;
    assert.throws(() => decodeChunk(bad), /unknown codec 7/);
  });
});
