/**
 * @module client/commands
 * The client's commands in flight: ids, replies matched to their promises, commands waiting for
 * a connection, and the timeout that bounds each one. Every command gets a unique id, increasing
 * in the order frames are written, and settles exactly once: with its reply, or with `timeout`,
 * `disconnected` or `closed`.
 */
import type { ClientCommand } from '../protocol/index.js';
import { AirwavesClientError } from './codes.js';
import { StartingRetry } from './retry.js';
import type { StartingRetryOptions, WebSocketLike } from './types.js';

/** A command as the client writes it: the protocol's command without its id. */
export type CommandBody = WithoutId<ClientCommand>;
type WithoutId<C> = C extends unknown ? Omit<C, 'id'> : never;

/** Settles a command: an error, or null and the reply's result. */
export type Settle = (err: AirwavesClientError | null, result?: unknown) => void;

interface QueuedCommand {
  send(): void;
  fail(err: AirwavesClientError): void;
}

/** How many recent `send` ids are remembered to name the channel of a refusal. */
const MAX_TRACKED_SENDS = 256;
/** WebSocket readyState OPEN. */
export const OPEN = 1;

export class Commands {
  #nextId = 1;
  readonly #pending = new Map<number, Settle>();
  /** Channels of recent `send`s by id (accepted ones get no reply): a refusal can name its channel. */
  readonly #sends = new Map<number, string>();
  #queue: QueuedCommand[] = [];
  /** Commands a starting app refused, waiting to be sent again. */
  readonly #waiting = new Set<QueuedCommand>();

  constructor(
    private readonly timeoutMs: number,
    /** The socket commands are written on now (null while there is none). */
    private readonly socket: () => WebSocketLike | null,
    /** Retrying `app_starting` refusals, or false to surface them at once. */
    private readonly startingRetry: Readonly<Required<StartingRetryOptions>> | false = false,
  ) {}

  /** Writes a command on the current socket; `settle` runs on the reply or when the socket goes. */
  transmit(cmd: CommandBody, settle: Settle): number {
    const id = this.#nextId++;
    const ws = this.socket();
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

  /**
   * A user command: sent now when `connected`, else queued until {@link sendQueued}; each try is
   * bounded by the command timeout. A refusal by a starting app (`app_starting`) is sent again
   * after a delay (see ./retry.ts) until `startingRetry.maxWaitMs`, then rejects with it.
   */
  request<R>(cmd: CommandBody, connected: boolean): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      let id: number | undefined;
      let done = false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      let retryTimer: ReturnType<typeof setTimeout> | undefined;
      const retry = new StartingRetry(this.startingRetry);
      const settle: Settle = (err, result) => {
        if (done) return;
        clearTimeout(timer);
        this.#unqueue(job);
        const delay = err ? retry.next(err) : undefined;
        if (delay !== undefined) {
          // Refused for now (nothing was done): try again later, on whatever socket is open then.
          this.#waiting.add(job);
          retryTimer = setTimeout(() => {
            this.#waiting.delete(job);
            arm();
            if (this.socket()?.readyState === OPEN) job.send();
            else this.#queue.push(job);
          }, delay);
          return;
        }
        done = true;
        clearTimeout(retryTimer);
        this.#waiting.delete(job);
        if (err) reject(err);
        else resolve(result as R);
      };
      const job: QueuedCommand = {
        send: () => {
          id = this.transmit(cmd, settle);
        },
        fail: (err) => settle(err),
      };
      const arm = () => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          if (id !== undefined) this.#pending.delete(id);
          settle(new AirwavesClientError('timeout', `${cmd.op} got no reply within ${this.timeoutMs} ms`));
        }, this.timeoutMs);
      };
      arm();
      if (connected) job.send();
      else this.#queue.push(job);
    });
  }

  #unqueue(job: QueuedCommand): void {
    const i = this.#queue.indexOf(job);
    if (i >= 0) this.#queue.splice(i, 1);
  }

  /** A `send` (no reply unless refused): written at once, its channel remembered for a refusal. */
  sendSignal(ws: WebSocketLike, channel: string, data: unknown): void {
    const id = this.#nextId++;
    this.#sends.set(id, channel);
    if (this.#sends.size > MAX_TRACKED_SENDS) this.#sends.delete(this.#sends.keys().next().value!);
    ws.send(JSON.stringify({ id, op: 'send', channel, data }));
  }

  /** Stops waiting for the reply to `id` (its own timer settles it). */
  forget(id: number): void {
    this.#pending.delete(id);
  }

  /** Connected: send what waited for the connection. */
  sendQueued(): void {
    const queued = this.#queue;
    this.#queue = [];
    for (const q of queued) q.send();
  }

  /** The socket went: every command in flight fails with `err`. */
  failInFlight(err: AirwavesClientError): void {
    const settles = [...this.#pending.values()];
    this.#pending.clear();
    for (const settle of settles) settle(err);
  }

  /** The client gave up or closed: every command waiting for a connection (or for a retry) fails with `err`. */
  failQueued(err: AirwavesClientError): void {
    const queued = [...this.#queue, ...this.#waiting];
    this.#queue = [];
    this.#waiting.clear();
    for (const q of queued) q.fail(err);
  }

  /**
   * A reply (a frame with `ok` and `id`): settles its command. Returns the error to emit when no
   * command waits for it: a refused `send` (named by its channel) or an error without an id
   * (rate limiting, bad binary frames). Replies to timed-out commands are dropped.
   */
  onReply(m: Record<string, unknown>): AirwavesClientError | undefined {
    let err: AirwavesClientError | null = null;
    if (m.ok === false) {
      const body = (typeof m.error === 'object' && m.error !== null ? m.error : {}) as Record<string, unknown>;
      const hint = typeof body.retryAfterMs === 'number' && Number.isFinite(body.retryAfterMs) ? body.retryAfterMs : undefined;
      err = new AirwavesClientError(typeof body.code === 'string' ? body.code : 'unknown', typeof body.message === 'string' ? body.message : 'command failed', undefined, hint);
    }
    const settle = typeof m.id === 'number' ? this.#pending.get(m.id) : undefined;
    if (!settle) {
      const sentOn = typeof m.id === 'number' ? this.#sends.get(m.id) : undefined;
      if (err && sentOn !== undefined) {
        this.#sends.delete(m.id as number);
        return new AirwavesClientError(err.code, `send on "${sentOn}": ${err.message}`);
      }
      if (err && (m.id === null || m.id === undefined)) return err;
      return undefined;
    }
    this.#pending.delete(m.id as number);
    settle(err, m.result);
    return undefined;
  }
}
