/**
 * @module apps/radio/synth/synth-worker
 * The synthesis worker thread: owns every station's renderer and Opus encoder, renders chunks on
 * request and sends back encoded bytes (transferred, not copied). Runs off the main event loop so
 * that fan-out never waits on DSP or encoding.
 */
import { parentPort } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { StationRenderer } from './renderer.js';
import { CHANNELS, CHUNK_FRAMES, SAMPLE_RATE, floatToPcm16 } from '../shared/format.js';
import type { FromWorker, RenderedChunk, StationSpec, ToWorker } from './protocol.js';

interface OpusEncoder {
  encode(pcm: Buffer, frameSize: number): Buffer;
  setBitrate(bitrate: number): void;
  encoderCTL(ctl: number, arg: number): void;
  delete(): void;
}
type OpusCtor = new (rate: 48000, channels: number, application: number) => OpusEncoder;

const require = createRequire(import.meta.url);

// No Buffer pool in this thread. opusscript returns each packet with `Buffer.from`, which slices
// an 8 kB pool slab; at 50 packets/s a slab lives ~0.6 s, long enough to survive two of the
// scavenges the renderer's garbage causes, so every slab was promoted to the old generation and
// freed only at a rare mark-compact: the thread's ArrayBuffers grew by ~43 MB/h (a worker with
// the same encoder and garbage: 0.12 MB per 10 s, flat with no pool), and with them its malloc
// arena (the soak's memory map: ~40 MB/h). Unpooled, each packet's buffer dies young.
Buffer.poolSize = 0;
let OpusScript: (OpusCtor & { Application: { AUDIO: number } }) | null = null;

interface StationState {
  spec: StationSpec;
  renderer: StationRenderer;
  index: number;
  /** Open while the previous chunk was Opus-encoded; a new one means a restarted Opus stream. */
  opus: OpusEncoder | null;
}

const OPUS_SET_COMPLEXITY = 4010;
const port = parentPort!;
const stations = new Map<string, StationState>();
let opusBitrate = 96_000;
const float = new Float32Array(CHUNK_FRAMES * CHANNELS);
const pcm16 = new Int16Array(CHUNK_FRAMES * CHANNELS);
const pcmBytes = Buffer.from(pcm16.buffer);

function post(msg: FromWorker, transfer: ArrayBuffer[] = []): void {
  port.postMessage(msg, transfer);
}

function openOpus(): OpusEncoder {
  OpusScript ??= require('opusscript') as OpusCtor & { Application: { AUDIO: number } };
  const enc = new OpusScript(SAMPLE_RATE as 48000, CHANNELS, OpusScript.Application.AUDIO);
  enc.setBitrate(opusBitrate);
  // Complexity 5 of 10 halves the encoder's CPU; for soft ambient material the difference is inaudible.
  enc.encoderCTL(OPUS_SET_COMPLEXITY, 5);
  return enc;
}

function render(id: number, station: string, count: number, wantPcm: boolean, wantOpus: boolean): void {
  const st = stations.get(station);
  if (!st) return post({ type: 'error', id, message: `unknown station "${station}"` });
  const chunks: RenderedChunk[] = [];
  const transfer: ArrayBuffer[] = [];
  let synthMs = 0;
  let encodeMs = 0;
  for (let c = 0; c < count; c++) {
    const t0 = performance.now();
    st.renderer.renderInterleaved(float, CHUNK_FRAMES);
    const t1 = performance.now();
    synthMs += t1 - t0;
    const chunk: RenderedChunk = { index: st.index++ };
    if (wantPcm || wantOpus) floatToPcm16(float, pcm16);
    if (wantPcm) {
      chunk.pcm = new Uint8Array(pcmBytes.byteLength);
      chunk.pcm.set(pcmBytes);
      transfer.push(chunk.pcm.buffer as ArrayBuffer);
    }
    if (wantOpus) {
      if (!st.opus) {
        st.opus = openOpus();
        chunk.opusRestart = true;
      }
      const packet = st.opus.encode(pcmBytes, CHUNK_FRAMES);
      chunk.opus = new Uint8Array(packet.byteLength);
      chunk.opus.set(packet);
      transfer.push(chunk.opus.buffer as ArrayBuffer);
    } else if (st.opus) {
      // Nobody listens to Opus: free the encoder; a later listener gets a fresh stream.
      st.opus.delete();
      st.opus = null;
    }
    encodeMs += performance.now() - t1;
    chunks.push(chunk);
  }
  post({ type: 'rendered', id, station, chunks, synthMs, encodeMs, phrasesComposed: st.renderer.phrasesComposed }, transfer);
}

/**
 * Renders and encodes a few seconds on a throwaway renderer before reporting ready, so the JIT
 * and the Opus wasm module are warm when the first live chunk is due (a cold first second runs
 * several times slower than steady state).
 */
function warmUp(): void {
  const renderer = new StationRenderer({ seed: 1, mood: 'calm' });
  const enc = openOpus();
  for (let i = 0; i < 150; i++) {
    renderer.renderInterleaved(float, CHUNK_FRAMES);
    floatToPcm16(float, pcm16);
    if (i % 3 === 0) enc.encode(pcmBytes, CHUNK_FRAMES);
  }
  enc.delete();
}

port.on('message', (msg: ToWorker) => {
  try {
    if (msg.type === 'init') {
      opusBitrate = msg.opusBitrate;
      warmUp();
      for (const spec of msg.stations) {
        stations.set(spec.id, { spec, renderer: new StationRenderer({ seed: spec.seed, mood: spec.mood }), index: 0, opus: null });
      }
      post({ type: 'ready' });
    } else if (msg.type === 'render') render(msg.id, msg.station, msg.count, msg.pcm, msg.opus);
  } catch (err) {
    post({ type: 'error', id: 'id' in msg ? msg.id : -1, message: (err as Error).message });
  }
});
