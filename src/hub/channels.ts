/**
 * @module hub/channels
 * The channels this node has subscribers on: who listens to what, presence, and local delivery.
 *
 * - **Subscribe never loses a message.** A new subscription joins the channel with a pending
 *   buffer *before* history is read; what arrives meanwhile waits there and is released after
 *   the reply and the replay, de-duplicated by offset.
 * - **In order, never twice, never a silent hole.** Each subscription is given exactly
 *   `position + 1` of its epoch; anything else means the engine proved offsets gone or the epoch
 *   changed, and the subscription gets a `gap` notice (the SDK resubscribes with `since`).
 * - The engine listens to a channel while this node has a subscriber on it: first in, last out.
 *
 * The engine hands every publication to {@link LocalChannels.deliverFromEngine}; that is the
 * engine → hub link (the hot path: one lookup, one compare, one push per subscriber).
 */
import type { Logger } from '../core/logger.js';
import type { HubMetrics, TallyCell } from '../core/metrics.js';
import type { EventPush, PresenceEntry, StreamPosition, SubscribeResult } from '../protocol/index.js';
import type { ClientSession, Subscription } from './client-session.js';
import { frameOf, type EngineNotices, type HubEngine, type HubMessage } from './engines/engine.js';
import type { PresenceStore } from './engines/presence.js';
import { encodeEvent, encodeReply } from './frame-encoding.js';
import type { Namespace } from './namespace.js';

interface LocalChannel {
  readonly name: string;
  readonly ns: Namespace;
  readonly subscribers: Set<Subscription>;
  /** Its namespace's cells of hub_messages_published_total and _delivered_total (read at scrape). */
  readonly published: TallyCell;
  readonly delivered: TallyCell;
}

/** Replay at most this many messages on one subscribe (bounded work per command). */
const MAX_REPLAY = 10_000;

export interface LocalChannelsOptions {
  engine: HubEngine;
  presence: PresenceStore;
  metrics: HubMetrics;
  logger: Logger;
}

export class LocalChannels {
  private readonly byName = new Map<string, LocalChannel>();
  private readonly engine: HubEngine;
  private readonly presence: PresenceStore;
  private readonly metrics: HubMetrics;
  private readonly log: Logger;
  private subscriptionCount = 0;
  private published = 0;

  constructor(options: LocalChannelsOptions) {
    this.engine = options.engine;
    this.presence = options.presence;
    this.metrics = options.metrics;
    this.log = options.logger;
  }

  get size(): number {
    return this.byName.size;
  }

  get subscriptions(): number {
    return this.subscriptionCount;
  }

  /** Publications the engine handed to this node, on any channel (for the publish rate). */
  get publishedTotal(): number {
    return this.published;
  }

  subscriberCount(channel: string): number {
    return this.byName.get(channel)?.subscribers.size ?? 0;
  }

  presenceOf(channel: string): PresenceEntry[] | Promise<PresenceEntry[]> {
    return this.presence.list(channel);
  }

  /** Every channel with subscribers on this node, with its namespace and local count (the inspector's list). */
  counts(): { channel: string; namespace: string; subscribers: number }[] {
    return [...this.byName.values()].map((c) => ({ channel: c.name, namespace: c.ns.config.name, subscribers: c.subscribers.size }));
  }

  /**
   * The engine → hub link: called by the engine for every publication on a channel this node
   * listens to, in offset order. Bound once, so it can be handed to the engine as is.
   */
  readonly deliverFromEngine = (message: HubMessage): void => {
    this.published++;
    const channel = this.byName.get(message.channel);
    if (!channel) return;
    channel.published.n++;
    if (channel.subscribers.size === 0) return;
    frameOf(message); // encode once, before the loop
    const policy = channel.ns.config.slowConsumer;
    // The one delivery invariant (see offerTo), inlined: this loop runs per subscriber per message.
    for (const sub of channel.subscribers) {
      if (sub.pending) sub.pending.push(message);
      else if (message.offset === sub.position + 1 && message.epoch === sub.epoch) {
        sub.position = message.offset;
        sub.session.deliver(message, policy);
      } else if (message.epoch !== sub.epoch || message.offset > sub.position) this.continuityLost(sub, message);
    }
    channel.delivered.n += channel.subscribers.size;
  };

  /** The engine → hub link for what is not a publication (see EngineNotices). */
  readonly notices: EngineNotices = {
    // An epoch change with no message to show it (a quiet channel Redis lost, or one restarted
    // after a failover): every subscription still in another epoch learns at once.
    epochChanged: (channel, epoch) => {
      for (const sub of this.byName.get(channel)?.subscribers ?? []) {
        if (!sub.pending && sub.epoch !== epoch) this.continuityLost(sub, { epoch, offset: 0 });
      }
    },
    // A join or leave on another node: told to this node's subscribers as if it happened here.
    presence: (channel, event, info) => {
      const local = this.byName.get(channel);
      if (local?.ns.config.presence) this.broadcastEvent(local, { channel, event, info });
    },
  };

  /** Offers one message to one subscription under the delivery invariant: exactly `position + 1` of its epoch. */
  private offerTo(sub: Subscription, message: HubMessage): void {
    if (message.offset === sub.position + 1 && message.epoch === sub.epoch) {
      sub.position = message.offset;
      sub.session.deliver(message, sub.policy);
    } else if (message.epoch !== sub.epoch || message.offset > sub.position) this.continuityLost(sub, message);
  }

  /**
   * The engine skipped offsets it proved gone, or the channel changed epoch: this subscription
   * cannot continue in order. A `gap` notice makes the SDK resubscribe with `since` (which
   * recovers from history what it still has, or answers `recovered: false`); until then it is given nothing.
   */
  private continuityLost(sub: Subscription, message: Pick<HubMessage, 'epoch' | 'offset'>): void {
    if (sub.continuityLost) return;
    sub.continuityLost = true;
    this.metrics.rejected.inc({ reason: 'insufficient_state' });
    const from = sub.position + 1;
    sub.session.sendEvent({ channel: sub.channel, event: 'gap', from, to: message.epoch === sub.epoch ? message.offset - 1 : from });
  }

  /**
   * Subscribes a session (access already checked): joins with a pending buffer, reads history,
   * replies to command `id`, replays what `since` missed, releases the pending messages, then
   * records presence and calls the namespace's onSubscribe hook.
   */
  async subscribe(session: ClientSession, id: number, ns: Namespace, channel: string, since: StreamPosition | undefined): Promise<void> {
    const sub: Subscription = { session, channel, namespace: ns.config.name, pending: [], policy: ns.config.slowConsumer, position: -1, epoch: '', continuityLost: false };
    session.subscriptions.set(channel, sub);
    const local = this.join(channel, ns, sub);
    let result: SubscribeResult;
    let replay: HubMessage[] = [];
    try {
      const after = since ? since.offset : Number.MAX_SAFE_INTEGER;
      const slice = await this.engine.history(channel, since ? since.offset : 0, since ? MAX_REPLAY : 0, ns.retentionOf(channel));
      result = { channel, epoch: slice.epoch, offset: slice.top };
      if (since) {
        const sameEpoch = since.epoch === slice.epoch;
        replay = sameEpoch ? slice.messages.filter((m) => m.offset > after) : [];
        result.recovered = sameEpoch && since.offset <= slice.top && slice.complete;
        result.replayed = replay.length;
      }
    } catch (err) {
      this.unsubscribe(sub);
      throw err;
    }
    if (session.closed) return;
    session.sendControl(encodeReply(id, result));
    let last = since && since.epoch === result.epoch ? since.offset : result.offset;
    for (const m of replay) {
      session.deliver(m, sub.policy);
      last = m.offset;
    }
    const pending = sub.pending ?? [];
    sub.pending = null;
    sub.position = last;
    sub.epoch = result.epoch;
    for (const m of pending) this.offerTo(sub, m);
    if (ns.config.presence) {
      const entry = { client: session.id, user: session.identity.user };
      this.presence.join(channel, entry);
      this.broadcastEvent(local, { channel, event: 'join', info: entry }, session);
    }
    ns.hooks.onSubscribe?.({ client: session.id, identity: session.identity, channel });
  }

  /** Ends a subscription: presence leave, the onUnsubscribe hook, and the engine stops listening after the last one. */
  unsubscribe(sub: Subscription): void {
    const { session, channel } = sub;
    if (session.subscriptions.get(channel) !== sub) return;
    session.subscriptions.delete(channel);
    const local = this.byName.get(channel);
    if (!local) return;
    local.subscribers.delete(sub);
    this.subscriptionCount--;
    this.metrics.subscriptions.set(this.subscriptionCount);
    if (local.ns.config.presence && this.presence.leave(channel, session.id)) {
      this.broadcastEvent(local, { channel, event: 'leave', info: { client: session.id, user: session.identity.user } });
    }
    local.ns.hooks.onUnsubscribe?.({ client: session.id, identity: session.identity, channel });
    if (local.subscribers.size === 0) {
      this.byName.delete(channel);
      void Promise.resolve(this.engine.listen(channel, false)).catch((err: Error) => this.log.error({ err, channel }, 'unlisten failed'));
    }
  }

  /** Ends every subscription of a session that went away. */
  unsubscribeAll(session: ClientSession): void {
    for (const sub of [...session.subscriptions.values()]) this.unsubscribe(sub);
  }

  private join(channel: string, ns: Namespace, sub: Subscription): LocalChannel {
    let local = this.byName.get(channel);
    if (!local) {
      const namespace = ns.config.name;
      local = { name: channel, ns, subscribers: new Set(), published: this.metrics.publishedTally.cell(namespace), delivered: this.metrics.deliveredTally.cell(namespace) };
      this.byName.set(channel, local);
      void Promise.resolve(this.engine.listen(channel, true)).catch((err: Error) => this.log.error({ err, channel }, 'listen failed'));
    }
    local.subscribers.add(sub);
    this.subscriptionCount++;
    this.metrics.subscriptions.set(this.subscriptionCount);
    return local;
  }

  /** A presence notice to every live subscriber but `except` (encoded once). */
  private broadcastEvent(local: LocalChannel, push: EventPush, except?: ClientSession): void {
    const frame = encodeEvent(push);
    for (const sub of local.subscribers) if (sub.session !== except && !sub.pending) sub.session.sendControl(frame);
  }
}
