/**
 * @module hub/connections
 * The hub's open connections: admission by IP and shutdown state, a session per accepted
 * WebSocket wired to the command runner, the heartbeat that ends dead peers, and the drain at
 * shutdown (every client told 1012 and given `drainMs` to go).
 */
import { randomUUID } from 'node:crypto';
import type { WebSocket } from 'ws';
import type { CoreConfig } from '../core/config.js';
import { Errors, WS_CLOSE, type ErrorSpec } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { HubMetrics } from '../core/metrics.js';
import { ANONYMOUS, type ClientIdentity } from './auth.js';
import type { LocalChannels } from './channels.js';
import { ClientSession } from './client-session.js';
import type { CommandRunner } from './commands.js';
import type { FlushScheduler } from './flush.js';

/** Every session is pinged once per this long; one that did not answer its last ping is ended. */
const HEARTBEAT_MS = 25_000;
/**
 * The pings are spread over this many ticks of the interval (a session always in the same one):
 * pinging every client at once was a burst of N writes, then N pongs to read, that held up the
 * publication behind it by milliseconds with a thousand clients: a step's p99 on its own.
 */
const HEARTBEAT_SLICES = 25;

export interface ConnectionsOptions {
  config: CoreConfig;
  channels: LocalChannels;
  commands: CommandRunner;
  flush: FlushScheduler;
  metrics: HubMetrics;
  logger: Logger;
}

export class Connections {
  private readonly sessions = new Map<string, ClientSession>();
  private readonly perIp = new Map<string, number>();
  private accepting = true;
  private heartbeatOn = false;
  private heartbeatTimer?: NodeJS.Timeout;
  private heartbeatTick = 0;
  private acceptedCount = 0;

  constructor(private readonly options: ConnectionsOptions) {}

  get size(): number {
    return this.sessions.size;
  }

  /** The heartbeat ticks only while a connection is open: a hub nobody is connected to does no work. */
  startHeartbeat(): void {
    this.heartbeatOn = true;
    this.armHeartbeat();
  }

  private armHeartbeat(): void {
    if (!this.heartbeatOn || this.heartbeatTimer || this.sessions.size === 0) return;
    this.heartbeatTimer = setInterval(() => this.heartbeat(), HEARTBEAT_MS / HEARTBEAT_SLICES);
    this.heartbeatTimer.unref();
  }

  private disarmHeartbeat(): void {
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
  }

  /** Admission check for a new WebSocket from `ip`; returns the error to answer with, if any. */
  admit(ip: string): ErrorSpec | null {
    if (!this.accepting) return Errors.shuttingDown;
    if ((this.perIp.get(ip) ?? 0) >= this.options.config.maxConnectionsPerIp) {
      this.options.metrics.rejected.inc({ reason: 'connections_per_ip' });
      return Errors.rateLimited;
    }
    return null;
  }

  /** Takes ownership of an upgraded WebSocket. */
  accept(ws: WebSocket, ip: string, identity: ClientIdentity = ANONYMOUS): ClientSession {
    const { config, commands, metrics } = this.options;
    const session = new ClientSession(
      randomUUID(),
      ws,
      ip,
      identity,
      this.options.flush,
      {
        queueMessages: config.outboundQueueMessages,
        queueBytes: config.outboundQueueBytes,
        hardMessages: config.outboundQueueMessages * config.outboundQueueHardFactor,
        hardBytes: config.outboundQueueBytes * config.outboundQueueHardFactor,
        judgeWindowMs: config.slowConsumerWindowMs,
        socketHighWater: Math.min(1024 * 1024, config.outboundQueueBytes / 2),
      },
      {
        commandsPerSecond: config.commandRatePerSecond,
        publishesPerSecond: config.publishRatePerSecond,
        publishBytesPerSecond: config.publishBytesPerSecond,
      },
    );
    if (identity.user !== null) {
      session.connected = true;
      session.setExpiry(identity.expiresAt, () => session.closeWith(WS_CLOSE.unauthorized, 'token expired'));
    }
    session.heartbeatSlot = this.acceptedCount++ % HEARTBEAT_SLICES;
    this.sessions.set(session.id, session);
    this.perIp.set(ip, (this.perIp.get(ip) ?? 0) + 1);
    metrics.connections.set(this.sessions.size);
    this.armHeartbeat();
    ws.on('message', (data, isBinary) => commands.onFrame(session, data, isBinary));
    ws.on('pong', () => {
      session.alive = true;
    });
    ws.on('error', (err) => this.options.logger.debug({ client: session.id, err }, 'socket error'));
    ws.on('close', () => this.onClose(session));
    return session;
  }

  private onClose(session: ClientSession): void {
    session.markClosed();
    if (!this.sessions.delete(session.id)) return;
    const n = (this.perIp.get(session.ip) ?? 1) - 1;
    if (n <= 0) this.perIp.delete(session.ip);
    else this.perIp.set(session.ip, n);
    this.options.channels.unsubscribeAll(session);
    this.options.flush.forget(session);
    this.options.metrics.connections.set(this.sessions.size);
    if (this.sessions.size === 0) this.disarmHeartbeat();
  }

  /** One slice of the heartbeat: the sessions of this tick's slot, each once per HEARTBEAT_MS. */
  private heartbeat(): void {
    const slot = this.heartbeatTick++ % HEARTBEAT_SLICES;
    for (const session of this.sessions.values()) {
      if (session.heartbeatSlot !== slot) continue;
      if (!session.alive) {
        session.ws.terminate();
        continue;
      }
      session.alive = false;
      try {
        session.ws.ping();
      } catch {
        /* socket already gone; close handler cleans up */
      }
    }
  }

  /** Stops admitting new connections (the first step of shutdown). */
  stopAccepting(): void {
    this.accepting = false;
  }

  /**
   * Closes every client with 1012 (service restart, so SDKs reconnect elsewhere) after what is
   * queued for it, waits up to `drainMs` for them to go, then terminates the rest.
   */
  async drain(drainMs: number): Promise<void> {
    const sessions = [...this.sessions.values()];
    const closed = sessions.map((s) => new Promise<void>((resolve) => {
      if (s.ws.readyState === s.ws.CLOSED) return resolve();
      s.ws.once('close', () => resolve());
    }));
    for (const s of sessions) {
      s.sendEvent({ event: 'disconnect', code: WS_CLOSE.serviceRestart, reason: 'server restart' });
      s.closeWith(WS_CLOSE.serviceRestart, 'server restart');
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(closed), new Promise<void>((r) => (timer = setTimeout(r, drainMs)))]);
    if (timer) clearTimeout(timer);
    for (const s of this.sessions.values()) s.ws.terminate();
    this.heartbeatOn = false;
    this.disarmHeartbeat();
  }
}
