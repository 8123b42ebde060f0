/**
 * @module bench/hub/publisher
 * The publisher process: one WebSocket connection that publishes at a target rate, spread evenly
 * over ~1 ms ticks (each tick sends what is due by the clock, so a late tick catches up instead of
 * lowering the rate). Every message carries its step, its sequence in its channel and its publish
 * time in µs on CLOCK_MONOTONIC; the messages due in one tick leave in one socket write.
 */
import type { PublisherRequest, PublisherResult } from './ipc.js';
import { publisherResult, serveLoadProcess } from '../shared/load-process.js';
import { LeanSocket, OP_TEXT, encodeClientFrame, monotonicUs } from './lean-socket.js';
import { channelName, clientScript, dataJson, isEngineIoPing, padFor, pathFor, publishFrame, type ServerKind } from './wire.js';

let socket: LeanSocket | null = null;
let kind: ServerKind = 'airwaves';
let nextId = 1;

async function connect(r: Extract<PublisherRequest, { type: 'connect' }>): Promise<{ ok: true }> {
  kind = r.kind;
  const script = clientScript(kind, null);
  let ready = false;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('publisher not ready after 15 s')), 15_000);
    LeanSocket.open({
      host: r.host,
      port: r.port,
      path: pathFor(kind),
      onFrame: (buf, start, end, opcode, _at, self) => {
        if (kind === 'socketio' && isEngineIoPing(buf, start, end)) {
          self.sendText('3');
          return;
        }
        // Publish acks (Airwaves) are read off the socket and ignored; only errors matter.
        if (opcode !== OP_TEXT) return;
        if (!ready) {
          const out = script.onText(buf.toString('utf8', start, end));
          if (out.reply !== null) self.sendText(out.reply);
          if (out.ready) {
            ready = true;
            clearTimeout(timer);
            resolve();
          }
        } else if (buf.indexOf('"ok":false', start) >= 0 && buf.indexOf('"ok":false', start) < end) {
          console.error(`publisher: server refused a publish: ${buf.toString('utf8', start, Math.min(end, start + 300))}`);
        }
      },
    }).then((s) => {
      socket = s;
      // Airwaves and the ws loop need no handshake beyond the upgrade.
      if (kind !== 'socketio') {
        ready = true;
        clearTimeout(timer);
        resolve();
      }
    }, reject);
  });
  return { ok: true };
}

function run(r: Extract<PublisherRequest, { type: 'run' }>): Promise<PublisherResult> {
  const s = socket;
  if (!s) throw new Error('publisher is not connected');
  const pad = padFor(r.payloadBytes);
  const total = Math.max(1, Math.round((r.rate * r.durationMs) / 1000));
  const names = (r.channelIndexes ?? Array.from({ length: r.channels }, (_, i) => i)).map(channelName);
  const seqs = new Array<number>(names.length).fill(0);
  const published: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]));
  const startUs = monotonicUs();
  let sent = 0;
  return new Promise((resolve) => {
    const tick = () => {
      const nowUs = monotonicUs();
      const due = Math.min(total, Math.floor(((nowUs - startUs) / 1e6) * r.rate) + 1);
      if (due > sent) {
        const frames: Buffer[] = [];
        for (; sent < due; sent++) {
          const c = sent % names.length;
          const seq = ++seqs[c];
          const text = publishFrame(kind, nextId++, names[c], dataJson(r.step, seq, monotonicUs(), pad));
          frames.push(encodeClientFrame(Buffer.from(text)));
        }
        s.writeRaw(frames.length === 1 ? frames[0] : Buffer.concat(frames));
      }
      if (sent >= total) {
        for (let c = 0; c < names.length; c++) published[names[c]] = seqs[c];
        const elapsedMs = (monotonicUs() - startUs) / 1000;
        resolve(publisherResult(published, sent, elapsedMs, r.durationMs));
        return;
      }
      setTimeout(tick, 1);
    };
    tick();
  });
}

serveLoadProcess<PublisherRequest>({ connect, run }, () => socket?.close());
