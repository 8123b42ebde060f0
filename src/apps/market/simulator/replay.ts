/**
 * @module apps/market/simulator/replay
 * Replays a JSONL capture (venues/recorder.ts) as venue endpoints: each WebSocket connection to
 * `/coinbase` or `/kraken` receives that venue's recorded messages in order, paced as recorded
 * divided by `speed` (0: as fast as the socket takes them). Whatever the client sends is ignored:
 * the capture already holds the answers it got. Coinbase and Kraken carry their snapshots in the
 * stream, so a capture replays on its own; Binance books need REST snapshots, which a capture of
 * the stream does not hold (not replayed here).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { CaptureLine } from '../venues/recorder.js';
import type { VenueName } from '../types.js';

export class CaptureReplay {
  private readonly http: Server = createServer((_req, res) => res.writeHead(404).end());
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly lines: readonly CaptureLine[], private readonly speed = 1) {
    this.http.on('upgrade', (req, socket, head) => {
      const venue = (req.url ?? '').slice(1) as VenueName;
      if (venue !== 'coinbase' && venue !== 'kraken') {
        socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.play(ws, venue));
    });
  }

  async listen(): Promise<{ coinbase: { ws: string }; kraken: { ws: string } }> {
    await new Promise<void>((resolve) => this.http.listen(0, '127.0.0.1', resolve));
    const { port } = this.http.address() as AddressInfo;
    return { coinbase: { ws: `ws://127.0.0.1:${port}/coinbase` }, kraken: { ws: `ws://127.0.0.1:${port}/kraken` } };
  }

  private play(ws: WebSocket, venue: VenueName): void {
    const mine = this.lines.filter((l) => l.venue === venue);
    let i = 0;
    const next = () => {
      while (i < mine.length && ws.readyState === ws.OPEN) {
        ws.send(mine[i].msg);
        i++;
        const wait = this.speed > 0 && i < mine.length ? (mine[i].t - mine[i - 1].t) / this.speed : 0;
        if (wait >= 1) {
          const timer = setTimeout(() => {
            this.timers.delete(timer);
            next();
          }, wait);
          this.timers.add(timer);
          return;
        }
      }
    };
    next();
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }
}
