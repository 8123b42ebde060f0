/**
 * @module client/client
 * {@link AirwavesClient}: the SDK's public face, one connection to a hub. It composes three parts
 * and adds the user's commands: the connection's state machine (connect, reconnect, close:
 * ./connection.ts), the commands in flight and their replies (./commands.ts), and the
 * subscriptions it resumes after a reconnect (./subscription-registry.ts). The guarantees it
 * keeps are listed in ./index.ts.
 */
import type { ConnectResult, PublishResult } from '../protocol/index.js';
import { DEFAULT_RECONNECT } from './backoff.js';
import { AirwavesClientError } from './codes.js';
import { Commands, OPEN, type CommandBody } from './commands.js';
import { Connection } from './connection.js';
import { TypedEmitter } from './emitter.js';
import type { ServerMessageHandlers } from './frames.js';
import { DEFAULT_STARTING_RETRY } from './retry.js';
import { presenceSyncOf } from './presence-sync.js';
import type { Subscription } from './subscription.js';
import { SubscriptionRegistry } from './subscription-registry.js';
import type {
  AirwavesClientOptions,
  ClientEvents,
  ClientState,
  HistoryOptions,
  HistoryResult,
  PresenceResult,
  PublishOptions,
  ServerClock,
  SubscribeOptions,
  SubscriptionHandlers,
  WebSocketConstructor,
} from './types.js';

/** The connection to one hub: connect, reconnect, commands, subscriptions. */
export class AirwavesClient extends TypedEmitter<ClientEvents> {
  readonly url: string;
  readonly #commands: Commands;
  readonly #connection: Connection;
  readonly #subs: SubscriptionRegistry;

  /** Where each value the server sends goes. */
  readonly #incoming: ServerMessageHandlers = {
    reply: (m) => {
      const unmatched = this.#commands.onReply(m);
      if (unmatched) this.emit('error', unmatched);
    },
    event: (m) => {
      if (m.event === 'disconnect') this.#connection.serverNotice(m);
      else if (typeof m.channel === 'string') this.#subs.onEvent(m.channel, m);
    },
    item: (channel, item) => this.#subs.onItem(channel, item),
    error: (err) => this.emit('error', err),
  };

  constructor(options: AirwavesClientOptions) {
    super();
    this.url = options.url;
    const Ctor = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!Ctor) throw new TypeError('no global WebSocket: pass the `ws` package\'s WebSocket class as options.WebSocket');
    const timeoutMs = options.commandTimeoutMs ?? 10_000;
    const reconnect = options.reconnect === false ? false : { ...DEFAULT_RECONNECT, ...options.reconnect };
    const startingRetry = options.startingRetry === false ? false : { ...DEFAULT_STARTING_RETRY, ...options.startingRetry };
    this.#commands = new Commands(timeoutMs, () => this.#connection.socket, startingRetry);
    this.#subs = new SubscriptionRegistry(this.#commands, timeoutMs, startingRetry, {
      state: () => this.#connection.state,
      socket: () => this.#connection.socket,
      request: (cmd) => this.#request(cmd),
      drop: (code, reason) => this.#connection.drop(code, reason),
    });
    this.#connection = new Connection(
      { url: this.url, token: options.token, WebSocket: Ctor, timeoutMs, reconnect, commands: this.#commands, incoming: this.#incoming },
      {
        connected: () => this.#subs.resubscribe(),
        socketGone: () => this.#subs.resetForReconnect(),
        closing: (err) => this.#subs.closeAll(err),
        emit: (event, payload) => this.emit(event, payload),
      },
    );
  }

  get state(): ClientState {
    return this.#connection.state;
  }

  /** The last successful connect reply. */
  get connection(): ConnectResult | undefined {
    return this.#connection.connectResult;
  }

  /** The subscription for `channel`, if any. */
  subscription(channel: string): Subscription | undefined {
    return this.#subs.get(channel)?.sub;
  }

  get subscriptions(): Subscription[] {
    return this.#subs.subscriptions;
  }

  // -------------------------------------------------------------------------------- connection

  /**
   * Opens the connection and performs the connect handshake. Resolves with the connect reply;
   * while connected, resolves with the current one; while reconnecting, with the next one.
   */
  connect(): Promise<ConnectResult> {
    return this.#connection.connect();
  }

  /** Stops reconnecting, rejects everything outstanding with `closed` and closes the socket with 1000. */
  close(): void {
    this.#connection.close();
  }

  // -------------------------------------------------------------------------------- commands

  /** A user command: queued until connected, bounded by the command timeout. */
  #request<R>(cmd: CommandBody): Promise<R> {
    if (this.state === 'closed') return Promise.reject(new AirwavesClientError('closed', 'client is closed'));
    return this.#commands.request<R>(cmd, this.state === 'connected');
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
    const ws = this.#connection.socket;
    if (this.state !== 'connected' || !ws || ws.readyState !== OPEN) return false;
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
    return this.#subs.subscribe(channel, handlers, options);
  }

  /** Ends the subscription to `channel` (no-op when there is none). */
  unsubscribe(channel: string): Promise<void> {
    if (this.state === 'closed') return Promise.reject(new AirwavesClientError('closed', 'client is closed'));
    return this.#subs.unsubscribe(channel);
  }
}
