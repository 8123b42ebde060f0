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
import { MarketGateway } from './gateway.js';
import { registerMarketRoutes } from './routes.js';
import { symbolSpecs } from './symbols.js';
import { VenueSimulator } from './simulator/server.js';
import type { FaultPlanInput } from './simulator/faults.js';

export interface MarketApp extends AirwavesApp {
  gateway?: MarketGateway;
  simulator?: VenueSimulator;
}

export function createMarketApp(): MarketApp {
  const app: MarketApp = {
    name: 'market',
    title: 'Market data',
    description: 'Live order books, trades and a consolidated best bid/offer from several crypto venues (simulated by default)',
    async register(ctx: AppContext) {
      const { config, hub, logger } = ctx;
      hub.registerNamespace({ name: 'market', subscribe: 'anonymous', publish: 'server', historySize: 200, historyTtlSeconds: 60, maxMessageBytes: 1024 * 1024, slowConsumer: 'conflate' });
      const symbols = symbolSpecs(config.marketSymbols);
      let venues = config.marketVenues === 'simulator' ? null : config.marketVenues;
      if (config.marketEnabled && venues === null) {
        const faults = config.marketSimFaults as FaultPlanInput | undefined;
        const simulator = new VenueSimulator({ symbols, updatesPerSecond: config.marketSimRate, faults: faults ? { binance: faults, coinbase: faults, kraken: faults } : {} });
        venues = await simulator.listen();
        app.simulator = simulator;
        ctx.onClose(() => simulator.close());
      }
      const gateway = new MarketGateway({
        symbols,
        venues: venues ?? {},
        registry: ctx.metrics,
        poolDebug: config.marketPoolDebug,
        publish: (channel, data, key) => {
          hub.publish(channel, data, key === undefined ? {} : { key }).catch((err: Error) => {
            gateway.metrics.dropped.inc({ reason: 'hub_publish_failed' });
            logger.warn({ err, channel }, 'market publish failed');
          });
        },
      });
      app.gateway = gateway;
      registerMarketRoutes(ctx.http, { symbols, venues: gateway.venues, book: (v, s) => gateway.book(v, s), dispatcher: gateway.dispatcher, orchestrator: gateway.orchestrator });
      if (config.marketEnabled) gateway.start();
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
