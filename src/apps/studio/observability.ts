/**
 * @module apps/studio/observability
 * The studio's Prometheus metrics: API latency per route, database query latency per statement
 * kind, pool usage, cache hit ratio; and the slow-query log.
 */
import type { FastifyInstance } from 'fastify';
import { prom, type Registry } from '../../core/metrics.js';
import type { Logger } from '../../core/logger.js';
import type { Database } from '../../db/database.js';
import type { CacheCounters } from './cache.js';

export const SLOW_QUERY_MS = 500;

export function createStudioMetrics(registry: Registry) {
  const registers = [registry];
  const cacheRequests = new prom.Counter({ name: 'studio_cache_requests_total', help: 'Studio cache lookups', labelNames: ['cache', 'result'] as const, registers });
  const hits = new Map<string, number>();
  const totals = new Map<string, number>();
  const cache: CacheCounters = {
    hit(name) {
      cacheRequests.inc({ cache: name, result: 'hit' });
      hits.set(name, (hits.get(name) ?? 0) + 1);
      totals.set(name, (totals.get(name) ?? 0) + 1);
    },
    miss(name) {
      cacheRequests.inc({ cache: name, result: 'miss' });
      totals.set(name, (totals.get(name) ?? 0) + 1);
    },
  };
  new prom.Gauge({
    name: 'studio_cache_hit_ratio',
    help: 'Share of studio cache lookups served from the cache since start',
    labelNames: ['cache'] as const,
    registers,
    collect() {
      for (const [name, total] of totals) this.set({ cache: name }, total ? (hits.get(name) ?? 0) / total : 0);
    },
  });
  return {
    cache,
    apiLatency: new prom.Histogram({
      name: 'studio_api_request_duration_seconds',
      help: 'Studio API latency per route',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    queryLatency: new prom.Histogram({
      name: 'studio_db_query_duration_seconds',
      help: 'Database query latency seen by the studio, per statement kind',
      labelNames: ['kind', 'outcome'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 5],
      registers,
    }),
    slowQueries: new prom.Counter({ name: 'studio_db_slow_queries_total', help: `Queries slower than ${SLOW_QUERY_MS} ms`, registers }),
    jobsProgress: new prom.Counter({ name: 'studio_generated_conversations_total', help: 'Conversations written by generation jobs', labelNames: ['generator', 'outcome'] as const, registers }),
  };
}
export type StudioMetrics = ReturnType<typeof createStudioMetrics>;

export function registerPoolGauges<DB>(registry: Registry, database: Database<DB>): void {
  const pool = database.pool;
  if (!pool) return;
  new prom.Gauge({
    name: 'studio_db_pool_connections',
    help: 'PostgreSQL pool connections by state',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      this.set({ state: 'total' }, pool.totalCount);
      this.set({ state: 'idle' }, pool.idleCount);
      this.set({ state: 'waiting' }, pool.waitingCount);
    },
  });
}

const KINDS = ['select', 'insert', 'update', 'delete', 'explain', 'analyze'] as const;

/** A statement's kind; a CTE (`with …`) is filed under what it does, so ranked searches count as selects. */
export function kindOf(text: string): string {
  const first = text.trimStart().slice(0, 8).toLowerCase();
  if (first.startsWith('with')) return /\b(insert|update|delete)\b/i.exec(text)?.[1].toLowerCase() ?? 'select';
  return KINDS.find((k) => first.startsWith(k)) ?? 'other';
}

/** Feeds the query histogram and logs statements over SLOW_QUERY_MS (SQL text only: values are bind parameters). */
export function observeQueries<DB>(database: Database<DB>, metrics: StudioMetrics, log: Logger): () => void {
  return database.onQuery((ms, text, failed) => {
    const kind = kindOf(text);
    metrics.queryLatency.observe({ kind, outcome: failed ? 'error' : 'ok' }, ms / 1000);
    if (ms > SLOW_QUERY_MS) {
      metrics.slowQueries.inc();
      log.warn({ ms: Math.round(ms), sql: text.replace(/\s+/g, ' ').slice(0, 500) }, 'slow query');
    }
  });
}

/** Times every request in the scope by its route pattern (bounded labels: never the raw URL). */
export function observeRequests(http: FastifyInstance, metrics: StudioMetrics): void {
  http.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unknown';
    metrics.apiLatency.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });
}
