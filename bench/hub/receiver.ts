/**
 * @module bench/hub/receiver
 * A load-generator process holding many subscriber connections. Per TCP read it takes one
 * arrival time; every message is checked by bench/shared/delivery-check (byte scan, no
 * JSON.parse): delivered, lost, duplicated, out of order, latency histogram.
 */
import type { ReceiverRequest } from './ipc.js';
import { DeliveryCheck } from '../shared/delivery-check.js';
import { serveLoadProcess } from '../shared/load-process.js';
import { LeanSocket, OP_TEXT } from './lean-socket.js';
import { clientScript, isEngineIoPing, pathFor, type ServerKind } from './wire.js';

const check = new DeliveryCheck();
const sockets: LeanSocket[] = [];
let channels: (string | null)[] = [];

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
      if (ready) {
        if (kind === 'socketio' && isEngineIoPing(buf, start, end)) {
          check.frames++;
          socket.sendText('3');
          return;
        }
        check.frame(index, buf, start, end, arrivalUs);
        return;
      }
      check.frames++;
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
  check.grow(channels.length);
  sockets.length = channels.length;
  // Bounded concurrency: a burst of thousands of handshakes would overflow the server's accept backlog.
  const worker = async () => {
    while (next < channels.length) {
      const i = next++;
      sockets[i] = await openClient(r.kind, r.host, r.port, i, channels[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(r.concurrency, r.subscriptions.length) }, worker));
  return { connected: connectedCount() };
}

function connectedCount(): number {
  return sockets.filter((s) => s && !s.closed).length;
}

serveLoadProcess<ReceiverRequest>(
  {
    connect: connectAll,
    step: (r) => {
      check.startStep(r.step);
      return { ok: true };
    },
    progress: () => ({ received: check.received, frames: check.frames, connected: connectedCount() }),
    report: (r) => check.report(channels, r.expected, connectedCount()),
  },
  () => {
    for (const s of sockets) s?.close();
  },
);
