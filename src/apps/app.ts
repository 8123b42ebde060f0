/**
 * @module apps/app
 * What an app is to the server: a named plugin that registers HTTP routes, hub namespaces and
 * metrics when the server starts, and releases what it holds when the server stops.
 * Apps depend on the hub and core only, never on each other.
 */
import type { FastifyInstance } from 'fastify';
import type { AirwavesConfig } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import type { Registry } from '../core/metrics.js';
import type { Hub } from '../hub/hub.js';
import type { Database } from '../db/database.js';
import type { EventPublisher } from '../events/publisher.js';

export interface AppContext {
  /** Fastify scope for the app's routes (encapsulated: hooks stay inside the app). */
  http: FastifyInstance;
  hub: Hub;
  config: AirwavesConfig;
  logger: Logger;
  metrics: Registry;
  /** The shared database, opened (and the pool shared) on first call. */
  database(): Promise<Database>;
  /**
   * Durable event publishing (Redis Streams with HTTP fallback in a cluster, the in-memory log
   * on a single node): `events.publish({eventId, family, channel, roomId, type, body})`; the
   * hub delivers `body` to `channel` exactly once per event id.
   */
  events?: EventPublisher;
  /** Runs at shutdown, after clients were told to go, in reverse registration order. */
  onClose(fn: () => Promise<void> | void): void;
}

export interface AirwavesApp {
  /** URL segment and namespace prefix, e.g. "radio". */
  name: string;
  title: string;
  description: string;
  register(ctx: AppContext): Promise<void>;
}
