/**
 * @module http/rate-limit-store
 * Rate-limit counters that outlive one Fastify instance. @fastify/rate-limit keeps its counters
 * per registration (a fresh in-memory store per route), so the instance that serves while the
 * apps start (./starting-server.ts) and the full instance would each count a client on their
 * own: a client could sign in `max` times on one and `max` times more on the other. Both register
 * the plugin with the store class made here, whose per-route stores are kept by route (method and
 * URL), so each route has one counter per node whichever instance answers.
 */
import { createRequire } from 'node:module';
import type { FastifyRateLimitOptions, FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';

type LocalStoreCtor = new (continueExceeding?: boolean, exponentialBackoff?: boolean, cache?: number) => FastifyRateLimitStore;
// The plugin's own in-memory store (an LRU with its window logic), which its typings do not list.
const LocalStore = createRequire(import.meta.url)('@fastify/rate-limit/store/LocalStore') as LocalStoreCtor;

/** What the plugin passes to `child`: the route's merged limit options and the route itself. */
interface ChildOptions {
  continueExceeding?: boolean;
  exponentialBackoff?: boolean;
  cache?: number;
  routeInfo?: { method?: string | string[]; url?: string };
}

const localStore = (o: ChildOptions): FastifyRateLimitStore => new LocalStore(o.continueExceeding, o.exponentialBackoff, o.cache);

/** A store class for `@fastify/rate-limit`'s `store` option; every registration given it shares its counters. */
export function sharedRateLimitStore(): FastifyRateLimitStoreCtor {
  const byRoute = new Map<string, FastifyRateLimitStore>();
  let global: FastifyRateLimitStore | undefined;
  return class SharedRateLimitStore implements FastifyRateLimitStore {
    readonly #global: FastifyRateLimitStore;

    constructor(options: FastifyRateLimitOptions) {
      this.#global = global ??= localStore(options as ChildOptions);
    }

    incr(...args: Parameters<FastifyRateLimitStore['incr']>): void {
      this.#global.incr(...args);
    }

    child(routeOptions: Parameters<FastifyRateLimitStore['child']>[0]): FastifyRateLimitStore {
      const options = routeOptions as unknown as ChildOptions;
      const { method, url } = options.routeInfo ?? {};
      // A limiter made outside a route (fastify.rateLimit()) has no route to share by.
      if (method === undefined || url === undefined) return localStore(options);
      const route = `${[method].flat().join(',')} ${url}`;
      let store = byRoute.get(route);
      if (!store) byRoute.set(route, (store = localStore(options)));
      return store;
    }
  };
}
