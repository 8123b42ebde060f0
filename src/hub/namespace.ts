/**
 * @module hub/namespace
 * Namespaces group channels under one set of rules (the part of a channel name before the first
 * ":"). Apps register theirs in code, with hooks; users declare more in configuration.
 */
import { namespaceConfigSchema, type NamespaceConfig, type NamespaceConfigInput } from '../core/config.js';
import { AirwavesError, Errors } from '../core/errors.js';
import { isValidChannel, namespaceOf } from '../protocol/index.js';
import type { ClientIdentity } from './auth.js';
import type { ChannelRetention } from './engines/engine.js';

/** The retry hint an `app_starting` refusal carries (apps start in seconds; HTTP says Retry-After: 1). */
export const APP_STARTING_RETRY_MS = 1000;

export interface ClientContext {
  client: string;
  identity: ClientIdentity;
  channel: string;
}

export interface NamespaceHooks {
  /** Extra check after the access level and token patterns passed. Return false for `forbidden`. */
  authorize?(action: 'subscribe' | 'publish', ctx: ClientContext): boolean | Promise<boolean>;
  /**
   * Validates or transforms a client publication before it enters the hub; throw an AirwavesError
   * to reject it. The returned value is what is published.
   */
  onClientPublish?(ctx: ClientContext, data: unknown): unknown | Promise<unknown>;
  /** A client binary frame on a binary namespace (throw to reject). */
  onClientBinary?(ctx: ClientContext, payload: Uint8Array): void | Promise<void>;
  onSubscribe?(ctx: ClientContext): void;
  onUnsubscribe?(ctx: ClientContext): void;
}

export interface Namespace {
  readonly config: NamespaceConfig;
  readonly hooks: NamespaceHooks;
  /** The namespace's history rule (channels no `historyBySuffix` entry matches). */
  readonly retention: ChannelRetention;
  /** The history rule of one channel: its `historyBySuffix` entry, else `retention` (no allocation). */
  retentionOf(channel: string): ChannelRetention;
  /**
   * Clients publish into it and nobody can read it (subscribe "server", no history): the
   * onClientPublish hook is where its publications go, and they never enter the engine.
   */
  readonly inputOnly: boolean;
}

export class NamespaceRegistry {
  private readonly byName = new Map<string, Namespace>();
  /** Namespaces an app declared and has not registered yet (it is starting): name → app. */
  private readonly reserved = new Map<string, string>();

  /**
   * Holds `names` for `app` until it registers them: meanwhile a channel there answers
   * `app_starting` (retry) rather than `unknown_namespace`.
   */
  reserve(app: string, names: readonly string[]): void {
    for (const name of names) {
      if (this.byName.has(name) || this.reserved.has(name)) throw new Error(`namespace "${name}" (declared by ${app}) is already registered or declared`);
      this.reserved.set(name, app);
    }
  }

  /** What `app` declared and has not registered (none once it has started as it said). */
  reservedBy(app: string): string[] {
    return [...this.reserved].filter(([, owner]) => owner === app).map(([name]) => name);
  }

  register(input: NamespaceConfigInput, hooks: NamespaceHooks = {}): Namespace {
    const config = namespaceConfigSchema.parse(input);
    if (this.byName.has(config.name)) throw new Error(`namespace "${config.name}" is already registered`);
    this.reserved.delete(config.name);
    const historyTtlMs = config.historyTtlSeconds * 1000;
    const inBuffers = config.historyInBuffers === true;
    const retention: ChannelRetention = { historySize: config.historySize, historyTtlMs, inBuffers };
    // Longest suffix first, so the most specific rule wins whatever the order they were written in.
    const bySuffix = Object.entries(config.historyBySuffix ?? {})
      .sort(([a], [b]) => b.length - a.length)
      .map(([suffix, historySize]) => ({ suffix, retention: { historySize, historyTtlMs, inBuffers } }));
    const ns: Namespace = {
      config,
      hooks,
      retention,
      retentionOf: (channel) => {
        for (const r of bySuffix) if (channel.endsWith(r.suffix)) return r.retention;
        return retention;
      },
      inputOnly: config.subscribe === 'server' && config.historySize === 0 && hooks.onClientPublish !== undefined,
    };
    this.byName.set(config.name, ns);
    return ns;
  }

  /**
   * The namespace a channel belongs to; `bad_channel` or `unknown_namespace` when there is none,
   * `app_starting` when the app that declared it has not registered it yet.
   */
  resolve(channel: string): Namespace {
    if (!isValidChannel(channel)) throw new AirwavesError(Errors.badChannel, `bad channel "${String(channel).slice(0, 80)}": expected namespace:name`);
    const ns = this.byName.get(namespaceOf(channel));
    if (ns) return ns;
    const app = this.reserved.get(namespaceOf(channel));
    if (app) throw new AirwavesError(Errors.appStarting, `${app} is starting: namespace "${namespaceOf(channel)}" serves in a moment; retry after 1 s`, { retryAfterMs: APP_STARTING_RETRY_MS });
    throw new AirwavesError(Errors.unknownNamespace, `unknown namespace "${namespaceOf(channel)}"`);
  }

  get(name: string): Namespace | undefined {
    return this.byName.get(name);
  }

  list(): Namespace[] {
    return [...this.byName.values()];
  }
}
