/**
 * @module hub/hub
 * The fan-out engine. It owns the namespaces, the local channels and their subscribers, runs the
 * protocol's commands for each client session, and moves publications from the engine to the
 * sockets: encoded once, queued by reference, flushed once per event-loop turn per client.
 */
import { randomUUID } from 'node:crypto';
import type { WebSocket, RawData } from 'ws';
import type { AirwavesConfig, NamespaceConfigInput } from '../core/config.js';
import { AirwavesError, Errors, WS_CLOSE, isAirwavesError, type ErrorSpec } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { HubMetrics } from '../core/metrics.js';
import { Coalescer } from '../core/coalescer.js';
import { ANONYMOUS, TokenError, matchesAny, verifyToken, type ClientIdentity } from './auth.js';
import { ClientSession, type Subscription, type ControlFrame } from './client-session.js';
import { frameOf, type HubEngine, type HubMessage, type PublishAck, type PublishPayload } from './engine.js';
import { NamespaceRegistry, type Namespace, type NamespaceHooks, type ClientContext } from './namespace.js';
import {
  ProtocolError,
  decodeBinaryFrame,
  encodeError,
  encodeReply,
  isValidChannel,
  namespaceOf,
  parseClientCommand,
  PROTOCOL_VERSION,
  type ClientCommand,
  type PresenceEntry,
  type SubscribeResult,
} from './protocol.js';

interface LocalChannel {
  readonly name: string;
  readonly ns: Namespace;
  readonly subscribers: Set<Subscription>;
  readonly presence: Map<string, PresenceEntry> | null;
  /** Newest publication delivered here: a repeat from the engine (same epoch, offset not above) is never fanned out twice. */
  lastOffset: number;
  lastEpoch: string;
}

export interface HubOptions {
  config: AirwavesConfig;
  engine: HubEngine;
  metrics: HubMetrics;
  logger: Logger;
  nodeId: string;
}

export interface HubStats {
  connections: number;
  subscriptions: number;
  channels: number;
  publishedTotal: number;
  publishRate: number;
}

/** Replay at most this many messages on one subscribe (bounded work per command). */
const MAX_REPLAY = 10_000;
const HEARTBEAT_MS = 25_000;
/** The reply to a publish into an input-only namespace: its hook took it, nothing was stored. */
const CONSUMED = { consumed: true } as const;

type Outbound = HubMessage | ControlFrame;

export class Hub {
  readonly namespaces = new NamespaceRegistry();
  readonly nodeId: string;
  private readonly config: AirwavesConfig;
  private readonly engine: HubEngine;
  private readonly metrics: HubMetrics;
  private readonly log: Logger;
  private readonly sessions = new Map<string, ClientSession>();
  private readonly channels = new Map<string, LocalChannel>();
  private readonly connectionsPerIp = new Map<string, number>();
  private readonly coalescers = new Map<string, Coalescer<PublishPayload>>();
  private dirty: ClientSession[] = [];
  private flushPending = false;
  private readonly blocked = new Set<ClientSession>();
  private blockedTimer?: NodeJS.Timeout;
  private heartbeatTimer?: NodeJS.Timeout;
  private rateTimer?: NodeJS.Timeout;
  private batchCache = new Map<Outbound, { items: Outbound[]; frame: Buffer }>();
  /** Inside a flush pass, the oldest publication written so far (for one latency observation per pass). */
  private inFlushPass = false;
  private passOldestPublishedAt = Infinity;
  private subscriptionCount = 0;
  private publishedTotal = 0;
  private publishedAtLastTick = 0;
  private publishRate = 0;
  private accepting = true;

  constructor(private readonly options: HubOptions) {
    this.config = options.config;
    this.engine = options.engine;
    this.metrics = options.metrics;
    this.log = options.logger.child({ module: 'hub' });
    this.nodeId = options.nodeId;
    for (const ns of this.config.namespaces) this.namespaces.register(ns);
  }

  async start(): Promise<void> {
    await this.engine.start((m) => this.deliverLocal(m));
    this.heartbeatTimer = setInterval(() => this.heartbeat(), HEARTBEAT_MS);
    this.heartbeatTimer.unref();
    this.rateTimer = setInterval(() => {
      this.publishRate = (this.publishedTotal - this.publishedAtLastTick) / 2;
      this.publishedAtLastTick = this.publishedTotal;
      this.metrics.messagesPerSecond.set(this.publishRate);
    }, 2000);
    this.rateTimer.unref();
  }

  get engineName(): string {
    return this.engine.name;
  }

  /** Registers an app's namespace; an app calls this once per namespace at start. */
  registerNamespace(config: NamespaceConfigInput, hooks: NamespaceHooks = {}): Namespace {
    return this.namespaces.register(config, hooks);
  }

  stats(): HubStats {
    return {
      connections: this.sessions.size,
      subscriptions: this.subscriptionCount,
      channels: this.channels.size,
      publishedTotal: this.publishedTotal,
      publishRate: this.publishRate,
    };
  }

  ready(): Promise<boolean> {
    return this.engine.ready();
  }

  // ---------------------------------------------------------------- server-side API

  /** Publishes from server code. Skips client permissions, keeps size and namespace checks. */
  async publish(channel: string, data: unknown, options: { key?: string; idempotencyKey?: string; eachNodePublishes?: boolean } = {}): Promise<PublishAck | { coalesced: true }> {
    const ns = this.namespaceFor(channel);
    if (ns.config.binary) throw new AirwavesError(Errors.badRequest, `namespace "${ns.config.name}" carries binary frames; use publishBinary`);
    const json = JSON.stringify(data);
    if (json === undefined) throw new AirwavesError(Errors.badRequest, 'data must be JSON-serialisable');
    this.checkSize(ns, Buffer.byteLength(json));
    return this.publishPayload(ns, channel, { json, key: options.key, idempotencyKey: options.idempotencyKey, eachNodePublishes: options.eachNodePublishes });
  }

  /** Publishes a binary payload on a binary namespace (media). */
  async publishBinary(channel: string, payload: Uint8Array): Promise<PublishAck> {
    const ns = this.namespaceFor(channel);
    if (!ns.config.binary) throw new AirwavesError(Errors.binaryNotAllowed, `namespace "${ns.config.name}" is not binary`);
    this.checkSize(ns, payload.byteLength);
    return this.engine.publish(channel, { binary: payload }, ns.retention);
  }

  subscriberCount(channel: string): number {
    return this.channels.get(channel)?.subscribers.size ?? 0;
  }

  /** This node's channels with their local subscriber and presence counts (the inspector's list). */
  channelCounts(): { channel: string; namespace: string; subscribers: number; present: number }[] {
    return [...this.channels.values()].map((c) => ({ channel: c.name, namespace: c.ns.config.name, subscribers: c.subscribers.size, present: c.presence?.size ?? 0 }));
  }

  presenceOf(channel: string): PresenceEntry[] {
    return [...(this.channels.get(channel)?.presence?.values() ?? [])];
  }

  /** Reads recent history (server-side), newest `limit` messages after `afterOffset`. */
  async history(channel: string, afterOffset = 0, limit = 100): Promise<{ epoch: string; top: number; messages: { offset: number; ts: number; data: unknown }[] }> {
    const ns = this.namespaceFor(channel);
    const slice = await this.engine.history(channel, afterOffset, limit, ns.retention);
    return {
      epoch: slice.epoch,
      top: slice.top,
      messages: slice.messages.map((m) => ({ offset: m.offset, ts: m.ts, data: m.json === undefined ? null : JSON.parse(m.json) })),
    };
  }

  private namespaceFor(channel: string): Namespace {
    if (!isValidChannel(channel)) throw new AirwavesError(Errors.badChannel, `bad channel "${String(channel).slice(0, 80)}": expected namespace:name`);
    const ns = this.namespaces.get(namespaceOf(channel));
    if (!ns) throw new AirwavesError(Errors.unknownNamespace, `unknown namespace "${namespaceOf(channel)}"`);
    return ns;
  }

  private checkSize(ns: Namespace, bytes: number): void {
    if (bytes > ns.config.maxMessageBytes) {
      this.metrics.rejected.inc({ reason: 'message_too_big' });
      throw new AirwavesError(Errors.messageTooBig, `message is ${bytes} bytes; namespace "${ns.config.name}" allows ${ns.config.maxMessageBytes}`);
    }
  }

  private async publishPayload(ns: Namespace, channel: string, payload: PublishPayload): Promise<PublishAck | { coalesced: true }> {
    if (ns.config.coalesceMs > 0 && payload.key !== undefined) {
      const coalescer = this.coalescerFor(ns);
      coalescer.offer(`${channel}\u0000${payload.key}`, payload);
      return { coalesced: true };
    }
    return this.engine.publish(channel, payload, ns.retention);
  }

  private coalescerFor(ns: Namespace): Coalescer<PublishPayload> {
    let c = this.coalescers.get(ns.config.name);
    if (!c) {
      const counter = this.metrics.coalesced.labels(ns.config.name);
      c = new Coalescer<PublishPayload>({
        windowMs: ns.config.coalesceMs,
        onCoalesced: () => counter.inc(),
        emit: (key, payload) => {
          const channel = key.slice(0, key.indexOf('\u0000'));
          Promise.resolve(this.engine.publish(channel, payload, ns.retention)).catch((err: Error) =>
            this.log.error({ err, channel }, 'coalesced publish failed'),
          );
        },
      });
      this.coalescers.set(ns.config.name, c);
    }
    return c;
  }

  // ---------------------------------------------------------------- delivery (hot path)

  /** Called by the engine for every publication on a channel this node listens to, in offset order. */
  private deliverLocal(message: HubMessage): void {
    this.publishedTotal++;
    const channel = this.channels.get(message.channel);
    if (!channel) return;
    this.metrics.published.labels(channel.ns.config.name).inc();
    // Engines deliver in offset order; this guard makes "never twice" hold even if one re-delivers
    // (e.g. a cluster engine's gap fill racing a resubscription), at the cost of one compare per message.
    if (message.epoch === channel.lastEpoch && message.offset <= channel.lastOffset) {
      this.metrics.rejected.inc({ reason: 'duplicate_from_engine' });
      return;
    }
    channel.lastOffset = message.offset;
    channel.lastEpoch = message.epoch;
    if (channel.subscribers.size === 0) return;
    frameOf(message); // encode once, before the loop
    const policy = channel.ns.config.slowConsumer;
    for (const sub of channel.subscribers) {
      if (sub.pending) sub.pending.push(message);
      else if (message.offset > sub.startOffset || message.epoch !== sub.startEpoch) sub.session.deliver(message, policy);
    }
    this.metrics.delivered.labels(channel.ns.config.name).inc(channel.subscribers.size);
  }

  /** Session host: called when a session has something to write. */
  scheduleFlush(session: ClientSession): void {
    if (session.flushScheduled) return;
    session.flushScheduled = true;
    this.dirty.push(session);
    if (!this.flushPending) {
      this.flushPending = true;
      setImmediate(this.flushAll);
    }
  }

  private readonly flushAll = (): void => {
    this.flushPending = false;
    const dirty = this.dirty;
    this.dirty = [];
    this.inFlushPass = true;
    for (let i = 0; i < dirty.length; i++) dirty[i].flush();
    this.inFlushPass = false;
    this.batchCache.clear();
    // One observation per pass, taken after its last write for its oldest publication: an upper
    // bound of every delivery in the pass. One per client per pass cost ~5 % of the hub's CPU.
    if (this.passOldestPublishedAt !== Infinity) {
      this.metrics.deliveryLatency.observe((performance.now() - this.passOldestPublishedAt) / 1000);
      this.passOldestPublishedAt = Infinity;
    }
  };

  sharedBatch(items: Outbound[], from: number, to: number): Buffer | undefined {
    const hit = this.batchCache.get(items[from]);
    if (!hit || hit.items.length !== to - from) return undefined;
    // Identity compares: far cheaper than joining the frames again.
    for (let i = to - from - 1; i > 0; i--) if (hit.items[i] !== items[from + i]) return undefined;
    return hit.frame;
  }

  rememberBatch(items: Outbound[], from: number, to: number, frame: Buffer): void {
    for (let i = from; i < to; i++) if ('control' in items[i]) return;
    this.batchCache.set(items[from], { items: from === 0 && to === items.length ? items : items.slice(from, to), frame });
  }

  watchBlocked(session: ClientSession): void {
    this.blocked.add(session);
    if (!this.blockedTimer) {
      this.blockedTimer = setInterval(() => {
        for (const s of this.blocked) {
          if (s.closed) this.blocked.delete(s);
          else if (s.ws.bufferedAmount < 64 * 1024) {
            this.blocked.delete(s);
            s.flush();
          }
        }
        if (this.blocked.size === 0 && this.blockedTimer) {
          clearInterval(this.blockedTimer);
          this.blockedTimer = undefined;
        }
      }, 10);
      this.blockedTimer.unref();
    }
  }

  onSlowConsumer(session: ClientSession, action: 'drop' | 'conflate' | 'disconnect', count: number): void {
    this.metrics.slowConsumerActions.inc({ action }, count);
    this.log.debug({ client: session.id, action, count }, 'slow consumer');
  }

  onWrite(_session: ClientSession, firstPublishedAt: number, _messages: number): void {
    if (Number.isNaN(firstPublishedAt)) return;
    if (this.inFlushPass) {
      if (firstPublishedAt < this.passOldestPublishedAt) this.passOldestPublishedAt = firstPublishedAt;
    } else this.metrics.deliveryLatency.observe((performance.now() - firstPublishedAt) / 1000);
  }

  onSendError(session: ClientSession, err: Error): void {
    this.metrics.sendErrors.inc({ type: err.name || 'Error' });
    this.log.debug({ client: session.id, err }, 'send failed');
  }

  // ---------------------------------------------------------------- connections

  /** Admission check for a new WebSocket from `ip`; returns the error to answer with, if any. */
  admit(ip: string): ErrorSpec | null {
    if (!this.accepting) return Errors.shuttingDown;
    if ((this.connectionsPerIp.get(ip) ?? 0) >= this.config.maxConnectionsPerIp) {
      this.metrics.rejected.inc({ reason: 'connections_per_ip' });
      return Errors.rateLimited;
    }
    return null;
  }

  /** Takes ownership of an upgraded WebSocket. */
  accept(ws: WebSocket, ip: string, identity: ClientIdentity = ANONYMOUS): ClientSession {
    const session = new ClientSession(
      randomUUID(),
      ws,
      ip,
      identity,
      this,
      {
        queueMessages: this.config.outboundQueueMessages,
        queueBytes: this.config.outboundQueueBytes,
        socketHighWater: Math.min(1024 * 1024, this.config.outboundQueueBytes / 2),
      },
      {
        commandsPerSecond: this.config.commandRatePerSecond,
        publishesPerSecond: this.config.publishRatePerSecond,
        publishBytesPerSecond: this.config.publishBytesPerSecond,
      },
    );
    if (identity.user !== null) {
      session.connected = true;
      session.setExpiry(identity.expiresAt, () => session.closeWith(WS_CLOSE.unauthorized, 'token expired'));
    }
    this.sessions.set(session.id, session);
    this.connectionsPerIp.set(ip, (this.connectionsPerIp.get(ip) ?? 0) + 1);
    this.metrics.connections.set(this.sessions.size);
    ws.on('message', (data, isBinary) => this.onFrame(session, data, isBinary));
    ws.on('pong', () => {
      session.alive = true;
    });
    ws.on('error', (err) => this.log.debug({ client: session.id, err }, 'socket error'));
    ws.on('close', () => this.onClose(session));
    return session;
  }

  private onClose(session: ClientSession): void {
    session.markClosed();
    if (!this.sessions.delete(session.id)) return;
    const n = (this.connectionsPerIp.get(session.ip) ?? 1) - 1;
    if (n <= 0) this.connectionsPerIp.delete(session.ip);
    else this.connectionsPerIp.set(session.ip, n);
    for (const sub of [...session.subscriptions.values()]) this.removeSubscription(sub);
    this.blocked.delete(session);
    this.metrics.connections.set(this.sessions.size);
  }

  private heartbeat(): void {
    for (const session of this.sessions.values()) {
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

  // ---------------------------------------------------------------- commands

  private onFrame(session: ClientSession, data: RawData, isBinary: boolean): void {
    if (session.closed) return;
    if (!session.commandBucket.take(1)) {
      this.metrics.rejected.inc({ reason: 'rate_limited' });
      // Answer the command it refused, so the client's request settles instead of timing out.
      // The id is read without a full parse: a flood is exactly when parsing should stay cheap.
      const id = isBinary ? undefined : commandIdOf(data);
      session.sendControl(encodeError(id, Errors.rateLimited.code, `more than ${this.config.commandRatePerSecond} commands/s`));
      return;
    }
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    if (isBinary) {
      void this.onBinaryFrame(session, bytes);
      return;
    }
    let command: ClientCommand;
    try {
      command = parseClientCommand(bytes.toString('utf8'));
    } catch (err) {
      const e = err as ProtocolError;
      this.metrics.rejected.inc({ reason: e.code });
      session.sendControl(encodeError(e.id, e.code, e.message));
      return;
    }
    this.runCommand(session, command).catch((err: unknown) => this.replyError(session, command.id, err));
  }

  private replyError(session: ClientSession, id: number | undefined, err: unknown): void {
    if (isAirwavesError(err)) {
      this.metrics.rejected.inc({ reason: err.code });
      session.sendControl(encodeError(id, err.code, err.message));
      if (err.closeCode) session.closeWith(err.closeCode, err.message.slice(0, 120));
      return;
    }
    this.log.error({ err, client: session.id }, 'command failed');
    session.sendControl(encodeError(id, Errors.internal.code, Errors.internal.message));
  }

  private async runCommand(session: ClientSession, cmd: ClientCommand): Promise<void> {
    if (cmd.op === 'connect') return this.cmdConnect(session, cmd.id, cmd.token);
    if (cmd.op === 'ping') return session.sendControl(encodeReply(cmd.id, { ts: Date.now() }));
    if (!session.connected) {
      if (!this.config.allowAnonymous) throw new AirwavesError(Errors.unauthorized, 'send connect with a token first');
      session.connected = true;
    }
    switch (cmd.op) {
      case 'subscribe':
        return this.cmdSubscribe(session, cmd.id, cmd.channel, cmd.since);
      case 'unsubscribe': {
        const sub = session.subscriptions.get(cmd.channel);
        if (!sub) throw new AirwavesError(Errors.notSubscribed, `not subscribed to "${cmd.channel}"`);
        this.removeSubscription(sub);
        return session.sendControl(encodeReply(cmd.id, { channel: cmd.channel }));
      }
      case 'publish':
        return this.cmdPublish(session, cmd.id, cmd.channel, cmd.data, cmd.key);
      case 'send':
        return this.cmdSend(session, cmd.channel, cmd.data);
      case 'presence': {
        const ns = this.namespaceFor(cmd.channel);
        if (!ns.config.presence) throw new AirwavesError(Errors.presenceDisabled, `presence is off in namespace "${ns.config.name}"`);
        await this.authorize(session, ns, 'subscribe', cmd.channel);
        return session.sendControl(encodeReply(cmd.id, { channel: cmd.channel, clients: this.presenceOf(cmd.channel) }));
      }
      case 'history': {
        const ns = this.namespaceFor(cmd.channel);
        await this.authorize(session, ns, 'subscribe', cmd.channel);
        const slice = await this.engine.history(cmd.channel, 0, Math.min(cmd.limit ?? 100, 1000), ns.retention);
        const pubs = slice.messages.map((m) => ({ offset: m.offset, ts: m.ts, key: m.key, data: m.json === undefined ? null : JSON.parse(m.json) }));
        return session.sendControl(encodeReply(cmd.id, { channel: cmd.channel, epoch: slice.epoch, offset: slice.top, publications: pubs }));
      }
    }
  }

  private async cmdConnect(session: ClientSession, id: number, token: string | undefined): Promise<void> {
    if (session.connected && session.identity.user !== null) throw new AirwavesError(Errors.alreadyConnected);
    if (token !== undefined) {
      try {
        session.identity = await verifyToken(token, this.config.jwtSecret);
      } catch (err) {
        const reason = err instanceof TokenError ? err.message : 'bad token';
        this.metrics.rejected.inc({ reason: 'unauthorized' });
        session.sendControl(encodeError(id, Errors.unauthorized.code, reason));
        session.closeWith(WS_CLOSE.unauthorized, reason.slice(0, 120));
        return;
      }
      session.setExpiry(session.identity.expiresAt, () => session.closeWith(WS_CLOSE.unauthorized, 'token expired'));
    } else if (!this.config.allowAnonymous) {
      this.metrics.rejected.inc({ reason: 'unauthorized' });
      session.sendControl(encodeError(id, Errors.unauthorized.code, 'a token is required'));
      session.closeWith(WS_CLOSE.unauthorized, 'a token is required');
      return;
    }
    session.connected = true;
    session.sendControl(encodeReply(id, { client: session.id, user: session.identity.user, version: PROTOCOL_VERSION, node: this.nodeId }));
  }

  private async authorize(session: ClientSession, ns: Namespace, action: 'subscribe' | 'publish', channel: string): Promise<void> {
    const level = action === 'subscribe' ? ns.config.subscribe : ns.config.publish;
    const identity = session.identity;
    if (level === 'server') throw new AirwavesError(Errors.forbidden, `clients may not ${action} in namespace "${ns.config.name}"`);
    if (level === 'authenticated') {
      if (identity.user === null) throw new AirwavesError(Errors.unauthorized, `namespace "${ns.config.name}" requires a token to ${action}`);
      if (!matchesAny(channel, action === 'subscribe' ? identity.subscribe : identity.publish)) {
        throw new AirwavesError(Errors.forbidden, `token does not allow ${action} on "${channel}"`);
      }
    }
    const hook = ns.hooks.authorize;
    if (hook && !(await hook(action, { client: session.id, identity, channel }))) {
      throw new AirwavesError(Errors.forbidden, `not allowed to ${action} on "${channel}"`);
    }
  }

  private async cmdSubscribe(session: ClientSession, id: number, channel: string, since: { offset: number; epoch: string } | undefined): Promise<void> {
    const ns = this.namespaceFor(channel);
    if (session.subscriptions.has(channel)) throw new AirwavesError(Errors.alreadySubscribed, `already subscribed to "${channel}"`);
    if (session.subscriptions.size >= this.config.maxSubscriptionsPerClient) {
      throw new AirwavesError(Errors.tooManySubscriptions, `at most ${this.config.maxSubscriptionsPerClient} subscriptions per connection`);
    }
    await this.authorize(session, ns, 'subscribe', channel);
    // Authorization may await a hook, so other subscribes can land meanwhile: check both limits again.
    if (session.closed) return;
    if (session.subscriptions.has(channel)) throw new AirwavesError(Errors.alreadySubscribed, `already subscribed to "${channel}"`);
    if (session.subscriptions.size >= this.config.maxSubscriptionsPerClient) {
      throw new AirwavesError(Errors.tooManySubscriptions, `at most ${this.config.maxSubscriptionsPerClient} subscriptions per connection`);
    }

    // Join the channel first with a pending buffer, so nothing published while history is read is lost.
    const sub: Subscription = { session, channel, namespace: ns.config.name, pending: [], policy: ns.config.slowConsumer, startOffset: -1, startEpoch: '' };
    session.subscriptions.set(channel, sub);
    const local = this.joinChannel(channel, ns, sub);
    let result: SubscribeResult;
    let replay: HubMessage[] = [];
    try {
      const after = since ? since.offset : Number.MAX_SAFE_INTEGER;
      const slice = await this.engine.history(channel, since ? since.offset : 0, since ? MAX_REPLAY : 0, ns.retention);
      result = { channel, epoch: slice.epoch, offset: slice.top };
      if (since) {
        const sameEpoch = since.epoch === slice.epoch;
        replay = sameEpoch ? slice.messages.filter((m) => m.offset > after) : [];
        result.recovered = sameEpoch && since.offset <= slice.top && slice.complete;
        result.replayed = replay.length;
      }
    } catch (err) {
      this.removeSubscription(sub);
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
    sub.startOffset = last;
    sub.startEpoch = result.epoch;
    for (const m of pending) if (m.offset > last) session.deliver(m, sub.policy);
    if (local.presence) {
      const entry = { client: session.id, user: session.identity.user };
      local.presence.set(session.id, entry);
      this.broadcastEvent(local, { channel, event: 'join', info: entry }, session);
    }
    ns.hooks.onSubscribe?.({ client: session.id, identity: session.identity, channel });
  }

  private joinChannel(channel: string, ns: Namespace, sub: Subscription): LocalChannel {
    let local = this.channels.get(channel);
    if (!local) {
      local = { name: channel, ns, subscribers: new Set(), presence: ns.config.presence ? new Map() : null, lastOffset: -1, lastEpoch: '' };
      this.channels.set(channel, local);
      void Promise.resolve(this.engine.listen(channel, true)).catch((err: Error) => this.log.error({ err, channel }, 'listen failed'));
    }
    local.subscribers.add(sub);
    this.subscriptionCount++;
    this.metrics.subscriptions.set(this.subscriptionCount);
    return local;
  }

  private removeSubscription(sub: Subscription): void {
    const { session, channel } = sub;
    if (session.subscriptions.get(channel) !== sub) return;
    session.subscriptions.delete(channel);
    const local = this.channels.get(channel);
    if (!local) return;
    local.subscribers.delete(sub);
    this.subscriptionCount--;
    this.metrics.subscriptions.set(this.subscriptionCount);
    if (local.presence?.delete(session.id)) {
      this.broadcastEvent(local, { channel, event: 'leave', info: { client: session.id, user: session.identity.user } });
    }
    local.ns.hooks.onUnsubscribe?.({ client: session.id, identity: session.identity, channel });
    if (local.subscribers.size === 0) {
      this.channels.delete(channel);
      void Promise.resolve(this.engine.listen(channel, false)).catch((err: Error) => this.log.error({ err, channel }, 'unlisten failed'));
    }
  }

  private broadcastEvent(local: LocalChannel, push: Parameters<ClientSession['sendEvent']>[0], except?: ClientSession): void {
    const frame = Buffer.from(JSON.stringify(push));
    for (const sub of local.subscribers) if (sub.session !== except && !sub.pending) sub.session.sendControl(frame);
  }

  private async cmdPublish(session: ClientSession, id: number, channel: string, data: unknown, key: string | undefined): Promise<void> {
    const ns = this.namespaceFor(channel);
    if (ns.config.binary) throw new AirwavesError(Errors.badRequest, `namespace "${ns.config.name}" takes binary frames`);
    if (ns.inputOnly) {
      await this.consumeInput(session, ns, channel, data);
      session.sendControl(encodeReply(id, CONSUMED));
      return;
    }
    await this.authorize(session, ns, 'publish', channel);
    const ctx: ClientContext = { client: session.id, identity: session.identity, channel };
    const value = ns.hooks.onClientPublish ? await ns.hooks.onClientPublish(ctx, data) : data;
    const json = JSON.stringify(value);
    const bytes = Buffer.byteLength(json);
    this.checkClientPublish(session, ns, bytes);
    const ack = await this.publishPayload(ns, channel, { json, key });
    session.sendControl(encodeReply(id, ack));
  }

  /** Size and publish-rate limits of one client publication of `bytes` (JSON). */
  private checkClientPublish(session: ClientSession, ns: Namespace, bytes: number): void {
    this.checkSize(ns, bytes);
    if (!session.publishBucket.take(1) || !session.publishBytesBucket.take(bytes)) {
      throw new AirwavesError(Errors.rateLimited, `publish rate limit: ${this.config.publishRatePerSecond}/s and ${this.config.publishBytesPerSecond} bytes/s`);
    }
  }

  /** `send`: a signal into an input-only namespace. No reply on success; an error reply otherwise. */
  private async cmdSend(session: ClientSession, channel: string, data: unknown): Promise<void> {
    const ns = this.namespaceFor(channel);
    if (!ns.inputOnly) {
      throw new AirwavesError(Errors.badRequest, `send is for input-only namespaces (nobody subscribes, no history); "${ns.config.name}" is not one: use publish`);
    }
    await this.consumeInput(session, ns, channel, data);
  }

  /**
   * Hands a client publication to an input-only namespace's hook. Nobody can read such a
   * namespace, so nothing goes through the engine (in a cluster that would be a Redis round trip
   * per signal, for nothing). Limits are checked before the hook, so a refused signal has no effect.
   */
  private async consumeInput(session: ClientSession, ns: Namespace, channel: string, data: unknown): Promise<void> {
    await this.authorize(session, ns, 'publish', channel);
    const bytes = Buffer.byteLength(JSON.stringify(data));
    this.checkClientPublish(session, ns, bytes);
    await ns.hooks.onClientPublish!({ client: session.id, identity: session.identity, channel }, data);
  }

  private async onBinaryFrame(session: ClientSession, bytes: Buffer): Promise<void> {
    try {
      const frame = decodeBinaryFrame(bytes);
      const ns = this.namespaceFor(frame.channel);
      if (!ns.config.binary) throw new AirwavesError(Errors.binaryNotAllowed, `namespace "${ns.config.name}" takes JSON text frames`);
      await this.authorize(session, ns, 'publish', frame.channel);
      this.checkSize(ns, frame.payload.byteLength);
      if (!session.publishBucket.take(1) || !session.publishBytesBucket.take(frame.payload.byteLength)) {
        throw new AirwavesError(Errors.rateLimited, 'publish rate limit');
      }
      await ns.hooks.onClientBinary?.({ client: session.id, identity: session.identity, channel: frame.channel }, frame.payload);
      await this.engine.publish(frame.channel, { binary: Buffer.from(frame.payload) }, ns.retention);
    } catch (err) {
      if (err instanceof ProtocolError) {
        this.metrics.rejected.inc({ reason: err.code });
        session.sendControl(encodeError(undefined, err.code, err.message));
      } else this.replyError(session, undefined, err);
    }
  }

  // ---------------------------------------------------------------- shutdown

  /**
   * Graceful shutdown: refuse new connections, flush what is queued, close every client with
   * 1012 (service restart, so SDKs reconnect elsewhere), wait up to `drainMs` for them to go.
   */
  async shutdown(drainMs = this.config.shutdownDrainMs): Promise<void> {
    this.accepting = false;
    for (const c of this.coalescers.values()) c.flush();
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
    clearInterval(this.heartbeatTimer);
    clearInterval(this.rateTimer);
    if (this.blockedTimer) clearInterval(this.blockedTimer);
    await this.engine.close();
  }
}

const COMMAND_ID = /^\s*\{[^{}]*?"id"\s*:\s*(\d{1,15})\b/;

/** The `id` of a text command, read from its first bytes; undefined when it is not there. */
function commandIdOf(data: RawData): number | undefined {
  const head = (Array.isArray(data) ? data[0] : Buffer.isBuffer(data) ? data : Buffer.from(data))?.subarray(0, 128).toString('latin1');
  const match = head ? COMMAND_ID.exec(head) : null;
  return match ? Number(match[1]) : undefined;
}
