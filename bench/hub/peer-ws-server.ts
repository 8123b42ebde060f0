/**
 * @module bench/hub/peer-ws-server
 * Peers over `ws`, the loops a fan-out server is held to; one switch chooses how a publish
 * reaches the subscribers (the command handling, the envelope and the wire are the same):
 * - naive (default): `send` for every subscriber — ws frames the message again per client;
 * - `--one-frame`: the envelope framed once (`WebSocket.Sender.frame`, unmasked text, header
 *   and payload joined into one buffer) and that buffer written to every subscriber's TCP socket.
 * Neither has a queue, batching or backpressure. With no subscriptions it is also the bare `ws`
 * server of the idle-memory comparison. Env: PORT, HOST.
 */
import type { Socket } from 'node:net';
import * as wsModule from 'ws';
import { WebSocketServer, type WebSocket } from 'ws';

/** ws's framer (exported by ws, absent from @types/ws). */
const Sender = (wsModule as unknown as { Sender: { frame(data: Buffer, options: object): Buffer[] } }).Sender;

/** One unmasked final text frame holding `text`, as one buffer. */
function frameOnce(text: string): Buffer {
  const parts = Sender.frame(Buffer.from(text), { fin: true, rsv1: false, opcode: 1, mask: false, readOnly: false });
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

type Fanout = (subscribers: Iterable<WebSocket>, text: string) => void;

const naive: Fanout = (subscribers, text) => {
  for (const c of subscribers) c.send(text);
};

const oneFrame: Fanout = (subscribers, text) => {
  const frame = frameOnce(text);
  for (const c of subscribers) (c as unknown as { _socket: Socket })._socket.write(frame);
};

const fanout = process.argv.includes('--one-frame') ? oneFrame : naive;
const channels = new Map<string, Set<WebSocket>>();
const offsets = new Map<string, number>();
const wss = new WebSocketServer({ host: process.env.HOST ?? '127.0.0.1', port: Number(process.env.PORT ?? 0), perMessageDeflate: false });

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
      fanout(channels.get(channel) ?? [], JSON.stringify({ channel, offset, data: cmd.data }));
    }
  });
  ws.on('close', () => {
    for (const ch of mine) channels.get(ch)?.delete(ws);
  });
});
process.on('SIGTERM', () => process.exit(0));
