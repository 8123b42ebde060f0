/**
 * @module apps/market/routes
 * Read routes of the market app (public market data, like the venues' own REST):
 * - `GET /api/v1/market/symbols` — symbols and venues served, with the channel names.
 * - `GET /api/v1/market/book/:symbol/:venue` — the book now, with the `seq` of the last
 *   publication on its channel: subscribe first, then fetch, then apply deltas with `seq` above it.
 * - `GET /api/v1/market/health` — per-venue and per-book status.
 * Route rule (src/auth): `public` — read-only market data, like the `market` namespace's subscriptions.
 */
import type { FastifyInstance } from 'fastify';
import { AirwavesError, Errors } from '../../core/errors.js';
import { rule } from '../../auth/index.js';
import type { OrderBook } from './book.js';
import { bookChannel } from './pipeline/messages.js';
import type { Dispatcher } from './pipeline/dispatcher.js';
import type { Orchestrator } from './pipeline/orchestrator.js';
import type { SymbolSpec, VenueName } from './types.js';

export interface MarketReadModel {
  symbols: SymbolSpec[];
  venues: VenueName[];
  book(venue: VenueName, symbol: string): OrderBook | undefined;
  dispatcher: Dispatcher;
  orchestrator: Orchestrator;
}

export function registerMarketRoutes(http: FastifyInstance, model: MarketReadModel): void {
  http.get('/symbols', { config: rule.public, schema: { tags: ['market'], summary: 'Symbols, venues and channel names' } }, async () => ({
    venues: model.venues,
    symbols: model.symbols.map((s) => ({
      symbol: s.symbol,
      pricePrecision: s.pricePrecision,
      qtyPrecision: s.qtyPrecision,
      channels: {
        consolidatedBbo: `market:${s.symbol}@all.bbo`,
        crossVenueBook: `market:${s.symbol}@all.book`,
        ...Object.fromEntries(model.venues.map((v) => [v, { book: bookChannel(s.symbol, v), bbo: `market:${s.symbol}@${v}.bbo`, trades: `market:${s.symbol}@${v}.trades` }])),
      },
    })),
  }));

  http.get<{ Params: { symbol: string; venue: string }; Querystring: { depth?: number } }>(
    '/book/:symbol/:venue',
    {
      config: rule.public,
      schema: {
        tags: ['market'],
        summary: 'A venue book (or "all": the cross-venue top) with the channel sequence it corresponds to',
        params: { type: 'object', properties: { symbol: { type: 'string', maxLength: 32 }, venue: { type: 'string', maxLength: 16 } }, required: ['symbol', 'venue'] },
        querystring: { type: 'object', properties: { depth: { type: 'integer', minimum: 1, maximum: 5000, default: 1000 } } },
      },
    },
    async (req) => {
      const { symbol, venue } = req.params;
      if (!model.symbols.some((s) => s.symbol === symbol)) throw new AirwavesError(Errors.notFound, `unknown symbol "${symbol}"`);
      if (venue === 'all') return { symbol, venue, ...model.orchestrator.crossVenueTop(symbol), bbo: model.orchestrator.consolidatedBbo(symbol) };
      if (!model.venues.includes(venue as VenueName)) throw new AirwavesError(Errors.notFound, `unknown venue "${venue}"`);
      const book = model.book(venue as VenueName, symbol);
      const depth = req.query.depth ?? 1000;
      const channel = bookChannel(symbol, venue);
      return {
        symbol,
        venue,
        channel,
        seq: model.dispatcher.seqOf(channel),
        vseq: book?.venueSeq ?? 0,
        b: book ? book.bids.top(depth) : [],
        a: book ? book.asks.top(depth) : [],
      };
    },
  );

  http.get('/health', { config: rule.public, schema: { tags: ['market'], summary: 'Venue and book status' } }, async () => ({
    statuses: [...model.dispatcher.health.values()],
  }));
}
