/**
 * Test harness for the market app: a server running only the market app on the built-in
 * simulator (stepped by the tests or at a set rate), and a client-side book rebuilt from a book
 * channel's publications exactly as a subscriber would (snapshot, then deltas with seq checks).
 */
import { startServer } from '../helpers/server.js';
import { createMarketApp, type MarketApp } from '../../src/apps/market/index.js';
import { OrderBook } from '../../src/apps/market/book.js';
import type { AirwavesConfig } from '../../src/config.js';

export async function startMarket(config: Partial<AirwavesConfig> = {}) {
  const app = createMarketApp();
  const server = await startServer({ marketSimRate: 100, databaseUrl: 'pglite://memory', ...config }, { apps: [app] });
  return { server, app: app as Required<MarketApp> };
}

/** Rebuilds a book from `{t, seq, b, a}` publications; records every sequence problem. */
export class ClientBook {
  readonly book = new OrderBook('client');
  seq = 0;
  readonly problems: string[] = [];
  started = false;

  apply(msg: { t: string; seq: number; b: number[]; a: number[] }): void {
    if (this.seq !== 0 && msg.seq !== this.seq + 1) this.problems.push(`seq ${msg.seq} after ${this.seq}`);
    this.seq = msg.seq;
    if (msg.t === 'snapshot') {
      this.book.load(msg.b, msg.a, msg.seq);
      this.started = true;
      return;
    }
    if (!this.started) return; // deltas before the first snapshot are not applicable
    this.book.applyLevels(msg.b, msg.a);
    if (this.book.isCrossed()) this.problems.push(`crossed at seq ${msg.seq}`);
  }
}

export async function waitUntil(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timeout: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
