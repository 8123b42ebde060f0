/**
 * @module test/radio/listener
 * A test listener: a raw WebSocket that subscribes to a radio stream and records every chunk
 * with its arrival time, so tests can check order, completeness and lateness.
 */
import { WebSocket } from 'ws';
import { decodeBinaryFrame } from '../../src/protocol/index.js';
import { decodeChunk, type DecodedChunk } from '../../src/apps/radio/shared/format.js';
import { nowMs } from '../../src/apps/radio/station.js';

export interface Arrival {
  chunk: DecodedChunk;
  offset: number;
  arrivedAt: number;
}

/** The station's clock: capture timestamps are on it, so arrival lateness is measured on one clock. */
export const wallNow = nowMs;

export class Listener {
  readonly ws: WebSocket;
  readonly arrivals: Arrival[] = [];
  readonly events: Record<string, unknown>[] = [];
  private nextId = 1;
  private readonly replies = new Map<number, (f: Record<string, unknown>) => void>();
  readonly opened: Promise<void>;

  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
    this.ws.on('error', () => {});
    this.ws.on('message', (data, isBinary) => {
      if (isBinary) {
        const at = wallNow();
        const frame = decodeBinaryFrame(data as Buffer);
        this.arrivals.push({ chunk: decodeChunk(frame.payload), offset: frame.offset, arrivedAt: at });
        return;
      }
      for (const line of data.toString().split('\n')) {
        const f = JSON.parse(line) as Record<string, unknown>;
        if (typeof f.id === 'number' && this.replies.has(f.id)) {
          this.replies.get(f.id)!(f);
          this.replies.delete(f.id);
        } else this.events.push(f);
      }
    });
  }

  static async open(url: string): Promise<Listener> {
    const l = new Listener(url);
    await l.opened;
    return l;
  }

  request(op: string, fields: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timeout waiting for ${op}`)), 5000);
      this.replies.set(id, (f) => {
        clearTimeout(timer);
        resolve(f);
      });
      this.ws.send(JSON.stringify({ id, op, ...fields }));
    });
  }

  async subscribe(channel: string, since?: { offset: number; epoch: string }): Promise<Record<string, unknown>> {
    const reply = await this.request('subscribe', { channel, ...(since ? { since } : {}) });
    if (reply.ok !== true) throw new Error(`subscribe failed: ${JSON.stringify(reply)}`);
    return reply.result as Record<string, unknown>;
  }

  /** Sequence numbers received, in arrival order. */
  seqs(): number[] {
    return this.arrivals.map((a) => a.chunk.seq);
  }

  close(): void {
    this.ws.close();
  }
}

/** Fraction of arrivals within `ms` of their capture (schedule) time. */
export function onTimeFraction(arrivals: Arrival[], ms: number): number {
  if (arrivals.length === 0) return 0;
  return arrivals.filter((a) => a.arrivedAt - a.chunk.captureTs <= ms).length / arrivals.length;
}
