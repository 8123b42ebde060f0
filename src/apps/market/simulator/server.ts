/**
 * @module apps/market/simulator/server
 * The venue simulator as a network service: one HTTP server on loopback with each venue under
 * its own path — Binance (`/binance/stream`, `/binance/ws`, `/binance/api/v3/depth`,
 * `/binance/api/v3/exchangeInfo`), Coinbase (`/coinbase`), Kraken (`/kraken`). It is the
 * embedded default venue set of the market app and the ground truth of the tests
 * (`sim.market.truth(venue, symbol)` is the true book at the current sequence).
 *
 * One clock ticks each second for every connection: Coinbase's and Kraken's heartbeats, and the
 * per-second faults (disconnects, bursts). It runs while the simulated market moves (or a
 * per-second fault is planned): a market standing still (the embedded simulator while nobody
 * watches the market, a test stepping by hand) has nothing to say, and a heartbeat there only
 * woke the process twice a second to tell itself that a loopback connection was alive. The
 * gateway's watchdog probes a quiet connection with a ping instead (venues/session.ts), which
 * every simulated venue answers.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { SimMarket, type SimMarketOptions } from './market.js';
import { FaultInjector, type FaultPlanInput } from './faults.js';
import { BinanceSimConnection, binanceExchangeInfo, binanceRestDepth } from './binance.js';
import { CoinbaseSimConnection } from './coinbase.js';
import { KrakenSimConnection } from './kraken.js';
import type { VenueName } from '../types.js';

export interface SimulatorOptions extends SimMarketOptions {
  host?: string;
  port?: number;
  faults?: Partial<Record<VenueName, FaultPlanInput>>;
}

export interface VenueUrls {
  binance: { ws: string; rest: string };
  coinbase: { ws: string };
  kraken: { ws: string };
}

export class VenueSimulator {
  readonly market: SimMarket;
  readonly faults: Record<VenueName, FaultInjector>;
  private readonly http: Server;
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly sockets = new Map<WebSocket, VenueName>();
  /** Each client's TCP stream under its WebSocket (a benchmark's pre-framed tape is written to it). */
  private readonly streams = new Map<WebSocket, Duplex>();
  /** The one-second clock (see the module comment); null while it stands still. */
  private clock: NodeJS.Timeout | null = null;
  /** What each tick beats: the heartbeat of every Coinbase and Kraken connection. */
  private readonly heartbeats = new Set<{ heartbeat(): void }>();
  private stopMotion: (() => void) | null = null;
  /** REST snapshot requests served (tests check resyncs cost one round trip). */
  restRequests = 0;

  constructor(private readonly options: SimulatorOptions) {
    this.market = new SimMarket(options);
    const f = options.faults ?? {};
    this.faults = { binance: new FaultInjector(f.binance), coinbase: new FaultInjector(f.coinbase), kraken: new FaultInjector(f.kraken) };
    this.http = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://sim');
      const reply = (status: number, body: string) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(body);
      };
      if (url.pathname === '/binance/api/v3/depth') {
        this.restRequests++;
        const { status, body } = binanceRestDepth(this.market, this.faults.binance, url.searchParams.get('symbol') ?? '', Number(url.searchParams.get('limit') ?? 1000));
        reply(status, body);
      } else if (url.pathname === '/binance/api/v3/exchangeInfo') reply(200, binanceExchangeInfo(this.market));
      else if (url.pathname === '/binance/api/v3/time') reply(200, `{"serverTime":${Date.now()}}`);
      else if (url.pathname === '/binance/api/v3/ping') reply(200, '{}');
      else reply(404, '{"code":-1,"msg":"not found"}');
    });
    this.http.on('upgrade', (req, socket, head) => {
      const url = new URL(req.url ?? '/', 'http://sim');
      const route = url.pathname;
      if (!['/binance/stream', '/binance/ws', '/coinbase', '/kraken'].includes(route) && !route.startsWith('/binance/ws/')) {
        socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        this.sockets.set(ws, route === '/coinbase' ? 'coinbase' : route === '/kraken' ? 'kraken' : 'binance');
        this.streams.set(ws, socket);
        ws.on('close', () => {
          this.sockets.delete(ws);
          this.streams.delete(ws);
        });
        ws.on('error', () => ws.terminate());
        if (route === '/coinbase' || route === '/kraken') {
          const connection = route === '/coinbase' ? new CoinbaseSimConnection(ws, this.market, this.faults.coinbase) : new KrakenSimConnection(ws, this.market, this.faults.kraken);
          this.heartbeats.add(connection);
          ws.on('close', () => this.heartbeats.delete(connection));
        } else {
          const streams = route === '/binance/stream' ? (url.searchParams.get('streams') ?? '').split('/').filter(Boolean) : route.slice('/binance/ws/'.length).split('/').filter(Boolean);
          new BinanceSimConnection(ws, this.market, this.faults.binance, route === '/binance/stream', streams);
        }
      });
    });
  }

  async listen(): Promise<VenueUrls> {
    await new Promise<void>((resolve) => this.http.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1', resolve));
    this.stopMotion = this.market.onMotion(() => this.setClock());
    this.market.start();
    this.setClock();
    return this.urls();
  }

  /** Runs the one-second clock while the market moves or a per-second fault is planned. */
  private setClock(): void {
    const perSecondFaults = Object.values(this.faults).some((f) => f.plan.disconnectPerSecond > 0 || f.plan.burstPerSecond > 0);
    const run = this.stopMotion !== null && (this.market.moving || perSecondFaults);
    if (run === (this.clock !== null)) return;
    if (!run) {
      clearInterval(this.clock!);
      this.clock = null;
      return;
    }
    this.clock = setInterval(() => {
      for (const connection of this.heartbeats) connection.heartbeat();
      this.randomDisconnects();
    }, 1000);
    this.clock.unref();
  }

  /** Whether the one-second clock (heartbeats, per-second faults) is running. */
  get ticking(): boolean {
    return this.clock !== null;
  }

  urls(): VenueUrls {
    const { port } = this.http.address() as AddressInfo;
    const base = `127.0.0.1:${port}`;
    return {
      binance: { ws: `ws://${base}/binance/stream`, rest: `http://${base}/binance` },
      coinbase: { ws: `ws://${base}/coinbase` },
      kraken: { ws: `ws://${base}/kraken` },
    };
  }

  private randomDisconnects(): void {
    for (const [ws, venue] of this.sockets) {
      if (this.faults[venue].chance(this.faults[venue].plan.disconnectPerSecond)) ws.terminate();
    }
    for (const f of Object.values(this.faults)) if (f.chance(f.plan.burstPerSecond)) this.market.burst();
  }

  /** Closes every client connection (a venue-side disconnect). */
  disconnectAll(venue?: VenueName): void {
    for (const [ws, v] of this.sockets) if (venue === undefined || v === venue) ws.terminate();
  }

  /** The open client connections of a venue, each with the TCP stream under it. */
  clients(venue: VenueName): { ws: WebSocket; stream: Duplex }[] {
    return [...this.sockets].filter(([, v]) => v === venue).map(([ws]) => ({ ws, stream: this.streams.get(ws)! }));
  }

  get connections(): number {
    return this.sockets.size;
  }

  async close(): Promise<void> {
    this.stopMotion?.();
    this.stopMotion = null;
    this.market.stop();
    this.setClock();
    for (const ws of this.sockets.keys()) ws.terminate();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }
}
