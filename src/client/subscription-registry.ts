/**
 * @module client/subscription-registry
 * The client's subscriptions, one per channel: creating them, sending their subscribes once
 * connected and again after every reconnect, the timers that bound each subscribe (the first one
 * rejects `sub.ready`; a resubscribe without a reply means a broken connection), re-reading a
 * channel after a gap, and unsubscribing. One subscription's own state and delivery order live in
 * ./subscription.ts.
 */
import { AirwavesClientError } from './codes.js';
import type { CommandBody, Commands } from './commands.js';
import { presenceSyncOf } from './presence-sync.js';
import { StartingRetry } from './retry.js';
import { SubEntry, attachHandlers, type Item, type Subscription, type SubscriptionHost } from './subscription.js';
import type { ClientState, PresenceResult, StartingRetryOptions, SubscribeOptions, SubscriptionHandlers, WebSocketLike } from './types.js';

/** What the registry needs from its client. */
export interface RegistryHost {
  /** The connection's state: subscribes are sent only while connected. */
  state(): ClientState;
  /** The current socket: a resubscribe's timer belongs to the socket it was sent on. */
  socket(): WebSocketLike | null;
  /** A user command: queued until connected, bounded by the command timeout. */
  request<R>(cmd: CommandBody): Promise<R>;
  /** Closes the current socket and handles it as gone (then the client reconnects and resubscribes). */
  drop(code: number, reason: string): void;
}

/** The subscriptions of one client, by channel. */
export class SubscriptionRegistry {
  readonly #subs = new Map<string, SubEntry>();

  /** What each subscription's state calls back into. */
  readonly #entryHost: SubscriptionHost = {
    transmit: (cmd, settle) => this.commands.transmit(cmd, settle),
    resync: (entry) => this.#resync(entry),
    unsubscribe: (entry) => this.#unsubscribeEntry(entry),
    remove: (entry, reason) => this.#closeEntry(entry, reason),
    // A subscribe a starting app refused, sent again (SubEntry.retryLater) if still wanted and connected.
    resend: (entry) => void (entry.state === 'subscribing' && this.#subs.get(entry.channel) === entry && this.host.state() === 'connected' && this.#sendSubscribe(entry)),
  };

  constructor(
    private readonly commands: Commands,
    /** Bounds each subscribe, as it bounds each command. */
    private readonly timeoutMs: number,
    /** Retrying a subscribe a starting app refused, or false to fail at once. */
    private readonly startingRetry: Readonly<Required<StartingRetryOptions>> | false,
    private readonly host: RegistryHost,
  ) {}

  /** The state behind the subscription to `channel`, if any. */
  get(channel: string): SubEntry | undefined {
    return this.#subs.get(channel);
  }

  get subscriptions(): Subscription[] {
    return [...this.#subs.values()].map((e) => e.sub);
  }

  /** See AirwavesClient.subscribe. */
  subscribe(channel: string, handlers: SubscriptionHandlers, options: SubscribeOptions): Subscription {
    const existing = this.#subs.get(channel);
    if (existing) {
      attachHandlers(existing.sub, handlers);
      return existing.sub;
    }
    const entry = new SubEntry(channel, this.#entryHost, options, new StartingRetry(this.startingRetry));
    attachHandlers(entry.sub, handlers);
    if (this.host.state() === 'closed') {
      entry.state = 'closed';
      entry.rejectReady(new AirwavesClientError('closed', 'client is closed'));
      return entry.sub;
    }
    this.#subs.set(channel, entry);
    if (options.presence) presenceSyncOf(entry.sub, () => this.host.request<PresenceResult>({ op: 'presence', channel })).syncOnceReady();
    this.#armReadyTimer(entry);
    if (this.host.state() === 'connected') this.#sendSubscribe(entry);
    return entry.sub;
  }

  /** Ends the subscription to `channel` (no-op when there is none). */
  unsubscribe(channel: string): Promise<void> {
    const entry = this.#subs.get(channel);
    return entry ? this.#unsubscribeEntry(entry) : Promise.resolve();
  }

  /** Connected: send the subscribes that wait for a connection (new ones, and every one after a reconnect). */
  resubscribe(): void {
    for (const entry of this.#subs.values()) if (entry.state === 'pending') this.#sendSubscribe(entry);
  }

  /** The socket went: the server forgot every subscription; each is resubscribed on the next connection. */
  resetForReconnect(): void {
    for (const entry of this.#subs.values()) entry.resetForReconnect();
  }

  /** The client closed: every subscription closes with `reason`. */
  closeAll(reason: AirwavesClientError): void {
    for (const entry of [...this.#subs.values()]) this.#closeEntry(entry, reason);
  }

  /** A publication or binary message pushed on `channel`. */
  onItem(channel: string, item: Item): void {
    this.#subs.get(channel)?.onItem(item);
  }

  /** A notice on `channel` (gap, join, leave, unsubscribed). */
  onEvent(channel: string, m: Record<string, unknown>): void {
    this.#subs.get(channel)?.onEvent(m);
  }

  /** Bounds the first subscribe (each try of it, when a starting app refused the one before). */
  #armReadyTimer(entry: SubEntry): void {
    clearTimeout(entry.readyTimer);
    entry.readyTimer = setTimeout(() => {
      if (entry.readySettled || entry.state === 'closed') return;
      const err = new AirwavesClientError('timeout', `subscribe to "${entry.channel}" got no reply within ${this.timeoutMs} ms`);
      const onServer = entry.state === 'subscribing' && entry.inflightId !== undefined;
      if (entry.inflightId !== undefined) this.commands.forget(entry.inflightId);
      this.#closeEntry(entry, err);
      // The server may still subscribe us later: undo it (commands are processed in order).
      if (onServer && this.host.state() === 'connected') this.commands.transmit({ op: 'unsubscribe', channel: entry.channel }, () => {});
      entry.sub.emit('error', err);
    }, this.timeoutMs);
  }

  async #unsubscribeEntry(entry: SubEntry): Promise<void> {
    if (entry.state === 'closed' || this.#subs.get(entry.channel) !== entry) return;
    const onServer = entry.state === 'subscribing' || entry.state === 'subscribed';
    this.#closeEntry(entry, new AirwavesClientError('unsubscribed', `unsubscribed from "${entry.channel}"`));
    if (!onServer || this.host.state() !== 'connected') return; // the server forgot us with the old socket
    try {
      await this.host.request({ op: 'unsubscribe', channel: entry.channel });
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
    const ws = this.host.socket();
    entry.resubscribeTimer = setTimeout(() => {
      if (entry.state !== 'subscribing' || entry.inflightId === undefined || this.host.socket() !== ws) return;
      this.commands.forget(entry.inflightId);
      entry.inflightId = undefined;
      const err = new AirwavesClientError('timeout', `resubscribe to "${entry.channel}" got no reply within ${this.timeoutMs} ms`);
      entry.sub.emit('error', err);
      this.host.drop(4000, 'resubscribe timeout');
    }, this.timeoutMs);
  }

  /** After a gap: unsubscribe, then subscribe again from lastOffset (or at the live edge, see SubEntry.nextStart). */
  #resync(entry: SubEntry): void {
    if (this.host.state() !== 'connected' || entry.state !== 'subscribed') return;
    this.commands.transmit({ op: 'unsubscribe', channel: entry.channel }, () => {});
    this.#sendSubscribe(entry, true);
  }
}
