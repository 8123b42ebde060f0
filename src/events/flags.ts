/**
 * @module events/flags
 * The event transport's runtime flags: their shape, their defaults from configuration and the
 * check applied to a patch from the admin API. Its own module so that the publisher factory and
 * the Redis flag store both depend on it instead of on each other.
 */
import type { CoreConfig } from '../core/config.js';
import { AirwavesError, Errors } from '../core/errors.js';

export interface EventTransportFlags {
  useRedisStreams: boolean;
  /** 0..100: rooms whose bucket is below this go over Redis Streams. */
  redisPercentage: number;
  fallbackToHttp: boolean;
  dualWrite: boolean;
}

export function flagsFromConfig(config: CoreConfig): EventTransportFlags {
  return {
    useRedisStreams: config.eventTransportUseRedisStreams,
    redisPercentage: config.eventTransportRedisPercentage,
    fallbackToHttp: config.eventTransportFallbackToHttp,
    dualWrite: config.eventTransportDualWrite,
  };
}

export function checkFlags(patch: unknown): Partial<EventTransportFlags> {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) throw new AirwavesError(Errors.badRequest, 'body must be an object of flags');
  const out: Partial<EventTransportFlags> = {};
  for (const [key, value] of Object.entries(patch)) {
    if (key === 'redisPercentage') {
      if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > 100) throw new AirwavesError(Errors.badRequest, 'redisPercentage must be an integer from 0 to 100');
      out.redisPercentage = value as number;
    } else if (key === 'useRedisStreams' || key === 'fallbackToHttp' || key === 'dualWrite') {
      if (typeof value !== 'boolean') throw new AirwavesError(Errors.badRequest, `${key} must be true or false`);
      out[key] = value;
    } else throw new AirwavesError(Errors.badRequest, `unknown flag "${key}"; expected useRedisStreams, redisPercentage, fallbackToHttp, dualWrite`);
  }
  return out;
}
