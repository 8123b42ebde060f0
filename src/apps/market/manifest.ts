/**
 * @module apps/market/manifest
 * What the server knows of the market data app before importing it (apps/catalog): its name, what the
 * landing page shows, and the hub namespaces it registers (reserved while it starts, so a client
 * that subscribes early is told to retry rather than that the namespace does not exist).
 */
import type { AppManifest } from '../app.js';

export const marketManifest = {
  name: 'market',
  title: 'Market data',
  description: 'Live order books, trades and a consolidated best bid/offer from several crypto venues (simulated by default)',
  namespaces: ['market', 'market-user'],
} as const satisfies AppManifest;
