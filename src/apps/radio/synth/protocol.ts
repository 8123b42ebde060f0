/**
 * @module apps/radio/synth/protocol
 * Messages between the synthesis engine (main thread) and its worker.
 */
import type { Mood } from '../compose/theory.js';

export interface StationSpec {
  id: string;
  seed: number;
  mood: Mood;
}

export type ToWorker =
  | { type: 'init'; stations: StationSpec[]; opusBitrate: number }
  | { type: 'render'; id: number; station: string; count: number; pcm: boolean; opus: boolean };

export interface RenderedChunk {
  /** Chunk index since the station started (its sequence number). */
  index: number;
  /** s16le interleaved stereo, when PCM was asked for. */
  pcm?: Uint8Array;
  /** One Opus packet, when Opus was asked for. */
  opus?: Uint8Array;
  /** The Opus encoder was (re)started at this chunk. */
  opusRestart?: boolean;
}

export type FromWorker =
  | { type: 'ready' }
  | {
      type: 'rendered';
      id: number;
      station: string;
      chunks: RenderedChunk[];
      /** Wall time spent synthesising (not encoding), ms. */
      synthMs: number;
      encodeMs: number;
      phrasesComposed: number;
    }
  | { type: 'error'; id: number; message: string };
