/**
 * @module web/radio/player-worklet
 * The AudioWorklet processor: owns the jitter buffer (shared with the Node tests), is fed decoded
 * chunks through its port, and plays them on the audio clock. Posts its counters ~10 times a second.
 */
import { JitterBuffer } from '../../src/apps/radio/shared/jitter-buffer.js';
import { PLAYER_START } from '../../src/apps/radio/shared/adaptive-buffer.js';

interface ChunkMessage {
  type: 'chunk';
  seq: number;
  captureTs: number;
  left: Float32Array;
  right: Float32Array;
  frames: number;
  discontinuity: boolean;
}

declare const sampleRate: number;
declare const currentTime: number;
declare function registerProcessor(name: string, ctor: unknown): void;
declare class AudioWorkletProcessor {
  readonly port: MessagePort;
}

class RadioPlayerProcessor extends AudioWorkletProcessor {
  private readonly buffer = new JitterBuffer({ sampleRate, capacityMs: 2000, ...PLAYER_START });
  private blocks = 0;

  constructor() {
    super();
    this.port.onmessage = (e: MessageEvent<ChunkMessage | { type: 'reset' }>) => {
      const m = e.data;
      if (m.type === 'chunk') this.buffer.push(m.seq, m.captureTs, m.left, m.right, m.frames, currentTime * 1000, m.discontinuity);
    };
  }

  process(_inputs: Float32Array[][], outputs: Float32Array[][]): boolean {
    const out = outputs[0];
    const left = out[0];
    const right = out[1] ?? out[0];
    this.buffer.read(left, right, left.length, currentTime * 1000);
    if (++this.blocks % 37 === 0) this.port.postMessage({ type: 'stats', ...this.buffer.stats() });
    return true;
  }
}

registerProcessor('radio-player', RadioPlayerProcessor);
