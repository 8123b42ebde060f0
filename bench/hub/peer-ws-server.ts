/**
 * @module bench/hub/peer-ws-server
 * Peer (b): the naive broadcast loop over `ws`. On each publish it parses the command, builds the
 * envelope once and calls `send` for every subscriber — no batching, no queue, no backpressure.
 * With no subscriptions it is also the bare `ws` server of the idle-memory comparison.
 * Env: PORT, HOST.
 */
import { WebSocketServer, type WebSocket } from 'ws';

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
      const text = JSON.stringify({ channel, offset, data: cmd.data });
      for (const c of channels.get(channel) ?? []) c.send(text);
    }
  });
  ws.on('close', () => {
    for (const ch of mine) channels.get(ch)?.delete(ws);
  });
});
process.on('SIGTERM', () => process.exit(0));
