/**
 * @module core/prom-client-metrics
 * The types of prom-client's default-metric modules (`prom-client/lib/metrics/<name>.js`), which
 * it ships untyped: each registers its metrics on a registry. core/metrics imports them one by one
 * to register all but the event-loop lag, which core/loop-lag measures instead.
 */
declare module 'prom-client/lib/metrics/*.js' {
  import type { Registry } from 'prom-client';
  const register: (registry: Registry, config?: { eventLoopMonitoringPrecision?: number; prefix?: string }) => void;
  export default register;
}
