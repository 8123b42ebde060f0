/**
 * @module apps/market/orders/schema
 * The order tables (through the shared database, in the market app's own migration table):
 * `market_orders` — one row per order, unique per (user, clientOrderId) so a retried POST is
 * idempotent; `market_exec_reports` — every execution report pushed to the user, in order.
 */
import { sql, type Generated, type Kysely, type Migration } from 'kysely';

export type OrderStatus = 'new' | 'partially_filled' | 'filled' | 'canceled' | 'rejected';

export interface MarketDB {
  market_orders: {
    id: string;
    user_id: string;
    client_order_id: string;
    venue: string;
    symbol: string;
    side: 'buy' | 'sell';
    type: 'limit' | 'market';
    time_in_force: 'GTC' | 'IOC';
    price: number | null;
    qty: number;
    filled_qty: number;
    avg_price: number | null;
    status: OrderStatus;
    reject_reason: string | null;
    created_at: Generated<Date>;
    updated_at: Generated<Date>;
  };
  market_exec_reports: {
    id: Generated<string | number | bigint>;
    order_id: string;
    status: OrderStatus;
    fill_qty: number;
    fill_price: number | null;
    created_at: Generated<Date>;
  };
}

/* eslint-disable @typescript-eslint/no-explicit-any */
export const marketMigrations: Record<string, Migration> = {
  '0001_orders': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('market_orders')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('client_order_id', 'text', (c) => c.notNull())
        .addColumn('venue', 'text', (c) => c.notNull())
        .addColumn('symbol', 'text', (c) => c.notNull())
        .addColumn('side', 'text', (c) => c.notNull().check(sql`side in ('buy','sell')`))
        .addColumn('type', 'text', (c) => c.notNull().check(sql`type in ('limit','market')`))
        .addColumn('time_in_force', 'text', (c) => c.notNull().check(sql`time_in_force in ('GTC','IOC')`))
        .addColumn('price', 'double precision')
        .addColumn('qty', 'double precision', (c) => c.notNull())
        .addColumn('filled_qty', 'double precision', (c) => c.notNull().defaultTo(0))
        .addColumn('avg_price', 'double precision')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('reject_reason', 'text')
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addUniqueConstraint('market_orders_client_id', ['user_id', 'client_order_id'])
        .execute();
      await db.schema
        .createTable('market_exec_reports')
        .addColumn('id', 'bigserial', (c) => c.primaryKey())
        .addColumn('order_id', 'text', (c) => c.notNull().references('market_orders.id'))
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('fill_qty', 'double precision', (c) => c.notNull())
        .addColumn('fill_price', 'double precision')
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
    },
  },
};
