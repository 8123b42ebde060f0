/**
 * @module apps/app
 * What an app is to the server: a named plugin that registers HTTP routes, hub namespaces and
 * metrics when the server starts, and releases what it holds when the server stops.
 * Apps depend on the hub, auth and core only, never on each other; http does not import this
 * contract (the composition root hands apps to http as summaries).
 */
import type { FastifyInstance } from 'fastify';
import type { CoreConfig } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import type { Registry } from '../core/metrics.js';
import type { HubApi } from '../hub/hub-api.js';
import type { Database } from '../db/database.js';
import type { EventPublisher } from '../events/publisher.js';
import type { AppAuth } from '../auth/app-auth.js';

/**
 * What an app is given at start. `S` is the app's own settings (src/apps/<app>/settings.ts):
 * the app sees the core's configuration and its own, never another app's.
 */
export interface AppContext<S extends object = object> {
  /**
   * Fastify scope for the app's routes, mounted at `/api/v1/<app>` (`apiPrefix`): an app registers
   * `/stations`, users see `/api/v1/radio/stations`. Encapsulated: hooks stay inside the app.
   */
  http: FastifyInstance;
  hub: HubApi;
  config: CoreConfig & S;
  /**
   * The auth model: every route declares `config: { auth: … }` (see auth/rules; `ctx.auth.rule`
   * has shorthands), the HTTP hook enforces it before validation; mint tokens for identities
   * the app vouches for; `auth.demo` says whether demo logins may exist.
   */
  auth: AppAuth;
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

/**
 * What the server knows of an app before importing it (src/apps/<app>/manifest.ts, listed in
 * apps/catalog): enough to route its URLs, list it on the landing page and reserve its hub
 * namespaces while it starts.
 */
export interface AppManifest {
  /** Namespace prefix and, unless `apiSegment` says otherwise, URL segment of its API, e.g. "radio". */
  name: string;
  /** The URL segment of its API when it is not the name (the live app serves /api/v1/streams). */
  apiSegment?: string;
  title: string;
  description: string;
  /**
   * The hub namespaces its `register` creates. Until it has, a client subscribing or publishing
   * there gets 503 `app_starting` (retry) instead of `unknown_namespace`; an app that starts
   * without registering one it declared fails its start (the declaration would be a lie).
   */
  namespaces?: readonly string[];
}

export interface AirwavesApp<S extends object = object> extends AppManifest {
  /** Registers on `ctx.http`, a scope the server mounts at `apiPrefix(app)`: route paths are relative to it. */
  register(ctx: AppContext<S>): Promise<void>;
}

/** Where every app's API lives. */
export const API_ROOT = '/api/v1';

/** The URL segment of an app's API under /api/v1/. */
export function apiSegmentOf(app: Pick<AppManifest, 'name' | 'apiSegment'>): string {
  return app.apiSegment ?? app.name;
}

/** The prefix the server mounts an app's routes at: `/api/v1/<segment>`. */
export function apiPrefix(app: Pick<AppManifest, 'name' | 'apiSegment'>): string {
  return `${API_ROOT}/${apiSegmentOf(app)}`;
}
