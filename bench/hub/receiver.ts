/**
 * @module bench/hub/receiver
 * A load-generator process holding many subscriber connections. Per TCP read it takes one
 * arrival time; per message it reads step, sequence and publish time by byte scan (no
 * JSON.parse) and counts: delivered, lost, duplicated, out of order, latency histogram.
 */
import { LatencyHistogram } from './histogram.js';
import type { ReceiverReport, ReceiverRequest } from './ipc.js';
import { serveLoadProcess } from '../shared/load-process.js';
import { LeanSocket, OP_TEXT } from './lean-socket.js';
import { clientScript, isEngineIoPing, pathFor, scanMessages, type ServerKind } from './wire.js';

const histogram = new LatencyHistogram();
const sockets: LeanSocket[] = [];
let channels: (string | null)[] = [];
let counts = new Int32Array(0);
let lastSeq = new Float64Array(0);
let currentStep = 0;
let received = 0;
let outOfOrder = 0;
let stale = 0;
let frames = 0;

// The frame being scanned: module state rather than a closure per frame (this is the hot loop).
let frameClient = 0;
let frameArrivalUs = 0;

function onMessage(step: number, seq: number, tUs: number): void {
  if (step !== currentStep) {
    stale++;
    return;
  }
  const i = frameClient;
  counts[i]++;
  received++;
  if (seq !== lastSeq[i] + 1) outOfOrder++;
  lastSeq[i] = seq;
  histogram.record(frameArrivalUs - tUs);
}

async function openClient(kind: ServerKind, host: string, port: number, index: number, subscribe: string | null): Promise<LeanSocket> {
  const script = clientScript(kind, subscribe);
  let ready = false;
  let settle: (err?: Error) => void = () => {};
  const readyPromise = new Promise<void>((resolve, reject) => {
    settle = (err) => (err ? reject(err) : resolve());
  });
  const opened = await LeanSocket.open({
    host,
    port,
    path: pathFor(kind),
    onFrame: (buf, start, end, opcode, arrivalUs, socket) => {
      frames++;
      if (ready) {
        if (kind === 'socketio' && isEngineIoPing(buf, start, end)) {
          socket.sendText('3');
          return;
        }
        frameClient = index;
        frameArrivalUs = arrivalUs;
        scanMessages(buf, start, end, onMessage);
        return;
      }
      if (opcode !== OP_TEXT) return;
      const out = script.onText(buf.toString('utf8', start, end));
      if (out.reply !== null) socket.sendText(out.reply);
      if (out.error) settle(new Error(`subscribe refused: ${out.error.slice(0, 200)}`));
      else if (out.ready) {
        ready = true;
        settle();
      }
    },
  });
  const first = script.start();
  if (first !== null) opened.sendText(first);
  else if (kind !== 'socketio') {
    ready = true;
    settle();
  }
  const timer = setTimeout(() => settle(new Error(`client ${index} not ready after 30 s`)), 30_000);
  try {
    await readyPromise;
  } finally {
    clearTimeout(timer);
  }
  return opened;
}

/** Opens the requested subscriptions; a second `connect` adds to those already open (the cluster bench grows its load this way). */
async function connectAll(r: Extract<ReceiverRequest, { type: 'connect' }>): Promise<{ connected: number }> {
  let next = channels.length;
  channels = channels.concat(r.subscriptions);
  const grownCounts = new Int32Array(channels.length);
  grownCounts.set(counts);
  counts = grownCounts;
  const grownSeq = new Float64Array(channels.length);
  grownSeq.set(lastSeq);
  lastSeq = grownSeq;
  sockets.length = channels.length;
  // Bounded concurrency: a burst of thousands of handshakes would overflow the server's accept backlog.
  const worker = async () => {
    while (next < channels.length) {
      const i = next++;
      sockets[i] = await openClient(r.kind, r.host, r.port, i, channels[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(r.concurrency, r.subscriptions.length) }, worker));
  return { connected: sockets.filter((s) => s && !s.closed).length };
}

function report(expected: Record<string, number>): ReceiverReport {
  let lost = 0;
  let duplicated = 0;
  for (let i = 0; i < channels.length; i++) {
    const ch = channels[i];
    if (ch === null) continue;
    const want = expected[ch] ?? 0;
    if (counts[i] < want) lost += want - counts[i];
    else duplicated += counts[i] - want;
  }
  return {
    clients: channels.length,
    connected: sockets.filter((s) => s && !s.closed).length,
    received,
    lost,
    duplicated,
    outOfOrder,
    stale,
    frames,
    histogram: histogram.snapshot(),
  };
}

serveLoadProcess<ReceiverRequest>(
  {
    connect: connectAll,
    step: (r) => {
      currentStep = r.step;
      counts.fill(0);
      lastSeq.fill(0);
      histogram.reset();
      received = outOfOrder = stale = frames = 0;
      return { ok: true };
    },
    progress: () => ({ received, frames, connected: sockets.filter((s) => s && !s.closed).length }),
    report: (r) => report(r.expected),
  },
  () => {
    for (const s of sockets) s?.close();
  },
);
