/**
 * @module apps/market/venues/recorder
 * Records venue feeds as JSONL captures: one line per WebSocket message as received,
 * `{"t": tsRecv ms, "venue": "kraken", "msg": "<the raw text>"}` — what the simulator's replay
 * (simulator/replay.ts) plays back, and what a bug report can carry. Writing is asynchronous and
 * bounded: if the disk falls more than 16 MB behind, lines are dropped and counted, never queued
 * without limit.
 */
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import type { VenueName } from '../types.js';

const MAX_PENDING_BYTES = 16 * 1024 * 1024;

export interface CaptureLine {
  t: number;
  venue: VenueName;
  msg: string;
}

export class JsonlRecorder {
  private readonly out: WriteStream;
  written = 0;
  dropped = 0;

  constructor(readonly path: string) {
    this.out = createWriteStream(path, { flags: 'a' });
    this.out.on('error', () => this.dropped++);
  }

  record(venue: VenueName, msg: string, tsRecv: number): void {
    if (this.out.writableLength > MAX_PENDING_BYTES) {
      this.dropped++;
      return;
    }
    this.out.write(JSON.stringify({ t: tsRecv, venue, msg } satisfies CaptureLine) + '\n');
    this.written++;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.out.end(resolve));
  }
}

/** Reads a capture; a line that is not a capture line is an error naming its number. */
export function readCapture(path: string): CaptureLine[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l, i) => {
      const v = JSON.parse(l) as Partial<CaptureLine>;
      if (typeof v.t !== 'number' || typeof v.venue !== 'string' || typeof v.msg !== 'string') throw new Error(`${path}:${i + 1}: not a capture line {t, venue, msg}`);
      return v as CaptureLine;
    });
}
