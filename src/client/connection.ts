/**
 * @module client/connection
 * The connection's state machine: one socket at a time, the connect handshake on it, reconnecting
 * with jittered backoff after an unexpected close, giving up, and close(). The states
 * (`ClientState`): idle → connecting → connected; a drop once connected → reconnecting →
 * connecting …; a failed first attempt, a refusal (4001/4003) or `reconnect: false` → idle, from
 * where connect() starts again; close() → closed, for good. What the client does at each edge
 * (resubscribe, release queued commands, close subscriptions) it is told through
 * {@link ConnectionHost}; the order of those calls is part of the SDK's guarantees (./index.ts).
 */
import type { ConnectResult } from '../protocol/index.js';
import { backoffDelay } from './backoff.js';
import { AirwavesClientError, CLOSE_FORBIDDEN, CLOSE_UNAUTHORIZED, TERMINAL_CODES, closeError } from './codes.js';
import type { CommandBody, Commands } from './commands.js';
import type { TypedEmitter } from './emitter.js';
import { readServerMessage, type ServerMessageHandlers } from './frames.js';
import type { ClientEvents, ClientState, ReconnectOptions, TokenSource, WebSocketConstructor, WebSocketLike } from './types.js';

/** What the connection tells its client, and the client's events it emits. */
export interface ConnectionHost extends Pick<TypedEmitter<ClientEvents>, 'emit'> {
  /** Connected, before queued commands are sent and `connected` is emitted: resubscribe. */
  connected(): void;
  /** The socket went, so the server forgot our subscriptions; runs before in-flight commands fail. */
  socketGone(): void;
  /** close() was called; runs before anything in flight fails (subscriptions close quietly first). */
  closing(err: AirwavesClientError): void;
}

export interface ConnectionOptions {
  url: string;
  token: TokenSource | undefined;
  WebSocket: WebSocketConstructor;
  /** Bounds the connect handshake, as it bounds each command. */
  timeoutMs: number;
  reconnect: ReconnectOptions | false;
  /** The commands written on this connection's socket. */
  commands: Commands;
  /** Where each value the server sends goes. */
  incoming: ServerMessageHandlers;
}

interface ConnectWaiter {
  resolve(result: ConnectResult): void;
  reject(err: AirwavesClientError): void;
}

/** One socket at a time to the hub, and the decision to reconnect or give up when it goes. */
export class Connection {
  #state: ClientState = 'idle';
  #ws: WebSocketLike | null = null;
  #waiters: ConnectWaiter[] = [];
  #connectResult: ConnectResult | undefined;
  /** True once a connection succeeded, until the client gives up: drops then trigger reconnects. */
  #retrying = false;
  #attempt = 0;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  /** The server's `disconnect` notice: the code and reason of a close that arrives without them. */
  #serverNotice: { code: number; reason: string } | undefined;

  constructor(
    private readonly options: ConnectionOptions,
    private readonly host: ConnectionHost,
  ) {}

  get state(): ClientState {
    return this.#state;
  }

  /** The socket commands are written on now (null while there is none). */
  get socket(): WebSocketLike | null {
    return this.#ws;
  }

  /** The last successful connect reply. */
  get connectResult(): ConnectResult | undefined {
    return this.#connectResult;
  }

  /** See AirwavesClient.connect. */
  connect(): Promise<ConnectResult> {
    if (this.#state === 'closed') return Promise.reject(new AirwavesClientError('closed', 'client is closed'));
    if (this.#state === 'connected' && this.#connectResult) return Promise.resolve(this.#connectResult);
    const promise = new Promise<ConnectResult>((resolve, reject) => this.#waiters.push({ resolve, reject }));
    if (this.#state === 'idle') {
      this.#retrying = false;
      this.#attempt = 0;
      this.#open();
    }
    return promise;
  }

  /** See AirwavesClient.close. */
  close(): void {
    if (this.#state === 'closed') return;
    const wasConnected = this.#state === 'connected';
    this.#state = 'closed';
    this.#retrying = false;
    if (this.#reconnectTimer !== undefined) clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
    const ws = this.#ws;
    this.#ws = null;
    const err = new AirwavesClientError('closed', 'client closed');
    this.host.closing(err);
    this.#failInFlight(err);
    this.options.commands.failQueued(err);
    if (ws) {
      try {
        ws.close(1000, 'client closed');
      } catch {
        /* already closing */
      }
    }
    if (wasConnected) this.host.emit('disconnected', { code: 1000, reason: 'client closed' });
  }

  /** The server announced it is closing the socket (`disconnect` event): remember why. */
  serverNotice(m: Record<string, unknown>): void {
    this.#serverNotice = { code: typeof m.code === 'number' ? m.code : 1006, reason: typeof m.reason === 'string' ? m.reason : '' };
  }

  /** Closes the current socket ourselves and handles it as gone right away. */
  drop(code: number, reason: string, err?: AirwavesClientError): void {
    const ws = this.#ws;
    if (!ws) return;
    try {
      ws.close(code, reason);
    } catch {
      /* already closing */
    }
    this.#socketGone(code, reason, err);
  }

  #open(): void {
    this.#state = 'connecting';
    this.#serverNotice = undefined;
    let ws: WebSocketLike;
    try {
      ws = new this.options.WebSocket(this.options.url);
    } catch (err) {
      this.#socketGone(1006, 'cannot open socket', new AirwavesClientError('disconnected', `cannot open socket: ${(err as Error).message}`));
      return;
    }
    this.#ws = ws;
    try {
      ws.binaryType = 'arraybuffer';
    } catch {
      /* implementations without binaryType deliver Buffers, which toBytes handles */
    }
    const handshakeTimer = setTimeout(() => {
      if (this.#ws === ws && this.#state === 'connecting') {
        this.drop(4000, 'connect timeout', new AirwavesClientError('timeout', `connect handshake took more than ${this.options.timeoutMs} ms`));
      }
    }, this.options.timeoutMs);
    ws.onopen = () => {
      if (this.#ws === ws) void this.#handshake(ws, handshakeTimer);
    };
    ws.onmessage = (event) => {
      if (this.#ws === ws) readServerMessage(event.data, this.options.incoming);
    };
    ws.onclose = (event) => {
      if (this.#ws !== ws) return;
      clearTimeout(handshakeTimer);
      this.#socketGone(event.code, event.reason ?? '');
    };
    // A close event always follows an error; keep a listener so `ws` never throws an unhandled 'error'.
    ws.onerror = () => {};
  }

  async #handshake(ws: WebSocketLike, handshakeTimer: ReturnType<typeof setTimeout>): Promise<void> {
    const source = this.options.token;
    let token: string | undefined;
    try {
      token = typeof source === 'function' ? await source() : source;
    } catch (err) {
      if (this.#ws !== ws) return;
      clearTimeout(handshakeTimer);
      this.drop(4000, 'token error', new AirwavesClientError('token_error', `token function failed: ${(err as Error)?.message ?? String(err)}`));
      return;
    }
    if (this.#ws !== ws) return;
    const cmd: CommandBody = token === undefined ? { op: 'connect' } : { op: 'connect', token };
    this.options.commands.transmit(cmd, (err, result) => {
      clearTimeout(handshakeTimer);
      if (this.#ws !== ws) return; // the socket is gone; #socketGone settled everything
      if (err) {
        this.drop(4000, 'connect failed', err);
        return;
      }
      this.#onConnected(result as ConnectResult);
    });
  }

  #onConnected(result: ConnectResult): void {
    this.#state = 'connected';
    this.#attempt = 0;
    this.#retrying = true;
    this.#connectResult = result;
    this.host.connected();
    this.options.commands.sendQueued();
    const waiters = this.#waiters;
    this.#waiters = [];
    this.host.emit('connected', result);
    for (const w of waiters) w.resolve(result);
  }

  /** The current socket closed (or failed to open). `err` is a handshake failure, when known. */
  #socketGone(code: number, reason: string, err?: AirwavesClientError): void {
    this.#ws = null;
    const wasConnected = this.#state === 'connected';
    if (this.#serverNotice && (code === 1005 || code === 1006)) ({ code, reason } = this.#serverNotice);
    this.#serverNotice = undefined;
    this.host.socketGone();
    this.#failInFlight(closeError(code, reason));
    if (this.#state === 'closed') return;
    if (wasConnected) this.host.emit('disconnected', { code, reason });

    const failure = err ?? closeError(code, reason);
    const terminal = code === CLOSE_UNAUTHORIZED || code === CLOSE_FORBIDDEN || TERMINAL_CODES.has(failure.code);
    const reconnect = this.options.reconnect;
    if (reconnect && this.#retrying && !terminal) {
      if (err) this.host.emit('error', err);
      this.#attempt++;
      const delayMs = backoffDelay(this.#attempt, reconnect);
      this.#state = 'reconnecting';
      this.#reconnectTimer = setTimeout(() => {
        this.#reconnectTimer = undefined;
        if (this.#state === 'reconnecting') this.#open();
      }, delayMs);
      this.host.emit('reconnecting', { attempt: this.#attempt, delayMs });
      return;
    }
    // Give up: the first attempt failed, the server refused us, or reconnecting is off.
    const wasRetrying = this.#retrying;
    this.#state = 'idle';
    this.#retrying = false;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.reject(failure);
    this.options.commands.failQueued(failure);
    if (!wasConnected && wasRetrying) this.host.emit('error', failure);
  }

  #failInFlight(err: AirwavesClientError): void {
    this.options.commands.failInFlight(err);
    if (this.#state === 'closed') {
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const w of waiters) w.reject(err);
    }
  }
}
