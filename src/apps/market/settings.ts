/**
 * @module apps/market/settings
 * The market app's settings: venues (or the built-in simulator), symbols, the simulator's
 * rate and faults, order risk limits, object-pool debugging.
 * Each has its environment variable, default and meaning; src/config.ts merges them with the
 * core's into the one configuration table and the README reference (`npm run docs:config`).
 * The app reads them on `ctx.config`.
 */
import { z } from 'zod';
import { bool, parseJsonOr, type SettingFields, type SettingsOf } from '../../core/settings.js';

/** Field → [environment variable, schema with default, meaning, options]. */
export const MARKET_SETTINGS = {
  marketEnabled: ['AIRWAVES_MARKET_ENABLED', bool.default(true), 'run the market app\'s venue connections (and, with the simulator, the simulated venues)'],
  marketVenues: [
    'AIRWAVES_MARKET_VENUES',
    z
      .preprocess((v) => (typeof v === 'string' && v.trim().startsWith('{') ? parseJsonOr(v) : v), z.union([
        z.literal('simulator'),
        z
          .object({
            binance: z.object({ ws: z.string().url(), rest: z.string().url() }).optional(),
            coinbase: z.object({ ws: z.string().url() }).optional(),
            kraken: z.object({ ws: z.string().url() }).optional(),
          })
          .strict(),
      ]))
      .default('simulator'),
    'market venues: "simulator" (built in, no internet) or JSON {binance:{ws,rest}, coinbase:{ws}, kraken:{ws}} with the venues\' URLs',
  ],
  marketSymbols: ['AIRWAVES_MARKET_SYMBOLS', z.string().regex(/^[A-Z0-9]{2,10}-[A-Z0-9]{2,10}(,[A-Z0-9]{2,10}-[A-Z0-9]{2,10})*$/, 'comma-separated BASE-QUOTE symbols').default('BTC-USDT,ETH-USDT,SOL-USDT'), 'market symbols to keep books for (comma-separated, e.g. BTC-USDT,ETH-USDT)'],
  marketSimRate: ['AIRWAVES_MARKET_SIM_RATE', z.coerce.number().min(0).max(100_000).default(2), 'simulator book updates per second per venue and symbol (a calm demo feed by default: the idle server stays idle; raise it to load the pipeline)'],
  marketSimIdleRate: ['AIRWAVES_MARKET_SIM_IDLE_RATE', z.coerce.number().min(0).max(100_000).default(0), 'simulator book updates per second per venue and symbol while no hub client is subscribed to a market channel (0: the simulated markets stand still until someone watches; the first subscriber puts AIRWAVES_MARKET_SIM_RATE back, and every book channel publishes a full snapshot next)'],
  marketSimFaults: ['AIRWAVES_MARKET_SIM_FAULTS', z.record(z.string(), z.number().min(0).max(1)).optional(), 'simulator fault probabilities for every venue (JSON: gap, duplicate, reorder, staleSnapshot, checksumCorruption, disconnectPerSecond, burstPerSecond)', { json: true }],
  marketMaxNotional: ['AIRWAVES_MARKET_MAX_NOTIONAL', z.coerce.number().positive().default(1_000_000), 'market order risk limit: largest notional of one order (qty x limit price, or x the best opposite price for a market order), in quote currency'],
  marketMaxOpenOrders: ['AIRWAVES_MARKET_MAX_OPEN_ORDERS', z.coerce.number().int().min(1).default(50), 'market order risk limit: open (resting) orders per user'],
  marketOrdersPerSecond: ['AIRWAVES_MARKET_ORDERS_PER_SECOND', z.coerce.number().positive().default(10), 'market order risk limit: orders per second per user (a token bucket of that size)'],
  marketRecord: ['AIRWAVES_MARKET_RECORD', z.string().min(1).optional(), 'append every venue message as received to this JSONL file ({t, venue, msg} per line), for replay by the simulator and bug reports'],
  marketPoolDebug: ['AIRWAVES_MARKET_POOL_DEBUG', bool.default(false), 'market object pools track stacks, fail loudly on double release and poison released objects'],
} as const satisfies SettingFields;

export type MarketConfig = SettingsOf<typeof MARKET_SETTINGS>;
