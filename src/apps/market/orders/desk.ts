/**
 * @module apps/market/orders/desk
 * The order desk (OrderRequest → ExecReport lifecycle): risk checks (per-user order rate, max
 * notional per order, max open orders), an idempotent `clientOrderId` per user (the unique key
 * in the database: a retry returns the first order, a different order under the same id is a
 * conflict), routing to the simulator venue, which fills against its true book (the fill moves
 * the public book too), and execution reports recorded and pushed on `market-user:<userId>`.
 * GTC limit orders that do not fill at once rest here and are retried as the market moves.
 *
 * Retrying costs nothing while nothing rests: the desk keeps the ids of its resting orders (read
 * from the database once, at the first tick, for orders left by an earlier run) and its retry
 * timer runs only while that set is not empty; an order that comes to rest wakes it. It used to
 * query the database every 200 ms forever, the largest part of an idle market server's CPU
 * (PGlite runs every query in a worker). While nobody watches the market (`setIdle`), the
 * simulator barely moves, and the retry slows to `idleRetryMs`.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { AirwavesError, Errors } from '../../../core/errors.js';
import { TokenBucket } from '../../../core/token-bucket.js';
import type { SimMarket } from '../simulator/market.js';
import type { MarketDB, OrderStatus } from './schema.js';
import type { SymbolSpec, VenueName } from '../types.js';

export interface OrderRequest {
  clientOrderId: string;
  venue: VenueName;
  symbol: string;
  side: 'buy' | 'sell';
  type: 'limit' | 'market';
  timeInForce?: 'GTC' | 'IOC';
  price?: number;
  qty: number;
}

export interface RiskLimits {
  maxNotional: number;
  maxOpenOrders: number;
  ordersPerSecond: number;
}


export function userChannel(userId: string): string {
  return `market-user:${userId}`;
}

/** How often resting orders are retried against the simulator while it moves, and while the app idles. */
const RETRY_MS = 200;
const IDLE_RETRY_MS = 2_000;

export class OrderDesk {
  private readonly buckets = new Map<string, TokenBucket>();
  private timer: NodeJS.Timeout | null = null;
  private retrying = false;
  /** Ids of the GTC orders resting here; null until the database has been read once. */
  private resting: Set<string> | null = null;
  private retryMs = RETRY_MS;
  private closed = false;

  constructor(
    private readonly db: Kysely<MarketDB>,
    private readonly sim: SimMarket | null,
    private readonly symbols: SymbolSpec[],
    private readonly publish: (channel: string, data: unknown) => void,
    private readonly limits: RiskLimits,
  ) {
    this.arm();
  }

  /** Retries every `retryMs` while any order rests (or before the first read of the database). */
  private arm(): void {
    if (this.closed || this.timer || this.resting?.size === 0) return;
    this.timer = setInterval(() => void this.retryResting(), this.retryMs);
    this.timer.unref();
  }

  private disarm(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** The app-wide idle switch: nobody watches the market, so resting orders are retried coarsely. */
  setIdle(idle: boolean): void {
    const ms = idle ? IDLE_RETRY_MS : RETRY_MS;
    if (ms === this.retryMs) return;
    this.retryMs = ms;
    this.disarm();
    this.arm();
  }

  async get(userId: string, orderId: string) {
    return this.db.selectFrom('market_orders').selectAll().where('id', '=', orderId).where('user_id', '=', userId).executeTakeFirst();
  }

  async list(userId: string) {
    return this.db.selectFrom('market_orders').selectAll().where('user_id', '=', userId).orderBy('created_at', 'desc').limit(100).execute();
  }

  /** Places an order; `created: false` when the clientOrderId was already used for this same order. */
  async place(userId: string, req: OrderRequest): Promise<{ order: NonNullable<Awaited<ReturnType<OrderDesk['get']>>>; created: boolean }> {
    // The rate is taken first, before any await, so a burst is counted as it arrives.
    let bucket = this.buckets.get(userId);
    if (!bucket) this.buckets.set(userId, (bucket = new TokenBucket({ capacity: this.limits.ordersPerSecond, refillPerSecond: this.limits.ordersPerSecond })));
    const withinRate = bucket.take();
    const existing = await this.db.selectFrom('market_orders').selectAll().where('user_id', '=', userId).where('client_order_id', '=', req.clientOrderId).executeTakeFirst();
    if (existing) {
      const same = existing.venue === req.venue && existing.symbol === req.symbol && existing.side === req.side && existing.type === req.type && existing.qty === req.qty && (existing.price ?? undefined) === req.price;
      if (!same) throw new AirwavesError(Errors.conflict, `clientOrderId "${req.clientOrderId}" was used for a different order`);
      return { order: existing, created: false };
    }
    const spec = this.symbols.find((s) => s.symbol === req.symbol);
    if (!spec) throw new AirwavesError(Errors.badRequest, `unknown symbol "${req.symbol}"`);
    if (req.type === 'limit' && req.price === undefined) throw new AirwavesError(Errors.badRequest, 'a limit order needs a price');
    const tif = req.type === 'market' ? 'IOC' : (req.timeInForce ?? 'GTC');
    const reject = withinRate ? this.riskCheck(req, await this.openCount(userId)) : `rate: more than ${this.limits.ordersPerSecond} orders/s`;
    const id = randomUUID();
    try {
      await this.db
        .insertInto('market_orders')
        .values({ id, user_id: userId, client_order_id: req.clientOrderId, venue: req.venue, symbol: req.symbol, side: req.side, type: req.type, time_in_force: tif, price: req.price ?? null, qty: req.qty, filled_qty: 0, avg_price: null, status: reject ? 'rejected' : 'new', reject_reason: reject })
        .execute();
    } catch (err) {
      // Two concurrent requests with the same clientOrderId: the unique key let one in.
      const raced = await this.db.selectFrom('market_orders').selectAll().where('user_id', '=', userId).where('client_order_id', '=', req.clientOrderId).executeTakeFirst();
      if (raced) return { order: raced, created: false };
      throw err;
    }
    await this.report(id, userId, reject ? 'rejected' : 'new', 0, null, reject);
    if (!reject) await this.execute(id);
    return { order: (await this.get(userId, id))!, created: true };
  }

  async cancel(userId: string, orderId: string) {
    const order = await this.get(userId, orderId);
    if (!order) throw new AirwavesError(Errors.notFound, `no order "${orderId}"`);
    if (order.status !== 'new' && order.status !== 'partially_filled') throw new AirwavesError(Errors.conflict, `order is ${order.status}`);
    await this.db.updateTable('market_orders').set({ status: 'canceled', updated_at: new Date() }).where('id', '=', orderId).execute();
    await this.report(orderId, userId, 'canceled', 0, null, null);
    this.resting?.delete(orderId);
    return (await this.get(userId, orderId))!;
  }

  private riskCheck(req: OrderRequest, open: number): string | null {
    if (!(req.qty > 0)) return 'qty must be positive';
    const truth = this.sim?.truth(req.venue, req.symbol);
    if (!this.sim || !truth) return `venue ${req.venue} is not routable (orders go to the simulator)`;
    const reference = req.price ?? Number(truth.price(req.side === 'buy' ? truth.book.asks.best : truth.book.bids.best));
    if (req.qty * reference > this.limits.maxNotional) return `notional ${(req.qty * reference).toFixed(2)} above ${this.limits.maxNotional}`;
    if (open >= this.limits.maxOpenOrders) return `open orders: ${open} of ${this.limits.maxOpenOrders}`;
    return null;
  }

  private async openCount(userId: string): Promise<number> {
    const r = await this.db.selectFrom('market_orders').select((eb) => eb.fn.countAll<number>().as('n')).where('user_id', '=', userId).where('status', 'in', ['new', 'partially_filled']).executeTakeFirstOrThrow();
    return Number(r.n);
  }

  /** Sends what is left of an order to the venue; records and pushes each fill. */
  private async execute(orderId: string): Promise<void> {
    const o = await this.db.selectFrom('market_orders').selectAll().where('id', '=', orderId).executeTakeFirst();
    if (!o || (o.status !== 'new' && o.status !== 'partially_filled')) return;
    const truth = this.sim?.truth(o.venue as VenueName, o.symbol);
    if (!truth) return;
    const left = Math.round((o.qty - o.filled_qty) / truth.lotSize);
    const limit = o.price === null ? null : Math.round(o.price / truth.tickSize);
    const fills = this.sim!.take(o.venue as VenueName, o.symbol, o.side, limit, left);
    let filled = o.filled_qty;
    let notional = (o.avg_price ?? 0) * o.filled_qty;
    for (const f of fills) {
      const qty = Number(truth.qty(f.lots));
      const price = Number(truth.price(f.priceTicks));
      filled += qty;
      notional += qty * price;
      const status: OrderStatus = filled >= o.qty - truth.lotSize / 2 ? 'filled' : 'partially_filled';
      await this.db.updateTable('market_orders').set({ filled_qty: filled, avg_price: notional / filled, status, updated_at: new Date() }).where('id', '=', o.id).execute();
      await this.report(o.id, o.user_id, status, qty, price, null);
    }
    const after = await this.db.selectFrom('market_orders').select('status').where('id', '=', o.id).executeTakeFirstOrThrow();
    const open = after.status === 'new' || after.status === 'partially_filled';
    if (o.time_in_force === 'IOC' && open) {
      await this.db.updateTable('market_orders').set({ status: 'canceled', updated_at: new Date() }).where('id', '=', o.id).execute();
      await this.report(o.id, o.user_id, 'canceled', 0, null, 'IOC remainder');
    } else if (open) {
      this.resting?.add(o.id);
      this.arm();
    } else this.resting?.delete(o.id);
  }

  private async retryResting(): Promise<void> {
    if (this.retrying) return;
    this.retrying = true;
    try {
      if (this.resting === null) {
        const open = await this.db.selectFrom('market_orders').select('id').where('status', 'in', ['new', 'partially_filled']).where('time_in_force', '=', 'GTC').execute();
        this.resting = new Set(open.map((o) => o.id));
      }
      // execute() removes what filled or was canceled meanwhile, and re-adds what still rests.
      for (const id of [...this.resting]) {
        this.resting.delete(id);
        await this.execute(id);
      }
      if (this.resting.size === 0) this.disarm();
    } catch {
      // The database is closing (shutdown) or busy: read the resting orders again at the next tick.
      this.resting = null;
    } finally {
      this.retrying = false;
    }
  }

  private async report(orderId: string, userId: string, status: OrderStatus, fillQty: number, fillPrice: number | null, reason: string | null): Promise<void> {
    await this.db.insertInto('market_exec_reports').values({ order_id: orderId, status, fill_qty: fillQty, fill_price: fillPrice }).execute();
    const o = await this.db.selectFrom('market_orders').selectAll().where('id', '=', orderId).executeTakeFirstOrThrow();
    this.publish(userChannel(userId), { t: 'exec', orderId, clientOrderId: o.client_order_id, status, fillQty, fillPrice, filledQty: o.filled_qty, avgPrice: o.avg_price, reason, ts: Date.now() });
  }

  close(): void {
    this.closed = true;
    this.disarm();
  }
}
