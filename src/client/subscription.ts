/**
 * @module client/subscription
 * One channel subscription: the public {@link Subscription} and the state behind it, which keeps
 * the SDK's delivery promise — each offset at most once and in increasing order. Pushes that
 * arrive before a (re)subscribe reply are held back and released, de-duplicated, after the reply
 * and the replay it announces, so a replay always fills a hole in order.
 */
import type { PresenceEntry, StreamPosition, SubscribeResult } from '../protocol/index.js';
import { AirwavesClientError } from './codes.js';
import { TypedEmitter } from './emitter.js';
import type { BinaryPublication, Publication, SubscriptionEvents, SubscriptionHandlers, SubscriptionState } from './types.js';

export type Item = { kind: 'publication'; value: Publication } | { kind: 'binary'; value: BinaryPublication };

/** What a subscription's state needs from its client. */
export interface SubscriptionHost {
  /** Re-reads the channel from lastOffset (unsubscribe, then subscribe with since). */
  resync(entry: SubEntry): void;
  /** Ends the subscription (Subscription.unsubscribe). */
  unsubscribe(entry: SubEntry): Promise<void>;
  /** Forgets a subscription the server ended, and closes it. */
  remove(entry: SubEntry, reason: AirwavesClientError): void;
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
  readonly #resolveReady: (result: SubscribeResult) => void;
  readonly #rejectReady: (err: AirwavesClientError) => void;

  constructor(
    readonly channel: string,
    private readonly host: SubscriptionHost,
  ) {
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
    this.rejectReady(reason);
  }

  /** A subscribe is about to be sent: hold pushes until its reply. */
  beginSubscribe(): void {
    this.state = 'subscribing';
    this.buffer = [];
    this.bufferOverflow = false;
    this.replayRemaining = 0;
  }

  /** The socket went away: the server forgot the subscription; it is resubscribed on the next connection. */
  resetForReconnect(): void {
    if (this.state !== 'subscribing' && this.state !== 'subscribed') return;
    this.state = 'pending';
    this.inflightId = undefined;
    this.buffer = null;
    this.bufferOverflow = false;
    this.replayRemaining = 0;
  }

  /** The subscribe reply: take the position, announce recovery, then release what waited. */
  onSubscribed(r: SubscribeResult, since: StreamPosition | undefined): void {
    const replayed = since ? (r.replayed ?? 0) : 0;
    if (!since) {
      this.epoch = r.epoch;
      this.lastOffset = r.offset;
      this.acceptAny = false;
    } else if (r.epoch !== this.epoch) {
      // The stream was reset (new epoch): offsets start over, so the old position means nothing.
      this.epoch = r.epoch;
      this.lastOffset = r.offset;
      this.acceptAny = replayed > 0;
    }
    this.state = 'subscribed';
    this.replayRemaining = replayed;
    if (since) this.sub.emit('recovered', { recovered: r.recovered === true, replayed });
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
