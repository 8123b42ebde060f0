/**
 * @module apps/studio
 * The conversation studio: browse, search, review, generate and export conversation data for
 * LoRA fine-tuning, at 10^4–10^6 rows. API under /api/v1/studio, UI at /studio/, job progress
 * on hub channels `studio:job:<id>`. See docs/studio.md.
 */
import { constants as zlibConstants } from 'node:zlib';
import compress from '@fastify/compress';
import rateLimit from '@fastify/rate-limit';
import type { AirwavesApp } from '../app.js';
import type { StudioConfig } from './settings.js';
import type { Database } from '../../db/database.js';
import { generatorFromConfig, type ConversationGenerator } from './generator.js';
import { JobRunner } from './jobs.js';
import { migrations } from './migrations.js';
import { createStudioMetrics, observeQueries, observeRequests, registerPoolGauges } from './observability.js';
import { registerStudioRoutes } from './routes/index.js';
import { registerSeedRoutes } from './seed-routes.js';
import type { StudioDB } from './types.js';
import { studioManifest } from './manifest.js';

export interface StudioOptions {
  /** Requests per minute per client IP on the studio routes. */
  rateLimitPerMinute?: number;
  /** Overrides the generator chosen from configuration (LLM_BASE_URL or offline). */
  generator?: ConversationGenerator;
  /** How long a node's claim on a job lasts without renewal (jobs.ts; default 30 s). */
  jobLeaseMs?: number;
  /** Run the generation worker in this process (default true). */
  worker?: boolean;
  /** Called once the schema is migrated, with the database the app uses (seeding, tests, tools). */
  onReady?(database: Database<StudioDB>): void | Promise<void>;
}

export function createStudioApp(options: StudioOptions = {}): AirwavesApp<StudioConfig> {
  return {
    ...studioManifest,
    async register(ctx) {
      const database = (await ctx.database()) as Database<StudioDB>;
      await database.migrate('studio', migrations);
      const log = ctx.logger;
      const metrics = createStudioMetrics(ctx.metrics);
      registerPoolGauges(ctx.metrics, database);
      const stopObserving = observeQueries(database, metrics, log);

      // Job progress is curator data: only tokens whose claims grant `studio:*` (the admin's, a curator's) may subscribe.
      ctx.hub.registerNamespace({ name: 'studio', subscribe: 'authenticated', publish: 'server', historySize: 5, historyTtlSeconds: 3600 });

      const generator = options.generator ?? generatorFromConfig(ctx.config);
      const jobs = new JobRunner({ db: database.db, hub: ctx.hub, generator, log, metrics, nodeId: ctx.hub.nodeId, leaseMs: options.jobLeaseMs, shared: database.engine === 'postgres' ? database : undefined });

      // Compression and rate limiting are registered in this app's scope only: the hub's own
      // routes and the other apps keep their behaviour.
      // Cheap levels and one synchronous call per JSON body: on 2 cores the default streaming
      // path (a zlib stream per response, gzip level 6) was ~20% of the server's CPU under load;
      // gzip 1 / brotli 1 cost 2–4× less for a 50-row page and shrink JSON almost as well
      // (measured in docs/studio.md). Exports are streams and keep the streaming path.
      await ctx.http.register(compress, {
        global: true,
        encodings: ['br', 'gzip'],
        threshold: 1024,
        syncThreshold: 512 * 1024,
        zlibOptions: { level: 1 },
        brotliOptions: { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 1 } },
      });
      await ctx.http.register(rateLimit, {
        max: options.rateLimitPerMinute ?? 60_000,
        timeWindow: 60_000,
        errorResponseBuilder: (_req, c) => ({ statusCode: 429, error: 'rate_limited', message: `rate limit exceeded: ${c.max} requests per minute; retry in ${Math.ceil(c.ttl / 1000)} s` }),
      });
      observeRequests(ctx.http, metrics);
      registerStudioRoutes(ctx.http, { database, config: ctx.config, metrics, jobs, generatorName: generator.name });
      registerSeedRoutes(ctx.http, { db: database.db, log, onClose: ctx.onClose });

      await options.onReady?.(database);
      if (options.worker !== false) await jobs.start();
      ctx.onClose(async () => {
        await jobs.stop();
        stopObserving();
      });
      log.info({ engine: database.engine, generator: generator.name }, 'studio ready');
    },
  };
}

export const studioApp: AirwavesApp<StudioConfig> = createStudioApp();
