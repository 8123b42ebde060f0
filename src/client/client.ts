/**
 * @module client
 * The Airwaves client SDK (protocol v1) for browsers and Node.
 *
 * Browsers use the global `WebSocket`; Node 20 has none, so pass the `ws` package's class:
 *
 * ```ts
 * import WebSocket from 'ws';
 * const client = new AirwavesClient({ url: 'ws://localhost:8080/ws', token: () => getToken(), WebSocket });
 * await client.connect();
 * const sub = client.subscribe('chat:lobby', { publication: (p) => console.log(p.offset, p.data) });
 * await sub.ready;
 * await client.publish('chat:lobby', { text: 'hi' });
 * ```
 *
 * Guarantees and behaviour:
 * - Every command gets a unique id, increasing in the order frames are written, and its promise
 *   settles with the reply, or rejects with an {@link AirwavesClientError} whose `code` is the
 *   server's error code, `timeout` (no reply within `commandTimeoutMs`), `disconnected` (the socket
 *   closed with the command in flight) or `closed` (after {@link AirwavesClient.close}).
 * - Commands issued while the client is not connected (connect() not yet called, handshake in
 *   progress, or waiting to reconnect) wait for the connection, bounded by their timeout.
 * - A subscription delivers each offset at most once and in increasing order. Pushes that arrive
 *   before a (re)subscribe reply are held back and released, de-duplicated, after the reply and
 *   the replay it announces, so a replay always fills a hole in order.
 * - After an unexpected close the client reconnects with jittered exponential backoff (not after
 *   `close()`, and not after close codes 4001/4003), re-sends connect (re-evaluating a token
 *   function) and resubscribes every subscription with `since: {offset: lastOffset, epoch}`. The
 *   subscription emits `recovered` with the server's verdict; on `recovered: false` messages
 *   were lost (or the stream was reset) and the app should refetch its state.
 * - A `gap` notice (the hub dropped messages for this slow client) resubscribes that channel
 *   from `lastOffset`, so the replay fills the gap.
 * - The first connect() rejects when that attempt fails; automatic reconnection starts only once a
 *   connection has been established. A client that gave up (4001/4003, or `reconnect: false`)
 *   can be revived by calling connect() again; its subscriptions resume from their positions.
 *
 * No Node-only modules are used: the emitter is a small typed one (not node:events), binary frames
 * are read as ArrayBuffer/Uint8Array.
 */
import {
  decodeBinaryFrame,
  type ConnectResult,
  type PresenceEntry,
  type PublishResult,
  type StreamPosition,
  type SubscribeResult,
} from '../protocol/index.js';

// ------------------------------------------------------------------------------------------------
// Errors

/** Rejection reason of every client promise and payload of `error` events. */
export class AirwavesClientError extends Error {
  /**
   * The server's error code (e.g. `unauthorized`, `forbidden`, `rate_limited`), or one of the
   * client's own: `timeout`, `disconnected`, `closed`, `unsubscribed`, `token_error`, `bad_json`,
   * `bad_frame`.
   */
  readonly code: string;
  /** WebSocket close code, when the error comes from a closed connection. */
  readonly closeCode?: number;

  constructor(code: string, message: string, closeCode?: number) {
    super(message);
    this.name = 'AirwavesClientError';
    this.code = code;
    if (closeCode !== undefined) this.closeCode = closeCode;
  }
}

// ------------------------------------------------------------------------------------------------
// Tiny typed emitter (browser-safe; node:events is not available in browsers)

type Listener<T> = (payload: T) => void;

interface ListenerRecord {
  fn: Listener<never>;
  once: boolean;
}

/**
 * A minimal typed event emitter. Unlike Node's EventEmitter an `error` event without listeners is
 * ignored, and a listener that throws does not disturb the other listeners or the client: the
 * exception is re-thrown asynchronously (like EventTarget's error reporting).
 */
export class TypedEmitter<Events extends object> {
  readonly #listeners = new Map<keyof Events, ListenerRecord[]>();

  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): this {
    return this.#add(event, listener, false);
  }

  once<K extends keyof Events>(event: K, listener: Listener<Events[K]>): this {
    return this.#add(event, listener, true);
  }

  off<K extends keyof Events>(event: K, listener: Listener<Events[K]>): this {
    const list = this.#listeners.get(event);
    if (!list) return this;
    const i = list.findIndex((r) => r.fn === listener);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.#listeners.delete(event);
    return this;
  }

  listenerCount<K extends keyof Events>(event: K): number {
    return this.#listeners.get(event)?.length ?? 0;
  }

  /** Calls every listener of `event` in registration order. Returns whether there were any. */
  emit<K extends keyof Events>(event: K, payload: Events[K]): boolean {
    const list = this.#listeners.get(event);
    if (!list || list.length === 0) return false;
    for (const record of [...list]) {
      if (record.once) {
        const i = list.indexOf(record);
        if (i >= 0) list.splice(i, 1);
        if (list.length === 0) this.#listeners.delete(event);
      }
      try {
        (record.fn as Listener<Events[K]>)(payload);
      } catch (err) {
        setTimeout(() => {
          throw err;
        }, 0);
      }
    }
    return true;
  }

  #add<K extends keyof Events>(event: K, listener: Listener<Events[K]>, once: boolean): this {
    let list = this.#listeners.get(event);
    if (!list) this.#listeners.set(event, (list = []));
    list.push({ fn: listener as Listener<never>, once });
    return this;
  }
}

// ------------------------------------------------------------------------------------------------
// Backoff

export interface ReconnectOptions {
  /** Delay before the first reconnection attempt (before jitter). Default 250. */
  initialDelayMs?: number;
  /** Upper bound of every delay. Default 10 000. */
  maxDelayMs?: number;
  /** Growth per attempt. Default 2. */
  factor?: number;
  /** Fraction (0..1) of the delay that is randomised away. Default 0.5. */
  jitter?: number;
}

export const DEFAULT_RECONNECT: Readonly<Required<ReconnectOptions>> = Object.freeze({
  initialDelayMs: 250,
  maxDelayMs: 10_000,
  factor: 2,
  jitter: 0.5,
});

/**
 * Delay before reconnection attempt `attempt` (1 = first): `base = min(max, initial * factor^(attempt-1))`,
 * then `base * (1 - jitter * random())`, so the result lies in `[base * (1 - jitter), base]` and
 * never exceeds `maxDelayMs`. `random` must return a number in [0, 1) (it is clamped to [0, 1]).
 */
export function backoffDelay(attempt: number, opts: ReconnectOptions = {}, random: () => number = Math.random): number {
  const initial = Math.max(0, opts.initialDelayMs ?? DEFAULT_RECONNECT.initialDelayMs);
  const max = Math.max(0, opts.maxDelayMs ?? DEFAULT_RECONNECT.maxDelayMs);
  const factor = Math.max(1, opts.factor ?? DEFAULT_RECONNECT.factor);
  const jitter = Math.min(1, Math.max(0, opts.jitter ?? DEFAULT_RECONNECT.jitter));
  const n = Number.isFinite(attempt) ? Math.max(1, Math.floor(attempt)) : 1;
  const base = Math.min(max, initial * factor ** (n - 1));
  const r = Math.min(1, Math.max(0, random()));
  return Math.round(base * (1 - jitter * r));
}

// ------------------------------------------------------------------------------------------------
// WebSocket abstraction

/** A callback type that accepts both the DOM's and the `ws` package's event objects. */
type Handler<E> = { bivarianceHack(event: E): void }['bivarianceHack'];

/** The subset of the WebSocket API the client uses; the DOM WebSocket and `ws` both satisfy it. */
export interface WebSocketLike {
  readonly readyState: number;
  binaryType: string;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: Handler<unknown> | null;
  onmessage: Handler<{ data: unknown }> | null;
  onclose: Handler<{ code: number; reason: string }> | null;
  onerror: Handler<unknown> | null;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

const OPEN = 1;

// ------------------------------------------------------------------------------------------------
// Public types

export type TokenSource = string | (() => Promise<string | undefined> | string | undefined);

export interface AirwavesClientOptions {
  /** Full WebSocket URL of the hub, e.g. `wss://example.com/ws`. */
  url: string;
  /** Token sent with the connect command; a function is called again on every (re)connection. */
  token?: TokenSource;
  /** WebSocket implementation; defaults to the global `WebSocket` (pass `ws`'s class in Node 20). */
  WebSocket?: WebSocketConstructor;
  /** Per-command timeout, also bounding the connect handshake and `sub.ready`. Default 10 000. */
  commandTimeoutMs?: number;
  /** Backoff settings, or `false` to never reconnect automatically. */
  reconnect?: ReconnectOptions | false;
}

export type ClientState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'closed';

export interface ClientEvents {
  /** A connection (first or re-established) completed its handshake. */
  connected: ConnectResult;
  /** An established connection closed. */
  disconnected: { code: number; reason: string };
  /** A reconnection attempt is scheduled in `delayMs`. */
  reconnecting: { attempt: number; delayMs: number };
  /** Errors without a promise to reject: unparseable frames, errors without an id, failed reconnects. */
  error: AirwavesClientError;
}

/** A JSON message on a channel. */
export interface Publication {
  channel: string;
  offset: number;
  ts: number;
  data: unknown;
  key?: string;
}

/** A binary message on a media channel; `payload` is a view into the received frame. */
export interface BinaryPublication {
  channel: string;
  offset: number;
  ts: number;
  payload: Uint8Array;
}

export interface PresenceEvent {
  channel: string;
  info: PresenceEntry;
}

export interface RecoveredEvent {
  /** True when every message missed since `lastOffset` is replayed right after this event. */
  recovered: boolean;
  /** Number of messages being replayed. */
  replayed: number;
}

export interface SubscriptionEvents {
  publication: Publication;
  binary: BinaryPublication;
  join: PresenceEvent;
  leave: PresenceEvent;
  /** After every resubscription (reconnect or gap). `recovered: false` means: refetch state. */
  recovered: RecoveredEvent;
  /** The server ended the subscription. */
  unsubscribed: { reason: string };
  /** The subscription failed (it is then closed) or a resubscription timed out. */
  error: AirwavesClientError;
}

export type SubscriptionHandlers = { [K in keyof SubscriptionEvents]?: Listener<SubscriptionEvents[K]> };

export type SubscriptionState = 'pending' | 'subscribing' | 'subscribed' | 'closed';

export interface PresenceResult {
  channel: string;
  clients: PresenceEntry[];
}

export interface HistoryResult {
  channel: string;
  epoch: string;
  /** Newest offset in the channel. */
  offset: number;
  /** Oldest first. */
  publications: Publication[];
}

export interface HistoryOptions {
  limit?: number;
}

export interface PublishOptions {
  /** Conflation key: under load the hub may keep only the newest message per key. */
  key?: string;
}

// ------------------------------------------------------------------------------------------------
// Subscription

type Item = { kind: 'publication'; value: Publication } | { kind: 'binary'; value: BinaryPublication };

/** Internal per-subscription state; the public Subscription reads through it. */
interface SubEntry {
  readonly channel: string;
  sub: Subscription;
  state: SubscriptionState;
  lastOffset: number | undefined;
  epoch: string | undefined;
  /** Set after a reset to a new epoch with a replay: deliver the next offset whatever it is. */
  acceptAny: boolean;
  /** Pushes received while a (re)subscribe is in flight, or awaiting the end of a replay. */
  buffer: Item[] | null;
  bufferOverflow: boolean;
  /** Replayed messages still expected after the last subscribe reply. */
  replayRemaining: number;
  /** Id of the subscribe command in flight on the current socket. */
  inflightId: number | undefined;
  readySettled: boolean;
  resolveReady: (result: SubscribeResult) => void;
  rejectReady: (err: AirwavesClientError) => void;
  readyTimer: ReturnType<typeof setTimeout> | undefined;
}

const MAX_BUFFERED = 10_000;

/** One channel subscription. Created by {@link AirwavesClient.subscribe}. */
export class Subscription extends TypedEmitter<SubscriptionEvents> {
  /** Resolves with the first subscribe reply; rejects when the subscription fails or times out. */
  readonly ready: Promise<SubscribeResult>;
  readonly #entry: SubEntry;
  readonly #unsubscribe: () => Promise<void>;

  /** @internal Use AirwavesClient.subscribe. */
  constructor(entry: SubEntry, ready: Promise<SubscribeResult>, unsubscribe: () => Promise<void>) {
    super();
    this.#entry = entry;
    this.ready = ready;
    this.#unsubscribe = unsubscribe;
  }

  get channel(): string {
    return this.#entry.channel;
  }

  /** Offset of the last delivered message (or the stream position at subscription). */
  get lastOffset(): number | undefined {
    return this.#entry.lastOffset;
  }

  /** Epoch of the channel's stream; offsets are only comparable within one epoch. */
  get epoch(): string | undefined {
    return this.#entry.epoch;
  }

  /** The position a resubscription resumes from. */
  get position(): StreamPosition | undefined {
    const { lastOffset, epoch } = this.#entry;
    return lastOffset === undefined || epoch === undefined ? undefined : { offset: lastOffset, epoch };
  }

  get state(): SubscriptionState {
    return this.#entry.state;
  }

  /** Same as `client.unsubscribe(channel)` for this subscription. */
  unsubscribe(): Promise<void> {
    return this.#unsubscribe();
  }
}

// ------------------------------------------------------------------------------------------------
// Client

/** How many recent `send` ids are remembered to name the channel of a refusal. */
const MAX_TRACKED_SENDS = 256;

type CommandBody =
  | { op: 'connect'; token?: string }
  | { op: 'subscribe'; channel: string; since?: StreamPosition }
  | { op: 'unsubscribe'; channel: string }
  | { op: 'publish'; channel: string; data: unknown; key?: string }
  | { op: 'send'; channel: string; data: unknown }
  | { op: 'presence'; channel: string }
  | { op: 'history'; channel: string; limit?: number }
  | { op: 'ping' };

/** Settles a command: an error, or null and the reply's result. */
type Settle = (err: AirwavesClientError | null, result?: unknown) => void;

interface QueuedCommand {
  send(): void;
  fail(err: AirwavesClientError): void;
}

interface ConnectWaiter {
  resolve(result: ConnectResult): void;
  reject(err: AirwavesClientError): void;
}

function closeError(code: number, reason: string): AirwavesClientError {
  const detail = `connection closed (${code}${reason ? `: ${reason}` : ''})`;
  if (code === 4001) return new AirwavesClientError('unauthorized', detail, code);
  if (code === 4003) return new AirwavesClientError('forbidden', detail, code);
  return new AirwavesClientError('disconnected', detail, code);
}

function isArrayBuffer(v: unknown): v is ArrayBuffer {
  return v instanceof ArrayBuffer || Object.prototype.toString.call(v) === '[object ArrayBuffer]';
}

/** Normalises a binary message (ArrayBuffer in browsers, Buffer/ArrayBuffer/fragments in ws). */
function toBytes(data: unknown): Uint8Array | undefined {
  if (isArrayBuffer(data)) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (Array.isArray(data) && data.every((d) => ArrayBuffer.isView(d))) {
    const parts = data as ArrayBufferView[];
    const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
    let at = 0;
    for (const p of parts) {
      out.set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), at);
      at += p.byteLength;
    }
    return out;
  }
  return undefined;
}

const TERMINAL_CODES = new Set(['unauthorized', 'forbidden']);

export class AirwavesClient extends TypedEmitter<ClientEvents> {
  readonly url: string;
  readonly #token: TokenSource | undefined;
  readonly #Ctor: WebSocketConstructor;
  readonly #timeoutMs: number;
  readonly #reconnect: ReconnectOptions | false;

  #state: ClientState = 'idle';
  #ws: WebSocketLike | null = null;
  #nextId = 1;
  readonly #pending = new Map<number, Settle>();
  /** Channels of recent `send`s by id (accepted ones get no reply): a refusal can name its channel. */
  readonly #sends = new Map<number, string>();
  #queue: QueuedCommand[] = [];
  readonly #subs = new Map<string, SubEntry>();
  #waiters: ConnectWaiter[] = [];
  #connectResult: ConnectResult | undefined;
  /** True once a connection succeeded, until the client gives up: drops then trigger reconnects. */
  #retrying = false;
  #attempt = 0;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #serverNotice: { code: number; reason: string } | undefined;

  constructor(options: AirwavesClientOptions) {
    super();
    this.url = options.url;
    this.#token = options.token;
    const Ctor = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!Ctor) throw new TypeError('no global WebSocket: pass the `ws` package\'s WebSocket class as options.WebSocket');
    this.#Ctor = Ctor;
    this.#timeoutMs = options.commandTimeoutMs ?? 10_000;
    this.#reconnect = options.reconnect === false ? false : { ...DEFAULT_RECONNECT, ...options.reconnect };
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
    this.#failQueued(err);
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
      if (this.#ws === ws) this.#onMessage(event.data);
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
    this.#transmit(cmd, (err, result) => {
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
    const queued = this.#queue;
    this.#queue = [];
    for (const q of queued) q.send();
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
    for (const entry of this.#subs.values()) {
      if (entry.state === 'subscribing' || entry.state === 'subscribed') {
        entry.state = 'pending';
        entry.inflightId = undefined;
        entry.buffer = null;
        entry.bufferOverflow = false;
        entry.replayRemaining = 0;
      }
    }
    this.#failInFlight(closeError(code, reason));
    if (this.#state === 'closed') return;
    if (wasConnected) this.emit('disconnected', { code, reason });

    const failure = err ?? closeError(code, reason);
    const terminal = code === 4001 || code === 4003 || TERMINAL_CODES.has(failure.code);
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
    this.#failQueued(failure);
    if (!wasConnected && wasRetrying) this.emit('error', failure);
  }

  #failInFlight(err: AirwavesClientError): void {
    const settles = [...this.#pending.values()];
    this.#pending.clear();
    for (const settle of settles) settle(err);
    if (this.#state === 'closed') {
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const w of waiters) w.reject(err);
    }
  }

  #failQueued(err: AirwavesClientError): void {
    const queued = this.#queue;
    this.#queue = [];
    for (const q of queued) q.fail(err);
  }

  // -------------------------------------------------------------------------------- commands

  /** Writes a command on the current socket; `settle` runs on the reply or when the socket goes. */
  #transmit(cmd: CommandBody, settle: Settle): number {
    const id = this.#nextId++;
    const ws = this.#ws;
    this.#pending.set(id, settle);
    try {
      if (!ws || ws.readyState !== OPEN) throw new Error('socket is not open');
      ws.send(JSON.stringify({ id, ...cmd }));
    } catch (err) {
      this.#pending.delete(id);
      const e = new AirwavesClientError('disconnected', `send failed: ${(err as Error).message}`);
      queueMicrotask(() => settle(e));
    }
    return id;
  }

  /** A user command: queued until connected, bounded by the command timeout. */
  #request<R>(cmd: CommandBody): Promise<R> {
    if (this.#state === 'closed') return Promise.reject(new AirwavesClientError('closed', 'client is closed'));
    return new Promise<R>((resolve, reject) => {
      let id: number | undefined;
      let done = false;
      const settle: Settle = (err, result) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        const i = this.#queue.indexOf(job);
        if (i >= 0) this.#queue.splice(i, 1);
        if (err) reject(err);
        else resolve(result as R);
      };
      const job: QueuedCommand = {
        send: () => {
          id = this.#transmit(cmd, settle);
        },
        fail: (err) => settle(err),
      };
      const timer = setTimeout(() => {
        if (id !== undefined) this.#pending.delete(id);
        settle(new AirwavesClientError('timeout', `${cmd.op} got no reply within ${this.#timeoutMs} ms`));
      }, this.#timeoutMs);
      if (this.#state === 'connected') job.send();
      else this.#queue.push(job);
    });
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
    const id = this.#nextId++;
    this.#sends.set(id, channel);
    if (this.#sends.size > MAX_TRACKED_SENDS) this.#sends.delete(this.#sends.keys().next().value!);
    ws.send(JSON.stringify({ id, op: 'send', channel, data }));
    return true;
  }

  presence(channel: string): Promise<PresenceResult> {
    return this.#request<PresenceResult>({ op: 'presence', channel });
  }

  async history(channel: string, options: HistoryOptions = {}): Promise<HistoryResult> {
    const cmd: CommandBody = options.limit === undefined ? { op: 'history', channel } : { op: 'history', channel, limit: options.limit };
    const result = await this.#request<HistoryResult>(cmd);
    const publications = (result.publications ?? []).map((p) => ({ ...p, channel: result.channel ?? channel }));
    return { ...result, publications };
  }

  /** Round trip to the hub; resolves with the round-trip time in milliseconds. */
  async ping(): Promise<number> {
    const start = Date.now();
    await this.#request<unknown>({ op: 'ping' });
    return Date.now() - start;
  }

  // -------------------------------------------------------------------------------- subscriptions

  /**
   * Subscribes to `channel` and returns the Subscription at once (await `sub.ready` for the
   * reply). Works before connect(): the subscribe is sent once connected. Subscribing again to a
   * channel returns the existing subscription, with `handlers` added.
   */
  subscribe(channel: string, handlers: SubscriptionHandlers = {}): Subscription {
    const existing = this.#subs.get(channel);
    if (existing) {
      attachHandlers(existing.sub, handlers);
      return existing.sub;
    }
    let resolveReady!: (r: SubscribeResult) => void;
    let rejectReady!: (e: AirwavesClientError) => void;
    const ready = new Promise<SubscribeResult>((res, rej) => {
      resolveReady = res;
      rejectReady = rej;
    });
    ready.catch(() => {}); // awaiting is optional; failures are also emitted as 'error'
    const entry: SubEntry = {
      channel,
      sub: undefined as unknown as Subscription,
      state: 'pending',
      lastOffset: undefined,
      epoch: undefined,
      acceptAny: false,
      buffer: null,
      bufferOverflow: false,
      replayRemaining: 0,
      inflightId: undefined,
      readySettled: false,
      resolveReady: (r) => {
        if (entry.readySettled) return;
        entry.readySettled = true;
        clearTimeout(entry.readyTimer);
        resolveReady(r);
      },
      rejectReady: (e) => {
        if (entry.readySettled) return;
        entry.readySettled = true;
        clearTimeout(entry.readyTimer);
        rejectReady(e);
      },
      readyTimer: undefined,
    };
    entry.sub = new Subscription(entry, ready, () => this.#unsubscribeEntry(entry));
    attachHandlers(entry.sub, handlers);
    if (this.#state === 'closed') {
      entry.state = 'closed';
      entry.rejectReady(new AirwavesClientError('closed', 'client is closed'));
      return entry.sub;
    }
    this.#subs.set(channel, entry);
    entry.readyTimer = setTimeout(() => {
      if (entry.readySettled || entry.state === 'closed') return;
      const err = new AirwavesClientError('timeout', `subscribe to "${channel}" got no reply within ${this.#timeoutMs} ms`);
      const onServer = entry.state === 'subscribing';
      if (entry.inflightId !== undefined) this.#pending.delete(entry.inflightId);
      this.#closeEntry(entry, err);
      // The server may still subscribe us later: undo it (commands are processed in order).
      if (onServer && this.#state === 'connected') this.#transmit({ op: 'unsubscribe', channel }, () => {});
      entry.sub.emit('error', err);
    }, this.#timeoutMs);
    if (this.#state === 'connected') this.#sendSubscribe(entry);
    return entry.sub;
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
    entry.state = 'closed';
    entry.buffer = null;
    entry.inflightId = undefined;
    clearTimeout(entry.readyTimer);
    if (this.#subs.get(entry.channel) === entry) this.#subs.delete(entry.channel);
    entry.rejectReady(reason);
  }

  /** Sends subscribe for `entry` on the connected socket, resuming from its position when it has one. */
  #sendSubscribe(entry: SubEntry): void {
    const since = entry.sub.position;
    const resubscribe = entry.readySettled;
    entry.state = 'subscribing';
    entry.buffer = [];
    entry.bufferOverflow = false;
    entry.replayRemaining = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const cmd: CommandBody = since ? { op: 'subscribe', channel: entry.channel, since } : { op: 'subscribe', channel: entry.channel };
    const id = this.#transmit(cmd, (err, result) => {
      clearTimeout(timer);
      if (entry.inflightId !== id || entry.state !== 'subscribing') return; // superseded, closed, or socket gone
      entry.inflightId = undefined;
      if (err) {
        if (err.code === 'disconnected') return; // resubscribed on the next connection
        this.#closeEntry(entry, err);
        entry.sub.emit('error', err);
        return;
      }
      this.#onSubscribed(entry, result as SubscribeResult, since);
    });
    entry.inflightId = id;
    // The first subscribe is bounded by sub.ready's timer. A resubscribe that gets no reply means a
    // broken connection: reconnect, which resubscribes again.
    if (resubscribe) {
      const ws = this.#ws;
      timer = setTimeout(() => {
        if (entry.inflightId !== id || this.#ws !== ws) return;
        this.#pending.delete(id);
        entry.inflightId = undefined;
        const err = new AirwavesClientError('timeout', `resubscribe to "${entry.channel}" got no reply within ${this.#timeoutMs} ms`);
        entry.sub.emit('error', err);
        this.#dropSocket(4000, 'resubscribe timeout');
      }, this.#timeoutMs);
    }
  }

  #onSubscribed(entry: SubEntry, r: SubscribeResult, since: StreamPosition | undefined): void {
    const replayed = since ? (r.replayed ?? 0) : 0;
    if (!since) {
      entry.epoch = r.epoch;
      entry.lastOffset = r.offset;
      entry.acceptAny = false;
    } else if (r.epoch !== entry.epoch) {
      // The stream was reset (new epoch): offsets start over, so the old position means nothing.
      entry.epoch = r.epoch;
      entry.lastOffset = r.offset;
      entry.acceptAny = replayed > 0;
    }
    entry.state = 'subscribed';
    entry.replayRemaining = replayed;
    if (since) entry.sub.emit('recovered', { recovered: r.recovered === true, replayed });
    entry.resolveReady(r);
    if (entry.state === 'subscribed' && entry.replayRemaining === 0) this.#releaseBuffer(entry);
  }

  /** Delivers what arrived before the reply (or during the replay), dropping what was already seen. */
  #releaseBuffer(entry: SubEntry): void {
    const buffered = entry.buffer;
    const overflow = entry.bufferOverflow;
    entry.buffer = null;
    entry.bufferOverflow = false;
    if (buffered) for (const item of buffered) if (entry.state === 'subscribed') this.#deliver(entry, item);
    if (overflow && entry.state === 'subscribed') this.#resync(entry);
  }

  #deliver(entry: SubEntry, item: Item): void {
    const offset = item.value.offset;
    if (!entry.acceptAny && entry.lastOffset !== undefined && offset <= entry.lastOffset) return; // duplicate or stale
    entry.lastOffset = offset;
    entry.acceptAny = false;
    if (item.kind === 'publication') entry.sub.emit('publication', item.value);
    else entry.sub.emit('binary', item.value);
  }

  #onItem(channel: string, item: Item): void {
    const entry = this.#subs.get(channel);
    if (!entry) return;
    if (entry.state === 'subscribing') {
      if (!entry.buffer) entry.buffer = [];
      if (entry.buffer.length < MAX_BUFFERED) entry.buffer.push(item);
      else entry.bufferOverflow = true;
      return;
    }
    if (entry.state !== 'subscribed') return;
    if (entry.replayRemaining > 0) {
      entry.replayRemaining--;
      this.#deliver(entry, item);
      if (entry.replayRemaining === 0 && entry.state === 'subscribed') this.#releaseBuffer(entry);
      return;
    }
    this.#deliver(entry, item);
  }

  /** Re-reads a channel from lastOffset: unsubscribe then subscribe with since. */
  #resync(entry: SubEntry): void {
    if (this.#state !== 'connected' || entry.state !== 'subscribed') return;
    this.#transmit({ op: 'unsubscribe', channel: entry.channel }, () => {});
    this.#sendSubscribe(entry);
  }

  // -------------------------------------------------------------------------------- incoming

  #onMessage(data: unknown): void {
    if (typeof data === 'string') {
      for (const line of data.split('\n')) {
        if (line.length === 0) continue;
        let value: unknown;
        try {
          value = JSON.parse(line);
        } catch {
          this.emit('error', new AirwavesClientError('bad_json', 'received a frame that is not valid JSON'));
          continue;
        }
        this.#dispatch(value);
      }
      return;
    }
    const bytes = toBytes(data);
    if (!bytes) {
      this.emit('error', new AirwavesClientError('bad_frame', 'received a binary message of an unsupported type (set binaryType to "arraybuffer")'));
      return;
    }
    let frame;
    try {
      frame = decodeBinaryFrame(bytes);
    } catch (err) {
      this.emit('error', new AirwavesClientError('bad_frame', (err as Error).message));
      return;
    }
    this.#onItem(frame.channel, { kind: 'binary', value: { channel: frame.channel, offset: frame.offset, ts: frame.ts, payload: frame.payload } });
  }

  #dispatch(value: unknown): void {
    if (typeof value !== 'object' || value === null) return;
    const m = value as Record<string, unknown>;
    if (typeof m.ok === 'boolean' && 'id' in m) {
      this.#onReply(m);
      return;
    }
    if (typeof m.event === 'string') {
      this.#onEvent(m);
      return;
    }
    if (typeof m.channel === 'string' && typeof m.offset === 'number') {
      const p: Publication = { channel: m.channel, offset: m.offset, ts: typeof m.ts === 'number' ? m.ts : 0, data: m.data };
      if (typeof m.key === 'string') p.key = m.key;
      this.#onItem(m.channel, { kind: 'publication', value: p });
    }
    // Anything else is from a newer protocol revision: ignored.
  }

  #onReply(m: Record<string, unknown>): void {
    let err: AirwavesClientError | null = null;
    if (m.ok === false) {
      const body = (typeof m.error === 'object' && m.error !== null ? m.error : {}) as Record<string, unknown>;
      err = new AirwavesClientError(typeof body.code === 'string' ? body.code : 'unknown', typeof body.message === 'string' ? body.message : 'command failed');
    }
    const settle = typeof m.id === 'number' ? this.#pending.get(m.id) : undefined;
    if (!settle) {
      const sentOn = typeof m.id === 'number' ? this.#sends.get(m.id) : undefined;
      if (err && sentOn !== undefined) {
        this.#sends.delete(m.id as number);
        this.emit('error', new AirwavesClientError(err.code, `send on "${sentOn}": ${err.message}`));
      }
      // Errors without an id (rate limiting, bad binary frames), or replies to timed-out commands.
      else if (err && (m.id === null || m.id === undefined)) this.emit('error', err);
      return;
    }
    this.#pending.delete(m.id as number);
    settle(err, m.result);
  }

  #onEvent(m: Record<string, unknown>): void {
    if (m.event === 'disconnect') {
      this.#serverNotice = { code: typeof m.code === 'number' ? m.code : 1006, reason: typeof m.reason === 'string' ? m.reason : '' };
      return;
    }
    if (typeof m.channel !== 'string') return;
    const entry = this.#subs.get(m.channel);
    if (!entry) return;
    switch (m.event) {
      case 'gap':
        // A gap seen while a resubscribe is in flight concerns the old subscription: the replay covers it.
        if (entry.state === 'subscribed') this.#resync(entry);
        return;
      case 'join':
      case 'leave':
        if (entry.state === 'subscribed') entry.sub.emit(m.event, { channel: m.channel, info: m.info as PresenceEntry });
        return;
      case 'unsubscribed': {
        if (entry.state !== 'subscribed') return;
        const reason = typeof m.reason === 'string' ? m.reason : '';
        this.#closeEntry(entry, new AirwavesClientError('unsubscribed', `the server ended the subscription: ${reason}`));
        entry.sub.emit('unsubscribed', { reason });
        return;
      }
    }
  }
}

function attachHandlers(sub: Subscription, handlers: SubscriptionHandlers): void {
  const add = <K extends keyof SubscriptionEvents>(key: K): void => {
    const fn = handlers[key];
    if (fn) sub.on(key, fn);
  };
  for (const key of Object.keys(handlers) as (keyof SubscriptionEvents)[]) add(key);
}
