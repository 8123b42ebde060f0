/**
 * @module client/subscription
 * One channel subscription: the public {@link Subscription} and the state behind it, which keeps
 * the SDK's delivery promise — each offset at most once and in increasing order. Pushes that
 * arrive before a (re)subscribe reply are held back and released, de-duplicated, after the reply
 * and the replay it announces, so a replay always fills a hole in order.
 */
import type { PresenceEntry, StreamPosition, SubscribeResult } from '../protocol/index.js';
import { AirwavesClientError } from './codes.js';
import type { CommandBody, Settle } from './commands.js';
import { TypedEmitter } from './emitter.js';
import { StartingRetry } from './retry.js';
import type { BinaryPublication, Publication, SubscribeOptions, SubscriptionEvents, SubscriptionHandlers, SubscriptionState } from './types.js';

export type Item = { kind: 'publication'; value: Publication } | { kind: 'binary'; value: BinaryPublication };

/**
 * Where a subscribe starts: `resume` from the last offset (recovery), the `live` edge, or
 * `rewind` publications behind the live edge.
 */
export type SubscribeStart = 'resume' | 'live' | 'rewind';

/** What a subscription's state needs from its client. */
export interface SubscriptionHost {
  /** Writes a command on the current socket; `settle` runs on the reply or when the socket goes. */
  transmit(cmd: CommandBody, settle: Settle): number;
  /** After a gap: re-reads the channel from lastOffset, or re-attaches at the live edge (unsubscribe, then subscribe). */
  resync(entry: SubEntry): void;
  /** Ends the subscription (Subscription.unsubscribe). */
  unsubscribe(entry: SubEntry): Promise<void>;
  /** Forgets a subscription the server ended, and closes it. */
  remove(entry: SubEntry, reason: AirwavesClientError): void;
  /** Sends the subscribe again after a starting app refused it (if still connected and wanted). */
  resend(entry: SubEntry): void;
}

/** At most this many pushes wait for a (re)subscribe reply; past it the channel is re-read from lastOffset. */
const MAX_BUFFERED = 10_000;

/** Internal per-subscription state; the public Subscription reads through it. */
export class SubEntry {
  readonly sub: Subscription;
  state: SubscriptionState = 'pending';
  lastOffset: number | undefined;
  epoch: string | undefined;
  /** Set after a reset to a new epoch with a replay: deliver the next offset whatever it is. */
  acceptAny = false;
  /** Pushes received while a (re)subscribe is in flight, or awaiting the end of a replay. */
  buffer: Item[] | null = null;
  bufferOverflow = false;
  /** Replayed messages still expected after the last subscribe reply. */
  replayRemaining = 0;
  /** Id of the subscribe command in flight on the current socket. */
  inflightId: number | undefined;
  readySettled = false;
  readyTimer: ReturnType<typeof setTimeout> | undefined;
  /** Bounds a resubscribe in progress (the first subscribe is bounded by readyTimer). */
  resubscribeTimer: ReturnType<typeof setTimeout> | undefined;
  /** A subscribe a starting app refused, waiting to be sent again (see ./retry.ts). */
  retryTimer: ReturnType<typeof setTimeout> | undefined;
  readonly recoverable: boolean;
  readonly rewind: number;
  readonly #resolveReady: (result: SubscribeResult) => void;
  readonly #rejectReady: (err: AirwavesClientError) => void;

  constructor(
    readonly channel: string,
    private readonly host: SubscriptionHost,
    options: SubscribeOptions = {},
    /** This subscription's streak of `app_starting` refusals. */
    readonly retry: StartingRetry = new StartingRetry(false),
  ) {
    this.recoverable = options.recoverable ?? true;
    this.rewind = options.rewind ?? 0;
    if (!Number.isSafeInteger(this.rewind) || this.rewind < 0) throw new TypeError(`subscribe option "rewind" must be an integer >= 0, got ${String(options.rewind)}`);
    let resolveReady!: (r: SubscribeResult) => void;
    let rejectReady!: (e: AirwavesClientError) => void;
    const ready = new Promise<SubscribeResult>((res, rej) => {
      resolveReady = res;
      rejectReady = rej;
    });
    ready.catch(() => {}); // awaiting is optional; failures are also emitted as 'error'
    this.#resolveReady = resolveReady;
    this.#rejectReady = rejectReady;
    this.sub = new Subscription(this, ready, () => host.unsubscribe(this));
  }

  resolveReady(result: SubscribeResult): void {
    if (this.readySettled) return;
    this.readySettled = true;
    clearTimeout(this.readyTimer);
    this.#resolveReady(result);
  }

  rejectReady(err: AirwavesClientError): void {
    if (this.readySettled) return;
    this.readySettled = true;
    clearTimeout(this.readyTimer);
    this.#rejectReady(err);
  }

  /** Closed for good: nothing more is delivered, `ready` rejects with `reason` if still waiting. */
  close(reason: AirwavesClientError): void {
    this.state = 'closed';
    this.buffer = null;
    this.inflightId = undefined;
    clearTimeout(this.readyTimer);
    clearTimeout(this.resubscribeTimer);
    clearTimeout(this.retryTimer);
    this.rejectReady(reason);
  }

  /**
   * Sends subscribe on the connected socket, from where {@link nextStart} says: the last position,
   * the live edge, or (after a `history` read of the live position) `rewind` publications behind
   * it. `afterGap`: a re-read after a gap or an overflowing buffer.
   */
  subscribe(afterGap: boolean): void {
    const resubscribe = this.readySettled;
    const start = this.nextStart(afterGap);
    const since = start === 'resume' ? this.sub.position : undefined;
    this.beginSubscribe();
    if (start !== 'rewind') return this.transmitSubscribe(since, resubscribe);
    const id = this.host.transmit({ op: 'history', channel: this.channel, limit: 1 }, (err, result) => {
      const live = result as StreamPosition;
      if (this.stillWaiting(id, err)) this.transmitSubscribe(this.rewindFrom({ offset: live.offset, epoch: live.epoch }), resubscribe);
    });
    this.inflightId = id;
  }

  private transmitSubscribe(since: StreamPosition | undefined, resubscribe: boolean): void {
    const cmd: CommandBody = since ? { op: 'subscribe', channel: this.channel, since } : { op: 'subscribe', channel: this.channel };
    const id = this.host.transmit(cmd, (err, result) => {
      if (this.stillWaiting(id, err)) this.onSubscribed(result as SubscribeResult, since, resubscribe);
    });
    this.inflightId = id;
  }

  /**
   * The reply to command `id` of the subscribe in progress: false when it is superseded, closed or
   * its socket is gone (then it resubscribes on the next connection), when a starting app refused
   * it (then it is sent again later), or when it was refused for good (then the subscription is
   * closed with the error).
   */
  private stillWaiting(id: number, err: AirwavesClientError | null): boolean {
    if (this.inflightId !== id || this.state !== 'subscribing') return false;
    this.inflightId = undefined;
    if (!err) return true;
    if (err.code === 'disconnected') return false;
    const delay = this.retry.next(err);
    if (delay !== undefined) {
      this.retryLater(delay);
      return false;
    }
    this.host.remove(this, err);
    this.sub.emit('error', err);
    return false;
  }

  /**
   * A starting app refused the subscribe (nothing was subscribed): send it again in `delayMs`, on
   * the connection open then. A reply came, so the timers bounding this try stop; a reconnect
   * meanwhile resubscribes anyway (resetForReconnect clears the retry timer).
   */
  private retryLater(delayMs: number): void {
    clearTimeout(this.readyTimer);
    clearTimeout(this.resubscribeTimer);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.inflightId === undefined) this.host.resend(this);
    }, delayMs);
  }

  /** A subscribe is about to be sent: hold pushes until its reply. */
  private beginSubscribe(): void {
    clearTimeout(this.resubscribeTimer);
    clearTimeout(this.retryTimer);
    this.state = 'subscribing';
    this.buffer = [];
    this.bufferOverflow = false;
    this.replayRemaining = 0;
  }

  /** The socket went away: the server forgot the subscription; it is resubscribed on the next connection. */
  resetForReconnect(): void {
    if (this.state !== 'subscribing' && this.state !== 'subscribed') return;
    clearTimeout(this.resubscribeTimer);
    clearTimeout(this.retryTimer);
    this.state = 'pending';
    this.inflightId = undefined;
    this.buffer = null;
    this.bufferOverflow = false;
    this.replayRemaining = 0;
  }

  /**
   * Where the next subscribe starts. A recoverable subscription with a position resumes from it;
   * otherwise a re-read after a gap (`afterGap`) re-attaches at the live edge (rewinding would
   * resend what a slow client could not take), and a fresh start rewinds when asked to.
   */
  nextStart(afterGap: boolean): SubscribeStart {
    if (this.recoverable && this.sub.position) return 'resume';
    return afterGap || this.rewind === 0 ? 'live' : 'rewind';
  }

  /** The position `rewind` publications behind `live`; within one epoch, never before what was delivered. */
  rewindFrom(live: StreamPosition): StreamPosition {
    let offset = Math.max(0, live.offset - this.rewind);
    if (live.epoch === this.epoch && this.lastOffset !== undefined) offset = Math.min(live.offset, Math.max(offset, this.lastOffset));
    return { offset, epoch: live.epoch };
  }

  /**
   * The subscribe reply: take the position, announce recovery (on a resubscription), then release
   * what waited. Within one epoch the last delivered offset stands, so nothing is delivered twice.
   */
  onSubscribed(r: SubscribeResult, since: StreamPosition | undefined, resubscribe: boolean): void {
    clearTimeout(this.resubscribeTimer);
    this.retry.reset();
    const replayed = since ? (r.replayed ?? 0) : 0;
    // Nothing missed: the server replayed everything after an offset we had already delivered.
    const recovered = since !== undefined && r.recovered === true && since.epoch === this.epoch && this.lastOffset !== undefined && since.offset <= this.lastOffset;
    if (r.epoch !== this.epoch || this.lastOffset === undefined) {
      // First position, or the stream was reset (new epoch): offsets start over, the old position means nothing.
      this.epoch = r.epoch;
      this.lastOffset = r.offset;
      this.acceptAny = replayed > 0;
    }
    this.state = 'subscribed';
    this.replayRemaining = replayed;
    if (resubscribe) this.sub.emit('recovered', { recovered, replayed });
    this.resolveReady(r);
    if (this.state === 'subscribed' && this.replayRemaining === 0) this.releaseBuffer();
  }

  /** A publication or binary message pushed on this channel. */
  onItem(item: Item): void {
    if (this.state === 'subscribing') {
      if (!this.buffer) this.buffer = [];
      if (this.buffer.length < MAX_BUFFERED) this.buffer.push(item);
      else this.bufferOverflow = true;
      return;
    }
    if (this.state !== 'subscribed') return;
    if (this.replayRemaining > 0) {
      this.replayRemaining--;
      this.deliver(item);
      if (this.replayRemaining === 0 && this.state === 'subscribed') this.releaseBuffer();
      return;
    }
    this.deliver(item);
  }

  /** A notice on this channel: a gap to fill, a presence change, or the end of the subscription. */
  onEvent(m: Record<string, unknown>): void {
    switch (m.event) {
      case 'gap':
        // A gap seen while a resubscribe is in flight concerns the old subscription: the replay covers it.
        if (this.state === 'subscribed') this.host.resync(this);
        return;
      case 'join':
      case 'leave':
        if (this.state === 'subscribed') this.sub.emit(m.event, { channel: this.channel, info: m.info as PresenceEntry });
        return;
      case 'unsubscribed': {
        if (this.state !== 'subscribed') return;
        const reason = typeof m.reason === 'string' ? m.reason : '';
        this.host.remove(this, new AirwavesClientError('unsubscribed', `the server ended the subscription: ${reason}`));
        this.sub.emit('unsubscribed', { reason });
        return;
      }
    }
  }

  /** Delivers what arrived before the reply (or during the replay), dropping what was already seen. */
  private releaseBuffer(): void {
    const buffered = this.buffer;
    const overflow = this.bufferOverflow;
    this.buffer = null;
    this.bufferOverflow = false;
    if (buffered) for (const item of buffered) if (this.state === 'subscribed') this.deliver(item);
    if (overflow && this.state === 'subscribed') this.host.resync(this);
  }

  private deliver(item: Item): void {
    const offset = item.value.offset;
    if (!this.acceptAny && this.lastOffset !== undefined && offset <= this.lastOffset) return; // duplicate or stale
    this.lastOffset = offset;
    this.acceptAny = false;
    if (item.kind === 'publication') this.sub.emit('publication', item.value);
    else this.sub.emit('binary', item.value);
  }
}

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

/** Adds the handlers passed to subscribe() as listeners. */
export function attachHandlers(sub: Subscription, handlers: SubscriptionHandlers): void {
  const add = <K extends keyof SubscriptionEvents>(key: K): void => {
    const fn = handlers[key];
    if (fn) sub.on(key, fn);
  };
  for (const key of Object.keys(handlers) as (keyof SubscriptionEvents)[]) add(key);
}
