/**
 * @module bench/hub/peer-ws-frame-server
 * Peer: the one-frame broadcast loop over `ws`, the floor a fan-out server is held to. On each
 * publish it builds the envelope once, frames it once (`WebSocket.Sender.frame`, unmasked text,
 * header and payload joined into one buffer) and writes that buffer to every subscriber's TCP
 * socket — no queue, no batching, no backpressure, no per-client framing. Same wire as the naive
 * loop (peer-ws-server.ts). Env: PORT, HOST.
 */
import type { Socket } from 'node:net';
import * as wsModule from 'ws';
import { WebSocketServer, type WebSocket } from 'ws';

/** ws's framer (exported by ws, absent from @types/ws). */
const Sender = (wsModule as unknown as { Sender: { frame(data: Buffer, options: object): Buffer[] } }).Sender;

const channels = new Map<string, Set<WebSocket>>();
const offsets = new Map<string, number>();
const wss = new WebSocketServer({ host: process.env.HOST ?? '127.0.0.1', port: Number(process.env.PORT ?? 0), perMessageDeflate: false });

/** One unmasked final text frame holding `text`, as one buffer. */
function frameOnce(text: string): Buffer {
  const parts = Sender.frame(Buffer.from(text), { fin: true, rsv1: false, opcode: 1, mask: false, readOnly: false });
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

wss.on('connection', (ws) => {
  const mine: string[] = [];
  ws.on('message', (raw) => {
    let cmd: { op?: string; channel?: string; data?: unknown };
    try {
      cmd = JSON.parse(String(raw)) as typeof cmd;
    } catch {
      ws.send('{"ok":false,"error":"bad_json"}');
      return;
    }
    const channel = String(cmd.channel);
    if (cmd.op === 'subscribe') {
      let set = channels.get(channel);
      if (!set) channels.set(channel, (set = new Set()));
      set.add(ws);
      mine.push(channel);
      ws.send('{"ok":true}');
    } else if (cmd.op === 'publish') {
      const offset = (offsets.get(channel) ?? 0) + 1;
      offsets.set(channel, offset);
      const frame = frameOnce(JSON.stringify({ channel, offset, data: cmd.data }));
      for (const c of channels.get(channel) ?? []) (c as unknown as { _socket: Socket })._socket.write(frame);
    }
  });
  ws.on('close', () => {
    for (const ch of mine) channels.get(ch)?.delete(ws);
  });
});
process.on('SIGTERM', () => process.exit(0));
