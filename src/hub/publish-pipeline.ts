/**
 * @module hub/publish-pipeline
 * The one way a publication enters the hub. Five doors lead here — `Hub.publish` and
 * `Hub.publishBinary` (server code), the `publish` and `send` commands, and a client's binary
 * frame — and every one passes the same stages in the same order:
 *
 * 1. **namespace**: the channel is valid and its namespace known (`bad_channel`,
 *    `unknown_namespace`), and the door fits the namespace (text or binary; `send` only into an
 *    input-only namespace).
 * 2. **authorize** (clients): access level, token patterns, the namespace's authorize hook
 *    (`unauthorized`, `forbidden`).
 * 3. **limits** (clients): what the client sent fits the namespace's `maxMessageBytes`
 *    (`message_too_big`), then its publish rate and byte rate (`rate_limited`). Checked before
 *    the hook, so a refused publication has no effect.
 * 4. **hook** (clients): `onClientPublish` transforms a text publication, or takes it whole in an
 *    input-only namespace (nothing is stored, the reply is `{consumed: true}`);
 *    `onClientBinary` sees a binary one. A hook refuses by throwing an AirwavesError.
 * 5. **size**: what will be published fits `maxMessageBytes` (`message_too_big`); for a client
 *    this re-measures only when the hook changed the value.
 * 6. **coalesce or engine**: a keyed publication in a coalescing namespace waits for its key's
 *    window (`{coalesced: true}`); everything else gets its offset from the engine.
 *
 * Server code is trusted: it skips stages 2 to 4 (no access check, no client limits, no client
 * hooks), and passes 1, 5 and 6 exactly as clients do. With an engine that publishes
 * synchronously (memory), server code may also take {@link PublishPipeline.publishSync}: the same
 * stages in the call itself, no promise (an in-process publisher at tens of thousands a second
 * paid one per publication).
 */
import { AirwavesError, Errors } from '../core/errors.js';
import type { CoreConfig } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import type { HubMetrics } from '../core/metrics.js';
import { Coalescer } from '../core/coalescer.js';
import type { TokenBucket } from '../core/token-bucket.js';
import type { ClientIdentity } from './auth.js';
import { authorize } from './access.js';
import type { HubEngine, PublishAck, PublishPayload } from './engines/engine.js';
import type { Namespace, NamespaceRegistry } from './namespace.js';

/** The ways in. `server*` are server code; the others are a client's command or frame. */
export type PublishDoor = 'server' | 'server-binary' | 'client-publish' | 'client-send' | 'client-binary';

/** The client behind a client door: who it is and its publish budgets. */
export interface PublishingClient {
  readonly id: string;
  readonly identity: ClientIdentity;
  readonly publishBucket: TokenBucket;
  readonly publishBytesBucket: TokenBucket;
}

export interface PublishRequest {
  door: PublishDoor;
  /** The publishing client; required by the client doors, absent for server code. */
  client?: PublishingClient;
  /** The data of a text publication (any JSON value). */
  data?: unknown;
  /** The payload of a binary publication. */
  binary?: Uint8Array;
  key?: string;
  idempotencyKey?: string;
  eachNodePublishes?: boolean;
}

/** Published with an offset, folded into a coalescing window, or taken by an input-only namespace's hook. */
export type PublishOutcome = PublishAck | { coalesced: true } | { consumed: true };

/** The outcome of a publication an input-only namespace's hook took: nothing was stored. */
export const CONSUMED = Object.freeze({ consumed: true as const });
const COALESCED = Object.freeze({ coalesced: true as const });

export interface PublishPipelineOptions {
  config: CoreConfig;
  namespaces: NamespaceRegistry;
  engine: HubEngine;
  metrics: HubMetrics;
  logger: Logger;
}

export class PublishPipeline {
  private readonly coalescers = new Map<string, Coalescer<PublishPayload>>();

  constructor(private readonly options: PublishPipelineOptions) {}

  async publish(channel: string, request: PublishRequest): Promise<PublishOutcome> {
    // 1. namespace
    const ns = this.options.namespaces.resolve(channel);
    checkDoor(ns, request.door);
    const client = request.client;
    const payload = payloadOf(request);
    if (!client) return this.commit(ns, channel, payload, request.door, -1);
    let bytes = payloadBytes(payload);
    // 2. authorize
    await authorize(client.id, client.identity, ns, 'publish', channel);
    // 3. limits
    this.checkSize(ns, bytes);
    if (!client.publishBucket.take(1) || !client.publishBytesBucket.take(bytes)) {
      const { publishRatePerSecond, publishBytesPerSecond } = this.options.config;
      throw new AirwavesError(Errors.rateLimited, `publish rate limit: ${publishRatePerSecond}/s and ${publishBytesPerSecond} bytes/s`);
    }
    // 4. hook
    const ctx = { client: client.id, identity: client.identity, channel };
    if (payload.binary) await ns.hooks.onClientBinary?.(ctx, payload.binary);
    else if (ns.inputOnly) {
      await ns.hooks.onClientPublish!(ctx, request.data);
      return CONSUMED;
    } else if (ns.hooks.onClientPublish) {
      const value = await ns.hooks.onClientPublish(ctx, request.data);
      if (value !== request.data) {
        payload.json = jsonOf(value);
        bytes = -1; // changed: measure again in commit
      }
    }
    return this.commit(ns, channel, payload, request.door, bytes);
  }

  /** True when the engine gives offsets in the call itself (the memory engine): {@link publishSync} works. */
  get synchronous(): boolean {
    return this.options.engine.publishesSynchronously === true;
  }

  /**
   * A server door's publication in this very call, with no promise: stages 1, 5 and 6, then the
   * engine's offset (or `{coalesced: true}`). Refusals throw the same AirwavesError the async
   * path rejects with. Only for an engine that publishes synchronously (`sync_publish_unsupported`
   * otherwise, checked before anything else, so nothing was published).
   */
  publishSync(channel: string, request: PublishRequest & { door: 'server' | 'server-binary' }): PublishAck | { coalesced: true } {
    if (!this.synchronous) {
      throw new AirwavesError(Errors.syncPublishUnsupported, `the ${this.options.engine.name} engine publishes asynchronously: use publish()`);
    }
    const ns = this.options.namespaces.resolve(channel);
    checkDoor(ns, request.door);
    return this.commit(ns, channel, payloadOf(request), request.door, -1) as PublishAck | { coalesced: true };
  }

  /**
   * Stages 5 and 6: size (measured here unless `bytes` holds a client's unchanged publication,
   * measured at its limits), then coalesce or engine.
   */
  private commit(ns: Namespace, channel: string, payload: PublishPayload, door: PublishDoor, bytes: number): PublishAck | Promise<PublishAck> | { coalesced: true } {
    if (bytes < 0) this.checkSize(ns, payloadBytes(payload));
    if (ns.config.coalesceMs > 0 && payload.key !== undefined) {
      this.coalescerFor(ns).offer(`${channel}\u0000${payload.key}`, payload);
      return COALESCED;
    }
    // A client frame's payload is a view into the socket's buffer: the engine gets its own copy.
    if (door === 'client-binary' && payload.binary) payload.binary = Buffer.from(payload.binary);
    return this.options.engine.publish(channel, payload, ns.retentionOf(channel));
  }

  /** Publishes what every coalescing window holds now (shutdown). */
  flushCoalesced(): void {
    for (const c of this.coalescers.values()) c.flush();
  }

  private checkSize(ns: Namespace, bytes: number): void {
    if (bytes > ns.config.maxMessageBytes) {
      this.options.metrics.rejected.inc({ reason: 'message_too_big' });
      throw new AirwavesError(Errors.messageTooBig, `message is ${bytes} bytes; namespace "${ns.config.name}" allows ${ns.config.maxMessageBytes}`);
    }
  }

  private coalescerFor(ns: Namespace): Coalescer<PublishPayload> {
    let c = this.coalescers.get(ns.config.name);
    if (!c) {
      const counter = this.options.metrics.coalesced.labels(ns.config.name);
      c = new Coalescer<PublishPayload>({
        windowMs: ns.config.coalesceMs,
        onCoalesced: () => counter.inc(),
        emit: (key, payload) => {
          const channel = key.slice(0, key.indexOf('\u0000'));
          Promise.resolve(this.options.engine.publish(channel, payload, ns.retentionOf(channel))).catch((err: Error) =>
            this.options.logger.error({ err, channel }, 'coalesced publish failed'),
          );
        },
      });
      this.coalescers.set(ns.config.name, c);
    }
    return c;
  }
}

/** Stage 1's second half: the door fits the namespace. */
function checkDoor(ns: Namespace, door: PublishDoor): void {
  const name = ns.config.name;
  switch (door) {
    case 'server':
      if (ns.config.binary) throw new AirwavesError(Errors.badRequest, `namespace "${name}" carries binary frames; use publishBinary`);
      return;
    case 'client-publish':
      if (ns.config.binary) throw new AirwavesError(Errors.badRequest, `namespace "${name}" takes binary frames`);
      return;
    case 'client-send':
      if (!ns.inputOnly) throw new AirwavesError(Errors.badRequest, `send is for input-only namespaces (nobody subscribes, no history); "${name}" is not one: use publish`);
      return;
    case 'server-binary':
      if (!ns.config.binary) throw new AirwavesError(Errors.binaryNotAllowed, `namespace "${name}" is not binary`);
      return;
    case 'client-binary':
      if (!ns.config.binary) throw new AirwavesError(Errors.binaryNotAllowed, `namespace "${name}" takes JSON text frames`);
      return;
  }
}

function payloadOf(request: PublishRequest): PublishPayload {
  if (request.binary) return { binary: request.binary };
  return { json: jsonOf(request.data), key: request.key, idempotencyKey: request.idempotencyKey, eachNodePublishes: request.eachNodePublishes };
}

function jsonOf(data: unknown): string {
  const json = JSON.stringify(data);
  if (json === undefined) throw new AirwavesError(Errors.badRequest, 'data must be JSON-serialisable');
  return json;
}

function payloadBytes(payload: PublishPayload): number {
  return payload.binary ? payload.binary.byteLength : Buffer.byteLength(payload.json ?? '');
}
