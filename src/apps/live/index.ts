/**
 * @module apps/live
 * Live video: streamers publish over RTMP (the embedded listener, or nginx-rtmp calling back),
 * viewers watch LL-HLS, HLS or DASH from CMAF segments remuxed without re-encoding, and the hub
 * pushes live viewer counts and stream events. API under apiPrefix (/api/v1/streams), UI at /live/.
 * See docs/live.md.
 */
import type { AirwavesApp } from '../app.js';
import type { LiveConfig } from './settings.js';
import type { Database } from '../../db/database.js';
import { EventDoor } from './door.js';
import { registerMediaRoutes } from './media-routes.js';
import { createLiveMetrics } from './metrics.js';
import { migrations } from './migrations.js';
import { registerNginxCallbacks } from './nginx-callbacks.js';
import { registerStreamRoutes } from './routes.js';
import { RtmpServer } from './rtmp/server.js';
import { LiveService, type LiveSettings } from './service.js';
import { LiveStore } from './store.js';
import type { LiveDB } from './types.js';
import { viewerChannel } from './events.js';
import { liveManifest } from './manifest.js';
import { parseLadder } from './abr/ladder.js';

export interface LiveOptions {
  /** Overrides of the settings taken from configuration (tests). */
  settings?: Partial<LiveSettings>;
  /** Called once the app runs, with what tests and tools need to reach it. */
  onReady?(handle: LiveHandle): void | Promise<void>;
}

export interface LiveHandle {
  service: LiveService;
  /** The embedded RTMP listener's port (0 when it is off). */
  rtmpPort: number;
}

export function createLiveApp(options: LiveOptions = {}): AirwavesApp<LiveConfig> {
  return {
    ...liveManifest,
    async register(ctx) {
      const { config, hub } = ctx;
      const log = ctx.logger.child({ app: 'live' });
      const database = (await ctx.database()) as Database<LiveDB>;
      await database.migrate('live', migrations);
      const store = new LiveStore(database.db);
      const metrics = createLiveMetrics(ctx.metrics);
      const settings: LiveSettings = {
        partTargetMs: config.livePartTargetMs,
        segmentTargetMs: config.liveSegmentTargetMs,
        windowSegments: 12,
        sampleIntervalMs: config.liveSampleIntervalMs,
        hlsViewerTimeoutMs: config.liveViewerTimeoutMs,
        viewerFlushMs: 50,
        viewerSessionFlushMs: 1000,
        keyFailuresPerMinute: config.liveKeyFailuresPerMinute,
        rtmpApp: 'live',
        abr: { specs: parseLadder(config.liveAbr), preset: config.liveAbrPreset },
        apiPrefix: ctx.http.prefix,
        ...options.settings,
      };
      const service = new LiveService(store, hub, metrics, log, settings);
      const orphans = await store.failOrphans('the server restarted during the broadcast');
      if (orphans) log.warn({ orphans }, 'streams left ACTIVE by a previous run marked FAILED');

      // Viewers' channel: presence shows who watches; subscribing counts a viewer. Dashboard
      // channel: the same events plus health samples, without counting as a viewer.
      const prefix = 'live:';
      hub.registerNamespace(
        { name: 'live', subscribe: 'anonymous', publish: 'server', presence: true, historySize: 1, historyTtlSeconds: 60 },
        {
          onSubscribe: (c) => {
            if (c.channel.startsWith(prefix) && c.channel !== 'live:lobby') service.viewers.wsJoined(c.channel.slice(prefix.length), c.client);
          },
          onUnsubscribe: (c) => {
            if (c.channel.startsWith(prefix) && c.channel !== 'live:lobby') service.viewers.wsLeft(c.channel.slice(prefix.length), c.client);
          },
        },
      );
      hub.registerNamespace({ name: 'livestats', subscribe: 'anonymous', publish: 'server', historySize: 1, historyTtlSeconds: 60 });

      const host = config.host ?? (config.demo ? '127.0.0.1' : '0.0.0.0');
      let rtmp: RtmpServer | null = null;
      let rtmpPort = 0;
      if (config.liveRtmpEnabled) {
        rtmp = new RtmpServer({ host, port: config.liveRtmpPort, maxConnections: config.liveRtmpMaxConnections }, service.rtmpObserver());
        try {
          rtmpPort = await rtmp.listen();
          log.info({ port: rtmpPort }, `RTMP ingest on rtmp://${host}:${rtmpPort}/${settings.rtmpApp}/<stream key>`);
        } catch (err) {
          // Another process holds the port: the API and playback still work (nginx-rtmp ingest).
          log.error({ err, port: config.liveRtmpPort }, 'RTMP listener could not start; embedded ingest is off');
          rtmp = null;
        }
      }
      const ingestUrl = () => config.liveIngestUrl ?? `rtmp://${host === '0.0.0.0' ? 'localhost' : host}:${rtmpPort || config.liveRtmpPort}/${settings.rtmpApp}`;

      registerStreamRoutes(ctx.http, { service, ingestUrl });
      registerMediaRoutes(ctx.http, service, metrics);
      registerNginxCallbacks(ctx.http, service, config.apiKey);
      const door = new EventDoor(service, metrics, settings.apiPrefix);
      service.listeners.add((streamId, event) => door.deliver(streamId, event));
      const closeDoor = door.register(ctx.http);

      ctx.onClose(async () => {
        closeDoor();
        await rtmp?.close();
        await service.close();
      });
      await options.onReady?.({ service, rtmpPort });
      log.info({ engine: database.engine, rtmpPort, channel: viewerChannel('<id>') }, 'live ready');
    },
  };
}

export const liveApp: AirwavesApp<LiveConfig> = createLiveApp();
