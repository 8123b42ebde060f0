/**
 * @module hub/hub
 * The hub's public face, composed of its parts (as centrifuge's Node is over its Hub, Client
 * and writer):
 *
 * - `channels` (./channels.ts): local channels, subscribe/unsubscribe, presence, local delivery
 *   with its duplicate guard — the engine hands every publication to it;
 * - `flush` (./flush.ts): the scheduler that writes queued frames to the sockets once per turn;
 * - `commands` (./commands.ts): the protocol commands of each client session;
 * - `pipeline` (./publish-pipeline.ts): the one publish pipeline behind every door;
 * - `connections` (./connections.ts): admission, sessions, heartbeat, drain.
 *
 * Apps see it through {@link HubApi}; the server also starts it, hands it upgraded sockets
 * (ws-server) and shuts it down.
 */
import type { WebSocket } from 'ws';
import type { CoreConfig, NamespaceConfigInput } from '../core/config.js';
import type { ErrorSpec } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { HubMetrics } from '../core/metrics.js';
import type { PresenceEntry } from '../protocol/index.js';
import type { ClientIdentity } from './auth.js';
import { LocalChannels } from './channels.js';
import type { ClientSession } from './client-session.js';
import { CommandRunner } from './commands.js';
import { Connections } from './connections.js';
import type { HubEngine, PublishAck } from './engines/engine.js';
import { MemoryPresence } from './engines/memory/memory-presence.js';
import type { PresenceStore } from './engines/presence.js';
import { FlushScheduler } from './flush.js';
import type { HistoryPage, HubApi, ServerPublishOptions } from './hub-api.js';
import { NamespaceRegistry, type Namespace, type NamespaceHooks } from './namespace.js';
import { PublishPipeline } from './publish-pipeline.js';

export interface HubOptions {
  config: CoreConfig;
  engine: HubEngine;
  metrics: HubMetrics;
  logger: Logger;
  nodeId: string;
  /** Who is on each presence channel; per node (in memory) unless given (see engines/presence.ts). */
  presence?: PresenceStore;
}

export interface HubStats {
  connections: number;
  subscriptions: number;
  channels: number;
  publishedTotal: number;
  publishRate: number;
}

/** The shortest window the publish rate (hub_publish_rate, stats) is averaged over. */
const RATE_WINDOW_MS = 2000;

export class Hub implements HubApi {
  readonly namespaces = new NamespaceRegistry();
  readonly nodeId: string;
  private readonly config: CoreConfig;
  private readonly engine: HubEngine;
  private readonly metrics: HubMetrics;
  private readonly channels: LocalChannels;
  private readonly presence: PresenceStore;
  private readonly flush: FlushScheduler;
  private readonly pipeline: PublishPipeline;
  private readonly connections: Connections;
  private rateSampleAt = performance.now();
  private rateSampleTotal = 0;
  private publishRate = 0;

  constructor(options: HubOptions) {
    this.config = options.config;
    this.engine = options.engine;
    this.metrics = options.metrics;
    this.nodeId = options.nodeId;
    const { config, engine, metrics } = options;
    const logger = options.logger.child({ module: 'hub' });
    for (const ns of config.namespaces) this.namespaces.register(ns);
    this.presence = options.presence ?? new MemoryPresence();
    this.channels = new LocalChannels({ engine, presence: this.presence, metrics, logger });
    this.flush = new FlushScheduler(metrics, logger, config.hubFlushSliceMs);
    this.pipeline = new PublishPipeline({ config, namespaces: this.namespaces, engine, metrics, logger });
    const commands = new CommandRunner({ config, nodeId: this.nodeId, namespaces: this.namespaces, engine, channels: this.channels, pipeline: this.pipeline, metrics, logger });
    this.connections = new Connections({ config, channels: this.channels, commands, flush: this.flush, metrics, logger });
  }

  /** Starts the engine, with the local channels as its listener, then the heartbeat and the rate gauge. */
  async start(): Promise<void> {
    await this.engine.start(this.channels.deliverFromEngine, this.channels.notices);
    this.connections.startHeartbeat();
    // Computed when read (a scrape, stats()), not by a timer: an idle hub wakes for nothing.
    this.metrics.publishRate.read = () => this.currentPublishRate();
  }

  /**
   * Publications per second since the previous sample, taken when read at least RATE_WINDOW_MS
   * after it (until then the last figure stands): read every scrape, it is the rate over the
   * scrape interval.
   */
  private currentPublishRate(): number {
    const now = performance.now();
    if (now - this.rateSampleAt >= RATE_WINDOW_MS) {
      const total = this.channels.publishedTotal;
      this.publishRate = (total - this.rateSampleTotal) / ((now - this.rateSampleAt) / 1000);
      this.rateSampleTotal = total;
      this.rateSampleAt = now;
    }
    return this.publishRate;
  }

  /** Open WebSocket connections (what stats() reports, without sampling the publish rate). */
  get connectionCount(): number {
    return this.connections.size;
  }

  get engineName(): string {
    return this.engine.name;
  }

  registerNamespace(config: NamespaceConfigInput, hooks: NamespaceHooks = {}): Namespace {
    return this.namespaces.register(config, hooks);
  }

  stats(): HubStats {
    return {
      connections: this.connections.size,
      subscriptions: this.channels.subscriptions,
      channels: this.channels.size,
      publishedTotal: this.channels.publishedTotal,
      publishRate: this.currentPublishRate(),
    };
  }

  ready(): Promise<boolean> {
    return this.engine.ready();
  }

  // ---------------------------------------------------------------- the app's API (HubApi)

  publish(channel: string, data: unknown, options: ServerPublishOptions = {}): Promise<PublishAck | { coalesced: true }> {
    // On a synchronous engine the one promise is the caller's: none inside the pipeline.
    if (this.pipeline.synchronous) return settled(() => this.publishSync(channel, data, options));
    return this.pipeline.publish(channel, { door: 'server', data, ...options }) as Promise<PublishAck | { coalesced: true }>; // server doors are never consumed by a hook
  }

  publishBinary(channel: string, payload: Uint8Array): Promise<PublishAck> {
    if (this.pipeline.synchronous) return settled(() => this.publishBinarySync(channel, payload));
    return this.pipeline.publish(channel, { door: 'server-binary', binary: payload }) as Promise<PublishAck>; // no key: never coalesced
  }

  get publishesSynchronously(): boolean {
    return this.pipeline.synchronous;
  }

  publishSync(channel: string, data: unknown, options: ServerPublishOptions = {}): PublishAck | { coalesced: true } {
    return this.pipeline.publishSync(channel, { door: 'server', data, ...options });
  }

  publishBinarySync(channel: string, payload: Uint8Array): PublishAck {
    return this.pipeline.publishSync(channel, { door: 'server-binary', binary: payload }) as PublishAck; // no key: never coalesced
  }

  subscriberCount(channel: string): number {
    return this.channels.subscriberCount(channel);
  }

  /** This node's channels with their local subscriber and presence counts (the inspector's list). */
  channelCounts(): { channel: string; namespace: string; subscribers: number }[] {
    return this.channels.counts();
  }

  presenceOf(channel: string): PresenceEntry[] | Promise<PresenceEntry[]> {
    return this.channels.presenceOf(channel);
  }

  async history(channel: string, afterOffset = 0, limit = 100): Promise<HistoryPage> {
    const ns = this.namespaces.resolve(channel);
    const slice = await this.engine.history(channel, afterOffset, limit, ns.retentionOf(channel));
    return {
      epoch: slice.epoch,
      top: slice.top,
      messages: slice.messages.map((m) => ({ offset: m.offset, ts: m.ts, data: m.json === undefined ? null : JSON.parse(m.json) })),
    };
  }

  // ---------------------------------------------------------------- the server's side

  /** Admission check for a new WebSocket from `ip`; returns the error to answer with, if any. */
  admit(ip: string): ErrorSpec | null {
    return this.connections.admit(ip);
  }

  /** Takes ownership of an upgraded WebSocket. */
  accept(ws: WebSocket, ip: string, identity?: ClientIdentity): ClientSession {
    return this.connections.accept(ws, ip, identity);
  }

  /**
   * Graceful shutdown, in this order: refuse new connections; publish what coalescing windows
   * hold; tell every client 1012 and wait up to `drainMs` for them to go (then terminate the
   * rest); stop the timers; close the engine.
   */
  async shutdown(drainMs = this.config.shutdownDrainMs): Promise<void> {
    this.connections.stopAccepting();
    this.pipeline.flushCoalesced();
    await this.connections.drain(drainMs);
    this.flush.close();
    await this.presence.close?.();
    await this.engine.close();
  }
}

/** `run`'s result as a settled promise: a throw becomes a rejection, as from an async function. */
function settled<T>(run: () => T): Promise<T> {
  try {
    return Promise.resolve(run());
  } catch (err) {
    return Promise.reject(err as Error);
  }
}
