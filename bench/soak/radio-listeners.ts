/**
 * @module bench/soak/radio-listeners
 * A load-generator process holding the soak's radio listeners: plain WebSockets subscribed to
 * one station's Opus channel, as a browser's player is. Per chunk it takes the arrival time
 * against the chunk's capture time (both wall clock, same machine) and checks the sequence:
 * a gap is a lost chunk. Answers the coordinator over IPC (bench/hub/ipc).
 */
import { WebSocket } from 'ws';
import { decodeBinaryFrame } from '../../src/protocol/index.js';
import { CHUNK_MS, decodeChunk } from '../../src/apps/radio/shared/format.js';
import { LatencyHistogram } from '../hub/histogram.js';
import { serveLoadProcess } from '../shared/load-process.js';

export type RadioRequest =
  | { type: 'connect'; url: string; channel: string; listeners: number }
  | { type: 'stats' }
  /** The latency histogram starts again (at the end of the warm-up). */
  | { type: 'reset-latency' }
  | { type: 'close' };

/** Everything since connect: the coordinator differences successive readings. */
export interface RadioStats {
  listeners: number;
  connected: number;
  chunks: number;
  /** Chunks missing from a listener's sequence (gaps between its first and last). */
  lost: number;
  /** Chunks that came again or went back in sequence. */
  outOfOrder: number;
  /** Chunks a listener should have had at real time since its first (elapsed / CHUNK_MS + 1), summed. */
  realTimeChunks: number;
  /** Arrival minus capture time, µs, since connect or the last reset-latency. */
  latency: ReturnType<LatencyHistogram['snapshot']>;
}

interface Listener {
  ws: WebSocket;
  first: number;
  firstAt: number;
  last: number;
  count: number;
}

const wallNow = () => performance.timeOrigin + performance.now();
const latency = new LatencyHistogram();
let listeners: Listener[] = [];
let lost = 0;
let outOfOrder = 0;

function onChunk(l: Listener, data: Buffer): void {
  const at = wallNow();
  const chunk = decodeChunk(decodeBinaryFrame(data).payload);
  latency.record((at - chunk.captureTs) * 1000);
  if (l.count === 0) {
    l.first = chunk.seq;
    l.firstAt = at;
  } else if (chunk.seq > l.last + 1) lost += chunk.seq - l.last - 1;
  else if (chunk.seq <= l.last) outOfOrder++;
  if (chunk.seq > l.last) l.last = chunk.seq;
  l.count++;
}

function open(url: string, channel: string): Promise<Listener> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const l: Listener = { ws, first: -1, firstAt: 0, last: -1, count: 0 };
    const timer = setTimeout(() => reject(new Error('radio listener not subscribed after 30 s')), 30_000);
    ws.on('message', (data, isBinary) => {
      if (isBinary) return onChunk(l, data as Buffer);
      const text = String(data);
      if (text.includes('"id":1,"ok":true')) {
        clearTimeout(timer);
        resolve(l);
      } else if (text.includes('"id":1,"ok":false')) reject(new Error(`subscribe refused: ${text.slice(0, 200)}`));
    });
    ws.once('open', () => ws.send(JSON.stringify({ id: 1, op: 'subscribe', channel })));
    ws.once('error', reject);
  });
}

async function connect(r: Extract<RadioRequest, { type: 'connect' }>): Promise<{ connected: number }> {
  const url = r.url.replace(/^http/, 'ws') + '/ws';
  // In batches: a storm of handshakes would overflow the accept backlog.
  for (let i = 0; i < r.listeners; i += 50) listeners.push(...(await Promise.all(Array.from({ length: Math.min(50, r.listeners - i) }, () => open(url, r.channel)))));
  return { connected: listeners.filter((l) => l.ws.readyState === WebSocket.OPEN).length };
}

function stats(): RadioStats {
  const now = wallNow();
  let chunks = 0;
  let realTimeChunks = 0;
  for (const l of listeners) {
    chunks += l.count;
    if (l.count > 0) realTimeChunks += Math.floor((now - l.firstAt) / CHUNK_MS) + 1;
  }
  return { listeners: listeners.length, connected: listeners.filter((l) => l.ws.readyState === WebSocket.OPEN).length, chunks, lost, outOfOrder, realTimeChunks, latency: latency.snapshot() };
}

serveLoadProcess<RadioRequest>(
  {
    connect,
    stats,
    'reset-latency': () => {
      latency.reset();
      return { ok: true };
    },
  },
  () => {
    for (const l of listeners) l.ws.terminate();
    listeners = [];
  },
);
