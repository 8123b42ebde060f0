/**
 * @module apps/market
 * The market-data gateway: keeps correct order books from Binance, Coinbase and Kraken (or the
 * built-in venue simulator, the default: live markets with no internet), normalises them and fans
 * them out through the hub in order, with BBO and book tops conflated for slow readers.
 *
 * Hub namespace `market` (server-published, anyone may subscribe; slow consumers are conflated
 * by key, so BBO and tops keep only their newest value while book deltas fall back to history
 * recovery): channels are listed in pipeline/messages.ts. Routes in routes.ts.
 */
import type { AirwavesApp, AppContext } from '../app.js';
import type { MarketConfig } from './settings.js';
import { MarketGateway } from './gateway.js';
import { registerMarketRoutes } from './routes.js';
import { symbolSpecs } from './symbols.js';
import { VenueSimulator } from './simulator/server.js';
import type { FaultPlanInput } from './simulator/faults.js';
import type { Kysely } from 'kysely';
import { OrderDesk, userChannel } from './orders/desk.js';
import { registerOrderRoutes } from './orders/routes.js';
import { marketMigrations, type MarketDB } from './orders/schema.js';
import { JsonlRecorder } from './venues/recorder.js';
import { marketManifest } from './manifest.js';
import { MarketActivity } from './activity.js';

/**
 * The `market` hub namespace: server-published, public, slow readers conflated by key.
 *
 * History (what a resubscribe with `since` replays): venue books, trades and health keep 200 per
 * channel; channels whose every message is a full state (BBOs, tickers, the cross-venue top) keep
 * only the newest, which is all a resubscribe needs. It is kept as bytes off the V8 heap
 * (`historyInBuffers`): as message objects, every publication of a busy channel survived a
 * scavenge and was promoted — ~600 KB per scavenge at 10k venue msg/s, the GC pauses of the
 * gateway; as bytes, 17 KB (docs/market.md, "GC").
 */
export const MARKET_NAMESPACE = {
  name: 'market',
  subscribe: 'anonymous',
  publish: 'server',
  historySize: 200,
  historyBySuffix: { '.bbo': 1, '.ticker': 1, '@all.book': 1 },
  historyInBuffers: true,
  historyTtlSeconds: 60,
  maxMessageBytes: 1024 * 1024,
  slowConsumer: 'conflate',
} as const;

const NO_OPTIONS = Object.freeze({});
/** Publish options per conflation key: a handful of keys ('bbo', 'top', one per venue and symbol for health). */
const optionsByKey = new Map<string, { readonly key: string }>();
/**
 * The hub's publish options for a market publication, made once per conflation key (the gateway
 * publishes tens of thousands a second; an options object per call was young garbage for nothing).
 * Exported so the benchmark's rig publishes exactly as the app does.
 */
export function publishOptions(key: string | undefined): { readonly key?: string } {
  if (key === undefined) return NO_OPTIONS;
  let o = optionsByKey.get(key);
  if (!o) optionsByKey.set(key, (o = Object.freeze({ key })));
  return o;
}

export interface MarketApp extends AirwavesApp<MarketConfig> {
  gateway?: MarketGateway;
  desk?: OrderDesk;
  simulator?: VenueSimulator;
}

export function createMarketApp(): MarketApp {
  const app: MarketApp = {
    ...marketManifest,
    async register(ctx: AppContext<MarketConfig>) {
      const { config, hub, logger } = ctx;
      // Nobody subscribed to a market channel: the embedded simulator walks at its idle rate.
      const activity = new MarketActivity();
      hub.registerNamespace(MARKET_NAMESPACE, activity.hooks);
      const symbols = symbolSpecs(config.marketSymbols);
      let venues = config.marketVenues === 'simulator' ? null : config.marketVenues;
      if (config.marketEnabled && venues === null) {
        const faults = config.marketSimFaults as FaultPlanInput | undefined;
        const simulator = new VenueSimulator({ symbols, updatesPerSecond: config.marketSimIdleRate, faults: faults ? { binance: faults, coinbase: faults, kraken: faults } : {} });
        venues = await simulator.listen();
        app.simulator = simulator;
        ctx.onClose(() => simulator.close());
      }
      const recorder = config.marketRecord ? new JsonlRecorder(config.marketRecord) : null;
      const failed = (err: Error, channel: string) => {
        gateway.metrics.dropped.inc({ reason: 'hub_publish_failed' });
        logger.warn({ err, channel }, 'market publish failed');
      };
      if (recorder) ctx.onClose(() => recorder.close());
      const gateway = new MarketGateway({
        symbols,
        venues: venues ?? {},
        record: recorder ? (venue, text, tsRecv) => recorder.record(venue, text, tsRecv) : undefined,
        registry: ctx.metrics,
        poolDebug: config.marketPoolDebug,
        // The memory engine publishes synchronously: no promise per publication (the gateway makes
        // tens of thousands a second). Refusals are thrown there, counted and logged like failures.
        // Nothing is built per publication but what the hub needs: the options of each key once,
        // the failure handler once (a closure per call was allocated even when nothing failed).
        publish: (channel, data, key) => {
          const options = publishOptions(key);
          if (!hub.publishesSynchronously) {
            hub.publish(channel, data, options).catch((err: Error) => failed(err, channel));
            return;
          }
          try {
            hub.publishSync(channel, data, options);
          } catch (err) {
            failed(err as Error, channel);
          }
        },
      });
      app.gateway = gateway;
      registerMarketRoutes(ctx.http, { symbols, venues: gateway.venues, book: (v, s) => gateway.book(v, s), dispatcher: gateway.dispatcher, orchestrator: gateway.orchestrator });
      if (config.marketEnabled) gateway.start();

      // Orders: routed to the simulator; execution reports on the user's private channel.
      hub.registerNamespace(
        { name: 'market-user', subscribe: 'authenticated', publish: 'server', historySize: 100, historyTtlSeconds: 3600 },
        { authorize: (action, { identity, channel }) => action === 'subscribe' && identity.user !== null && channel === userChannel(identity.user) },
      );
      const database = await ctx.database();
      await database.migrate('market', marketMigrations);
      const desk = new OrderDesk(database.db as Kysely<MarketDB>, app.simulator?.market ?? null, symbols, (channel, data) => {
        hub.publish(channel, data).catch((err: Error) => logger.warn({ err, channel }, 'execution report publish failed'));
      }, { maxNotional: config.marketMaxNotional, maxOpenOrders: config.marketMaxOpenOrders, ordersPerSecond: config.marketOrdersPerSecond });
      app.desk = desk;
      registerOrderRoutes(ctx.http, desk);
      // The one idle switch: no hub subscription to a market channel (a market page open anywhere
      // holds some) → the simulator walks at its idle rate, the venue sessions watch on a coarse
      // clock, resting orders are retried coarsely. The first watcher wakes them all, and every
      // book stream's next publication is a snapshot.
      const setIdle = (idle: boolean) => {
        app.simulator?.market.setRate(idle ? config.marketSimIdleRate : config.marketSimRate);
        gateway.setIdle(idle);
        desk.setIdle(idle);
      };
      activity.onChange = (watched) => setIdle(!watched);
      setIdle(!activity.watched);
      ctx.onClose(() => desk.close());
      ctx.onClose(async () => {
        const { drained, leaked } = await gateway.close();
        if (!drained) logger.error({ leaked }, 'market pools did not drain');
      });
      logger.info({ venues: gateway.venues, symbols: symbols.length, simulator: app.simulator !== undefined }, 'market gateway ready');
    },
  };
  return app;
}

export const marketApp: MarketApp = createMarketApp();
