/**
 * @module apps/radio/synth/engine
 * The asynchronous synthesis engine: a worker thread that renders and encodes stations' chunks,
 * behind a bounded request queue. The main thread only sends small requests and receives
 * finished bytes, so fan-out is never blocked by DSP.
 *
 * The worker file is found next to this module with this module's own extension: `.ts` when
 * running under tsx (tests, dev — the worker then loads tsx itself), `.js` when running from
 * dist/ after `npm run build`.
 */
import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../../../core/module-worker.js';
import { AirwavesError, Errors } from '../../../core/errors.js';
import { CHUNK_MS } from '../shared/format.js';
import type { FromWorker, RenderedChunk, StationSpec, ToWorker } from './protocol.js';

export interface RenderResult {
  chunks: RenderedChunk[];
  synthMs: number;
  encodeMs: number;
  phrasesComposed: number;
}

export interface SynthEngineOptions {
  stations: StationSpec[];
  opusBitrate?: number;
  /** Requests waiting or running at once; more are refused (the caller retries next tick). */
  maxQueue?: number;
}

/** Starts the synthesis worker next to this module (core/module-worker: tsx or dist/). */
export function startWorker(name: string): Worker {
  return startModuleWorker(import.meta.url, name);
}

export class SynthEngine {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve(r: RenderResult): void; reject(e: Error): void }>();
  private nextId = 1;
  private readonly maxQueue: number;
  private closed = false;
  /** Totals for the real-time factor: audio rendered vs time spent synthesising it. */
  audioMs = 0;
  synthMs = 0;
  encodeMs = 0;

  private constructor(worker: Worker, maxQueue: number) {
    this.worker = worker;
    this.maxQueue = maxQueue;
    worker.on('message', (msg: FromWorker) => this.onMessage(msg));
    worker.on('error', (err) => this.failAll(err));
    worker.on('exit', (code) => {
      if (!this.closed) this.failAll(new Error(`synthesis worker exited with code ${code}`));
    });
  }

  static async start(options: SynthEngineOptions): Promise<SynthEngine> {
    const worker = startWorker('synth-worker');
    const engine = new SynthEngine(worker, options.maxQueue ?? 16);
    await new Promise<void>((resolve, reject) => {
      const onMsg = (m: FromWorker) => {
        if (m.type === 'ready') {
          worker.off('message', onMsg);
          worker.off('error', reject);
          resolve();
        }
      };
      worker.on('message', onMsg);
      worker.once('error', reject);
      worker.postMessage({ type: 'init', stations: options.stations, opusBitrate: options.opusBitrate ?? 96_000 } satisfies ToWorker);
    });
    return engine;
  }

  /** Audio seconds synthesised per second of synthesis time. */
  get realTimeFactor(): number {
    return this.synthMs > 0 ? this.audioMs / this.synthMs : 0;
  }

  /** Renders the next `count` chunks of `station`, encoded in the formats asked for. */
  render(station: string, count: number, formats: { pcm: boolean; opus: boolean }): Promise<RenderResult> {
    if (this.closed) return Promise.reject(new AirwavesError(Errors.shuttingDown, 'synthesis engine is closed'));
    if (this.pending.size >= this.maxQueue) {
      return Promise.reject(new AirwavesError(Errors.rateLimited, `synthesis queue is full (${this.maxQueue} requests)`));
    }
    const id = this.nextId++;
    return new Promise<RenderResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ type: 'render', id, station, count, pcm: formats.pcm, opus: formats.opus } satisfies ToWorker);
    });
  }

  private onMessage(msg: FromWorker): void {
    if (msg.type === 'ready') return;
    const waiter = this.pending.get(msg.id);
    if (!waiter) return;
    this.pending.delete(msg.id);
    if (msg.type === 'error') return waiter.reject(new Error(msg.message));
    this.audioMs += msg.chunks.length * CHUNK_MS;
    this.synthMs += msg.synthMs;
    this.encodeMs += msg.encodeMs;
    waiter.resolve({ chunks: msg.chunks, synthMs: msg.synthMs, encodeMs: msg.encodeMs, phrasesComposed: msg.phrasesComposed });
  }

  private failAll(err: Error): void {
    for (const w of this.pending.values()) w.reject(err);
    this.pending.clear();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.failAll(new AirwavesError(Errors.shuttingDown, 'synthesis engine is closed'));
    await this.worker.terminate();
  }
}
