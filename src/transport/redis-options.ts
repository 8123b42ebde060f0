/**
 * @module transport/redis-options
 * The ioredis settings every Airwaves Redis connection shares (hub engine, event log, flag
 * store): connect on demand, give up a connection attempt after 2 s, and retry quickly but
 * capped, so a Redis restart costs at most half a second of reconnect delay.
 */
import type { RedisOptions } from 'ioredis';

export function redisBaseOptions(connectionName: string): RedisOptions {
  return {
    lazyConnect: true,
    connectTimeout: 2000,
    retryStrategy: (times) => Math.min(50 * times, 500),
    connectionName,
  };
}
