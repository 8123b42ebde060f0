/**
 * Test harness for the market app: a server running only the market app on the built-in
 * simulator (stepped by the tests or at a set rate), and a client-side book rebuilt from a book
 * channel's publications exactly as a subscriber would (snapshot, then deltas with seq checks).
 */
import { startServer } from '../helpers/server.js';
import { createMarketApp, type MarketApp } from '../../src/apps/market/index.js';
import { OrderBook } from '../../src/apps/market/book.js';
import type { AirwavesConfig } from '../../src/config.js';
import type { AirwavesServer } from '../../src/server.js';

/** Every market this file started: {@link closeMarkets} closes what is still open, whatever happened. */
const started = new Set<{ app: MarketApp; server?: AirwavesServer }>();

/**
 * A server running the market app only. Its registration opens PGlite (orders): on a loaded
 * machine (several test files starting PGlite at once) that has taken over 2 minutes, so no app
 * start limit is set here (`appStartTimeoutMs: 0`); the test's own timeout bounds it. If the
 * start fails, what the app had already started (the simulator's sockets, the venue connections,
 * which would keep the file's process alive) is closed before the error is rethrown.
 */
export async function startMarket(config: Partial<AirwavesConfig> = {}) {
  const app = createMarketApp();
  const entry: { app: MarketApp; server?: AirwavesServer } = { app };
  started.add(entry);
  try {
    const server = await startServer({ marketSimRate: 100, marketSimIdleRate: config.marketSimRate ?? 100, databaseUrl: 'pglite://memory', appStartTimeoutMs: 0, ...config }, { apps: [app] });
    entry.server = server;
    return { server, app: app as Required<MarketApp> };
  } catch (err) {
    await closeMarkets();
    throw err;
  }
}

/**
 * Closes every market started by {@link startMarket} and not closed yet (an `after` hook: a test
 * that failed half-way leaves nothing open, so its file ends). Closing twice is harmless.
 */
export async function closeMarkets(): Promise<void> {
  for (const entry of [...started]) {
    started.delete(entry);
    if (entry.server) await entry.server.close();
    else {
      await entry.app.gateway?.close();
      await entry.app.simulator?.close();
    }
  }
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
