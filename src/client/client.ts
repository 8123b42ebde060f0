/**
 * @module client/client
 * {@link AirwavesClient}: one connection to a hub — connect and reconnect with backoff, the
 * commands, and the subscriptions it resumes after a reconnect. The guarantees it keeps are
 * listed in ./index.ts; subscriptions' ordering in ./subscription.ts, commands in ./commands.ts.
 */
import type { ConnectResult, PublishResult } from '../protocol/index.js';
import { DEFAULT_RECONNECT, backoffDelay } from './backoff.js';
import { AirwavesClientError, CLOSE_FORBIDDEN, CLOSE_UNAUTHORIZED, TERMINAL_CODES, closeError } from './codes.js';
import { Commands, OPEN, type CommandBody } from './commands.js';
import { TypedEmitter } from './emitter.js';
import { readServerMessage, type ServerMessageHandlers } from './frames.js';
import { DEFAULT_STARTING_RETRY, StartingRetry } from './retry.js';
import { presenceSyncOf } from './presence-sync.js';
import { SubEntry, attachHandlers, type Subscription, type SubscriptionHost } from './subscription.js';
import type {
  AirwavesClientOptions,
  ClientEvents,
  ClientState,
  HistoryOptions,
  HistoryResult,
  PresenceResult,
  PublishOptions,
  ReconnectOptions,
  ServerClock,
  StartingRetryOptions,
  SubscribeOptions,
  SubscriptionHandlers,
  TokenSource,
  WebSocketConstructor,
  WebSocketLike,
} from './types.js';

interface ConnectWaiter {
  resolve(result: ConnectResult): void;
  reject(err: AirwavesClientError): void;
}

/** The connection to one hub: connect, reconnect, commands, subscriptions. */
export class AirwavesClient extends TypedEmitter<ClientEvents> {
  readonly url: string;
  readonly #token: TokenSource | undefined;
  readonly #Ctor: WebSocketConstructor;
  readonly #timeoutMs: number;
  readonly #reconnect: ReconnectOptions | false;
  readonly #startingRetry: Readonly<Required<StartingRetryOptions>> | false;

  #state: ClientState = 'idle';
  #ws: WebSocketLike | null = null;
  readonly #commands: Commands;
  readonly #subs = new Map<string, SubEntry>();
  #waiters: ConnectWaiter[] = [];
  #connectResult: ConnectResult | undefined;
  /** True once a connection succeeded, until the client gives up: drops then trigger reconnects. */
  #retrying = false;
  #attempt = 0;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #serverNotice: { code: number; reason: string } | undefined;

  /** What each subscription's state calls back into. */
  readonly #subscriptionHost: SubscriptionHost = {
    transmit: (cmd, settle) => this.#commands.transmit(cmd, settle),
    resync: (entry) => this.#resync(entry),
    unsubscribe: (entry) => this.#unsubscribeEntry(entry),
    remove: (entry, reason) => this.#closeEntry(entry, reason),
    // A subscribe a starting app refused, sent again (SubEntry.retryLater) if still wanted and connected.
    resend: (entry) => void (entry.state === 'subscribing' && this.#subs.get(entry.channel) === entry && this.#state === 'connected' && this.#sendSubscribe(entry)),
  };
  /** Where each value the server sends goes. */
  readonly #incoming: ServerMessageHandlers = {
    reply: (m) => {
      const unmatched = this.#commands.onReply(m);
      if (unmatched) this.emit('error', unmatched);
    },
    event: (m) => this.#onEvent(m),
    item: (channel, item) => this.#subs.get(channel)?.onItem(item),
    error: (err) => this.emit('error', err),
  };

  constructor(options: AirwavesClientOptions) {
    super();
    this.url = options.url;
    this.#token = options.token;
    const Ctor = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!Ctor) throw new TypeError('no global WebSocket: pass the `ws` package\'s WebSocket class as options.WebSocket');
    this.#Ctor = Ctor;
    this.#timeoutMs = options.commandTimeoutMs ?? 10_000;
    this.#reconnect = options.reconnect === false ? false : { ...DEFAULT_RECONNECT, ...options.reconnect };
    this.#startingRetry = options.startingRetry === false ? false : { ...DEFAULT_STARTING_RETRY, ...options.startingRetry };
    this.#commands = new Commands(this.#timeoutMs, () => this.#ws, this.#startingRetry);
  }

  get state(): ClientState {
    return this.#state;
  }

  /** The last successful connect reply. */
  get connection(): ConnectResult | undefined {
    return this.#connectResult;
  }

  /** The subscription for `channel`, if any. */
  subscription(channel: string): Subscription | undefined {
    return this.#subs.get(channel)?.sub;
  }

  get subscriptions(): Subscription[] {
    return [...this.#subs.values()].map((e) => e.sub);
  }

  // -------------------------------------------------------------------------------- connection

  /**
   * Opens the connection and performs the connect handshake. Resolves with the connect reply;
   * while connected, resolves with the current one; while reconnecting, with the next one.
   */
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

  /** Stops reconnecting, rejects everything outstanding with `closed` and closes the socket with 1000. */
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
    for (const entry of [...this.#subs.values()]) this.#closeEntry(entry, err);
    this.#failInFlight(err);
    this.#commands.failQueued(err);
    if (ws) {
      try {
        ws.close(1000, 'client closed');
      } catch {
        /* already closing */
      }
    }
    if (wasConnected) this.emit('disconnected', { code: 1000, reason: 'client closed' });
  }

  #open(): void {
    this.#state = 'connecting';
    this.#serverNotice = undefined;
    let ws: WebSocketLike;
    try {
      ws = new this.#Ctor(this.url);
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
        this.#dropSocket(4000, 'connect timeout', new AirwavesClientError('timeout', `connect handshake took more than ${this.#timeoutMs} ms`));
      }
    }, this.#timeoutMs);
    ws.onopen = () => {
      if (this.#ws === ws) void this.#handshake(ws, handshakeTimer);
    };
    ws.onmessage = (event) => {
      if (this.#ws === ws) readServerMessage(event.data, this.#incoming);
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
    let token: string | undefined;
    try {
      token = typeof this.#token === 'function' ? await this.#token() : this.#token;
    } catch (err) {
      if (this.#ws !== ws) return;
      clearTimeout(handshakeTimer);
      this.#dropSocket(4000, 'token error', new AirwavesClientError('token_error', `token function failed: ${(err as Error)?.message ?? String(err)}`));
      return;
    }
    if (this.#ws !== ws) return;
    const cmd: CommandBody = token === undefined ? { op: 'connect' } : { op: 'connect', token };
    this.#commands.transmit(cmd, (err, result) => {
      clearTimeout(handshakeTimer);
      if (this.#ws !== ws) return; // the socket is gone; #socketGone settled everything
      if (err) {
        this.#dropSocket(4000, 'connect failed', err);
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
    for (const entry of this.#subs.values()) if (entry.state === 'pending') this.#sendSubscribe(entry);
    this.#commands.sendQueued();
    const waiters = this.#waiters;
    this.#waiters = [];
    this.emit('connected', result);
    for (const w of waiters) w.resolve(result);
  }

  /** Closes the current socket ourselves and handles it as gone right away. */
  #dropSocket(code: number, reason: string, err?: AirwavesClientError): void {
    const ws = this.#ws;
    if (!ws) return;
    try {
      ws.close(code, reason);
    } catch {
      /* already closing */
    }
    this.#socketGone(code, reason, err);
  }

  /** The current socket closed (or failed to open). `err` is a handshake failure, when known. */
  #socketGone(code: number, reason: string, err?: AirwavesClientError): void {
    this.#ws = null;
    const wasConnected = this.#state === 'connected';
    if (this.#serverNotice && (code === 1005 || code === 1006)) ({ code, reason } = this.#serverNotice);
    this.#serverNotice = undefined;
    // Server-side subscriptions died with the socket: resubscribe on the next connection.
    for (const entry of this.#subs.values()) entry.resetForReconnect();
    this.#failInFlight(closeError(code, reason));
    if (this.#state === 'closed') return;
    if (wasConnected) this.emit('disconnected', { code, reason });

    const failure = err ?? closeError(code, reason);
    const terminal = code === CLOSE_UNAUTHORIZED || code === CLOSE_FORBIDDEN || TERMINAL_CODES.has(failure.code);
    if (this.#reconnect && this.#retrying && !terminal) {
      if (err) this.emit('error', err);
      this.#attempt++;
      const delayMs = backoffDelay(this.#attempt, this.#reconnect);
      this.#state = 'reconnecting';
      this.#reconnectTimer = setTimeout(() => {
        this.#reconnectTimer = undefined;
        if (this.#state === 'reconnecting') this.#open();
      }, delayMs);
      this.emit('reconnecting', { attempt: this.#attempt, delayMs });
      return;
    }
    // Give up: the first attempt failed, the server refused us, or reconnecting is off.
    const wasRetrying = this.#retrying;
    this.#state = 'idle';
    this.#retrying = false;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.reject(failure);
    this.#commands.failQueued(failure);
    if (!wasConnected && wasRetrying) this.emit('error', failure);
  }

  #failInFlight(err: AirwavesClientError): void {
    this.#commands.failInFlight(err);
    if (this.#state === 'closed') {
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const w of waiters) w.reject(err);
    }
  }

  // -------------------------------------------------------------------------------- commands

  /** A user command: queued until connected, bounded by the command timeout. */
  #request<R>(cmd: CommandBody): Promise<R> {
    if (this.#state === 'closed') return Promise.reject(new AirwavesClientError('closed', 'client is closed'));
    return this.#commands.request<R>(cmd, this.#state === 'connected');
  }

  publish(channel: string, data: unknown, options: PublishOptions = {}): Promise<PublishResult> {
    const cmd: CommandBody = options.key === undefined ? { op: 'publish', channel, data } : { op: 'publish', channel, data, key: options.key };
    return this.#request<PublishResult>(cmd);
  }

  /**
   * Sends a signal into an input-only namespace (typing reports, cursor pings): no reply and no
   * promise, so a signal per keystroke costs one frame each way less than `publish`. Returns false
   * when not connected (the signal is not queued: it would be stale by the time the client is
   * back). A refusal by the server arrives as an `error` event naming the channel.
   */
  send(channel: string, data: unknown): boolean {
    const ws = this.#ws;
    if (this.#state !== 'connected' || !ws || ws.readyState !== OPEN) return false;
    this.#commands.sendSignal(ws, channel, data);
    return true;
  }

  /** Who is subscribed; read while subscribed, it is also the set the subscription keeps right (./presence-sync.ts). */
  presence(channel: string): Promise<PresenceResult> {
    const entry = this.#subs.get(channel);
    const read = () => this.#request<PresenceResult>({ op: 'presence', channel });
    return entry?.state === 'subscribed' ? presenceSyncOf(entry.sub, read).read() : read();
  }

  async history(channel: string, options: HistoryOptions = {}): Promise<HistoryResult> {
    const cmd: CommandBody = options.limit === undefined ? { op: 'history', channel } : { op: 'history', channel, limit: options.limit };
    const result = await this.#request<HistoryResult>(cmd);
    const publications = (result.publications ?? []).map((p) => ({ ...p, channel: result.channel ?? channel }));
    return { ...result, publications };
  }

  /** Round trip to the hub; resolves with the round-trip time in milliseconds. */
  async ping(): Promise<number> {
    return (await this.serverClock()).rttMs;
  }

  /**
   * One `ping` read as a clock sample: `offsetMs` is the hub's clock minus ours (the hub's time
   * against the midpoint of the round trip), good to about half of `rttMs`. Take the sample with
   * the smallest `rttMs` of a few for a better estimate.
   */
  async serverClock(): Promise<ServerClock> {
    const start = Date.now();
    const { ts } = await this.#request<{ ts: number }>({ op: 'ping' });
    const end = Date.now();
    return { offsetMs: ts - (start + end) / 2, rttMs: end - start };
  }

  // -------------------------------------------------------------------------------- subscriptions

  /**
   * Subscribes to `channel` and returns the Subscription at once (await `sub.ready` for the
   * reply). Works before connect(): the subscribe is sent once connected. Subscribing again to a
   * channel returns the existing subscription, with `handlers` added (its options stay as they were).
   * `options` choose recovery or the live edge, see {@link SubscribeOptions}.
   */
  subscribe(channel: string, handlers: SubscriptionHandlers = {}, options: SubscribeOptions = {}): Subscription {
    const existing = this.#subs.get(channel);
    if (existing) {
      attachHandlers(existing.sub, handlers);
      return existing.sub;
    }
    const entry = new SubEntry(channel, this.#subscriptionHost, options, new StartingRetry(this.#startingRetry));
    attachHandlers(entry.sub, handlers);
    if (this.#state === 'closed') {
      entry.state = 'closed';
      entry.rejectReady(new AirwavesClientError('closed', 'client is closed'));
      return entry.sub;
    }
    this.#subs.set(channel, entry);
    if (options.presence) presenceSyncOf(entry.sub, () => this.#request<PresenceResult>({ op: 'presence', channel })).syncOnceReady();
    this.#armReadyTimer(entry);
    if (this.#state === 'connected') this.#sendSubscribe(entry);
    return entry.sub;
  }

  /** Bounds the first subscribe (each try of it, when a starting app refused the one before). */
  #armReadyTimer(entry: SubEntry): void {
    clearTimeout(entry.readyTimer);
    entry.readyTimer = setTimeout(() => {
      if (entry.readySettled || entry.state === 'closed') return;
      const err = new AirwavesClientError('timeout', `subscribe to "${entry.channel}" got no reply within ${this.#timeoutMs} ms`);
      const onServer = entry.state === 'subscribing' && entry.inflightId !== undefined;
      if (entry.inflightId !== undefined) this.#commands.forget(entry.inflightId);
      this.#closeEntry(entry, err);
      // The server may still subscribe us later: undo it (commands are processed in order).
      if (onServer && this.#state === 'connected') this.#commands.transmit({ op: 'unsubscribe', channel: entry.channel }, () => {});
      entry.sub.emit('error', err);
    }, this.#timeoutMs);
  }

  /** Ends the subscription to `channel` (no-op when there is none). */
  unsubscribe(channel: string): Promise<void> {
    if (this.#state === 'closed') return Promise.reject(new AirwavesClientError('closed', 'client is closed'));
    const entry = this.#subs.get(channel);
    return entry ? this.#unsubscribeEntry(entry) : Promise.resolve();
  }

  async #unsubscribeEntry(entry: SubEntry): Promise<void> {
    if (entry.state === 'closed' || this.#subs.get(entry.channel) !== entry) return;
    const onServer = entry.state === 'subscribing' || entry.state === 'subscribed';
    this.#closeEntry(entry, new AirwavesClientError('unsubscribed', `unsubscribed from "${entry.channel}"`));
    if (!onServer || this.#state !== 'connected') return; // the server forgot us with the old socket
    try {
      await this.#request({ op: 'unsubscribe', channel: entry.channel });
    } catch (err) {
      const code = (err as AirwavesClientError).code;
      if (code !== 'not_subscribed' && code !== 'disconnected') throw err;
    }
  }

  #closeEntry(entry: SubEntry, reason: AirwavesClientError): void {
    if (this.#subs.get(entry.channel) === entry) this.#subs.delete(entry.channel);
    entry.close(reason);
  }

  /** Sends subscribe for `entry` on the connected socket (see SubEntry.subscribe), bounded when it is a resubscribe. */
  #sendSubscribe(entry: SubEntry, afterGap = false): void {
    const resubscribe = entry.readySettled;
    // After a starting app's refusal, each try of a first subscribe is bounded like the first one.
    if (!resubscribe && entry.retry.attempts > 0) this.#armReadyTimer(entry);
    entry.subscribe(afterGap);
    this.#watchResubscribe(entry, resubscribe);
  }

  /**
   * The first subscribe is bounded by sub.ready's timer. A resubscribe that gets no reply means a
   * broken connection: reconnect, which resubscribes again.
   */
  #watchResubscribe(entry: SubEntry, resubscribe: boolean): void {
    if (!resubscribe) return;
    const ws = this.#ws;
    entry.resubscribeTimer = setTimeout(() => {
      if (entry.state !== 'subscribing' || entry.inflightId === undefined || this.#ws !== ws) return;
      this.#commands.forget(entry.inflightId);
      entry.inflightId = undefined;
      const err = new AirwavesClientError('timeout', `resubscribe to "${entry.channel}" got no reply within ${this.#timeoutMs} ms`);
      entry.sub.emit('error', err);
      this.#dropSocket(4000, 'resubscribe timeout');
    }, this.#timeoutMs);
  }

  /** After a gap: unsubscribe, then subscribe again from lastOffset (or at the live edge, see SubEntry.nextStart). */
  #resync(entry: SubEntry): void {
    if (this.#state !== 'connected' || entry.state !== 'subscribed') return;
    this.#commands.transmit({ op: 'unsubscribe', channel: entry.channel }, () => {});
    this.#sendSubscribe(entry, true);
  }

  // -------------------------------------------------------------------------------- incoming

  #onEvent(m: Record<string, unknown>): void {
    if (m.event === 'disconnect') {
      this.#serverNotice = { code: typeof m.code === 'number' ? m.code : 1006, reason: typeof m.reason === 'string' ? m.reason : '' };
      return;
    }
    if (typeof m.channel === 'string') this.#subs.get(m.channel)?.onEvent(m);
  }
}
