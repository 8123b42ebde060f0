/**
 * @module bench/cluster/phased-publisher
 * The cluster rig's publisher process: one WebSocket connection to one node, publishing each of
 * its channels at `rate` per second at a phase of its own, counted from a start instant on
 * CLOCK_MONOTONIC that every publisher of the rig shares (the clock is the machine's, so the
 * publishers' schedules line up across processes; the receivers already compare its readings).
 *
 * Why not the hub benchmark's publisher (round-robin over its channels from whenever its `run`
 * request arrives): in the ring a node's two channels are published by two publishers, so with
 * independent starts the gap between a node's two fan-outs is 1/(2r) ± the publishers' start skew,
 * and how the nodes' fan-outs fall against each other on the shared cores is left to chance.
 * Here the rig chooses both (rig.ts `channelPhasesUs`). Every message carries its step, its
 * sequence in its channel and its send time in µs; the process sleeps until the next one is due,
 * the messages due at one wake-up leave in one socket write, and a late wake-up sends everything
 * due (the rate holds).
 */
import type { PublisherResult } from '../hub/ipc.js';
import { publisherResult, serveLoadProcess } from '../shared/load-process.js';
import { LeanSocket, OP_TEXT, encodeClientFrame, monotonicUs } from '../hub/lean-socket.js';
import { channelName, dataJson, padFor, pathFor, publishFrame } from '../hub/wire.js';

export type PhasedPublisherRequest =
  | { type: 'connect'; host: string; port: number }
  /**
   * Channel `index` publishes at `startAtUs + phaseUs + k / rate` (k = 0, 1, …) for `durationMs`;
   * `startAtUs` null: from when the request arrives.
   */
  | { type: 'run'; step: number; rate: number; durationMs: number; payloadBytes: number; startAtUs: number | null; channels: { index: number; phaseUs: number }[] }
  | { type: 'close' };

let socket: LeanSocket | null = null;
let nextId = 1;

async function connect(r: Extract<PhasedPublisherRequest, { type: 'connect' }>): Promise<{ ok: true }> {
  socket = await LeanSocket.open({
    host: r.host,
    port: r.port,
    path: pathFor('airwaves'),
    onFrame: (buf, start, end, opcode) => {
      // Publish acks are read off the socket and ignored; only refusals matter.
      if (opcode !== OP_TEXT) return;
      const refused = buf.indexOf('"ok":false', start);
      if (refused >= 0 && refused < end) console.error(`publisher: server refused a publish: ${buf.toString('utf8', start, Math.min(end, start + 300))}`);
    },
  });
  return { ok: true };
}

function run(r: Extract<PhasedPublisherRequest, { type: 'run' }>): Promise<PublisherResult> {
  const s = socket;
  if (!s) throw new Error('publisher is not connected');
  const pad = padFor(r.payloadBytes);
  const perChannel = Math.max(1, Math.round((r.rate * r.durationMs) / 1000));
  const periodUs = 1e6 / r.rate;
  const names = r.channels.map((c) => channelName(c.index));
  const sent = new Array<number>(names.length).fill(0);
  const startUs = r.startAtUs ?? monotonicUs();
  const total = perChannel * names.length;
  let done = 0;
  return new Promise((resolve) => {
    const tick = () => {
      const nowUs = monotonicUs();
      const frames: Buffer[] = [];
      for (let c = 0; c < names.length; c++) {
        const sinceUs = nowUs - startUs - r.channels[c].phaseUs;
        if (sinceUs < 0) continue;
        const due = Math.min(perChannel, Math.floor(sinceUs / periodUs) + 1);
        for (; sent[c] < due; done++) {
          const text = publishFrame('airwaves', nextId++, names[c], dataJson(r.step, ++sent[c], monotonicUs(), pad));
          frames.push(encodeClientFrame(Buffer.from(text)));
        }
      }
      if (frames.length) s.writeRaw(frames.length === 1 ? frames[0] : Buffer.concat(frames));
      if (done >= total) {
        const elapsedMs = (monotonicUs() - startUs) / 1000;
        const published = Object.fromEntries(names.map((n, c) => [n, sent[c]]));
        resolve(publisherResult(published, done, elapsedMs, r.durationMs));
        return;
      }
      // Asleep until the next publication is due, not awake every millisecond: the generators
      // share the nodes' two cores, and a 1 ms poll cost each publisher 5–8 % of a core at
      // K = 5 (user 54–58 ticks in 10 s, 13:31 UTC) for 100 publications a second.
      let nextUs = Infinity;
      for (let c = 0; c < names.length; c++) if (sent[c] < perChannel) nextUs = Math.min(nextUs, startUs + r.channels[c].phaseUs + sent[c] * periodUs);
      setTimeout(tick, Math.max(0, (nextUs - monotonicUs()) / 1000));
    };
    tick();
  });
}

serveLoadProcess<PhasedPublisherRequest>({ connect, run }, () => socket?.close());
