/**
 * Orders: a trader's order is routed to the simulator venue and fills against its true book (the
 * fill moves the public book), execution reports arrive on the trader's private channel and are
 * recorded, a retried clientOrderId is idempotent (a different order under it is a conflict),
 * risk checks reject (notional, rate, open orders) with a reason, a resting GTC order can be
 * cancelled and fills once the book reaches its price, and the routes refuse callers without the trader role.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient } from '../helpers/server.js';
import { mintToken } from '../../src/auth/index.js';
import { startMarket, waitUntil } from './harness.js';

test('orders: fills against the simulator, execution reports, idempotency, risk checks, cancel, auth', async () => {
  const { server, app } = await startMarket({ marketSimRate: 0, marketSymbols: 'BTC-USDT' });
  try {
    const token = await mintToken({ sub: 'alice', roles: ['trader'], subscribe: ['market-user:alice'] }, server.config.jwtSecret, 600);
    const viewer = await mintToken({ sub: 'bob', roles: ['viewer'] }, server.config.jwtSecret, 600);
    const post = (body: unknown, auth = token) =>
      fetch(`${server.url}/api/v1/market/orders`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${auth}` }, body: JSON.stringify(body) });

    const client = await RawClient.open(server.wsUrl);
    assert.equal((await client.request('connect', { token })).ok, true);
    assert.equal((await client.request('subscribe', { channel: 'market-user:alice' })).ok, true);

    const truth = app.simulator.market.truth('binance', 'BTC-USDT')!;
    const bestAsk = Number(truth.price(truth.book.asks.best));
    const askQty = Number(truth.qty(truth.book.asks.bestQty));
    const order = { clientOrderId: 'o-1', venue: 'binance', symbol: 'BTC-USDT', side: 'buy', type: 'limit', timeInForce: 'IOC', price: bestAsk, qty: askQty };
    const first = await post(order);
    assert.equal(first.status, 201);
    const placed = (await first.json()) as { id: string; status: string; filled_qty: number; avg_price: number };
    assert.equal(placed.status, 'filled');
    assert.equal(placed.filled_qty, askQty);
    assert.equal(placed.avg_price, bestAsk);
    assert.ok(Number(truth.price(truth.book.asks.best)) > bestAsk, 'the fill consumed the best ask');

    const reports = await waitUntil(() => client.publications('market-user:alice').length >= 2, 5_000, 'exec reports').then(() => client.publications('market-user:alice').map((f) => f.data as { status: string; fillQty: number }));
    assert.deepEqual(reports.map((r) => r.status), ['new', 'filled']);
    assert.equal(reports[1].fillQty, askQty);

    const retry = await post(order);
    assert.equal(retry.status, 200, 'same clientOrderId, same order: idempotent');
    assert.equal(((await retry.json()) as { id: string }).id, placed.id);
    assert.equal((await post({ ...order, qty: askQty * 2 })).status, 409);

    const huge = (await (await post({ ...order, clientOrderId: 'o-2', qty: 1_000 })).json()) as { status: string; reject_reason: string };
    assert.equal(huge.status, 'rejected');
    assert.match(String(huge.reject_reason), /notional/, JSON.stringify(huge));

    const resting = (await (await post({ clientOrderId: 'o-3', venue: 'binance', symbol: 'BTC-USDT', side: 'buy', type: 'limit', price: 1, qty: 0.01 })).json()) as { id: string; status: string };
    assert.equal(resting.status, 'new');
    const cancel = await fetch(`${server.url}/api/v1/market/orders/${resting.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
    assert.equal(cancel.status, 200);
    assert.equal(((await cancel.json()) as { status: string }).status, 'canceled');

    // The desk itself, 30 orders issued in one turn: the burst reaches the rate check before the
    // bucket can refill, whatever the machine's load (over HTTP, token verification spreads it out).
    const burst = await Promise.all(
      Array.from({ length: 30 }, async (_, i) => (await app.desk.place('carol', { ...order, clientOrderId: `burst-${i}`, price: 1, qty: 0.001 } as never)).order.reject_reason),
    );
    const rateLimited = burst.filter((r) => r?.startsWith('rate')).length;
    assert.ok(rateLimited > 0, 'the per-user order rate is enforced');

    const db = (await server.http.inject({ method: 'GET', url: '/api/v1/market/orders', headers: { authorization: `Bearer ${token}` } })).json() as { orders: unknown[] };
    assert.equal(db.orders.length, 3, "o-1, o-2 (rejected) and o-3 (cancelled)");

    assert.equal((await post(order, viewer)).status, 403, 'role trader required');
    assert.equal((await fetch(`${server.url}/api/v1/market/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status, 401);
    client.close();
  } finally {
    await server.close();
  }
});

test('a resting GTC order fills once the book reaches its price: the desk wakes when an order comes to rest, with no database poll before', async () => {
  const { app, server } = await startMarket({ marketSimRate: 0, marketSymbols: 'BTC-USDT' });
  try {
    // Long enough for the desk's first tick: it reads the (empty) resting orders and stops its timer.
    await new Promise((r) => setTimeout(r, 1_000));
    const truth = app.simulator.market.truth('binance', 'BTC-USDT')!;
    const bidTick = truth.book.bids.best;
    const askTick = truth.book.asks.best;
    assert.ok(askTick - bidTick >= 2, `room for a price inside the spread (${bidTick}..${askTick})`);
    const restTick = askTick - 1;
    const rest = await app.desk.place('dave', { clientOrderId: 'r-1', venue: 'binance', symbol: 'BTC-USDT', side: 'buy', type: 'limit', timeInForce: 'GTC', price: Number(truth.price(restTick)), qty: Number(truth.qty(2)) });
    assert.equal(rest.order.status, 'new', 'nothing to buy at that price yet: it rests');
    truth.book.set('ask', restTick, 5); // a seller arrives at the order's price
    let status: string = rest.order.status;
    const deadline = Date.now() + 60_000;
    while (status !== 'filled' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      status = (await app.desk.get('dave', rest.order.id))!.status;
    }
    assert.equal(status, 'filled', 'the resting order filled when the book reached it');
  } finally {
    await server.close();
  }
});

test('risk limits are settings: AIRWAVES_MARKET_MAX_NOTIONAL and AIRWAVES_MARKET_MAX_OPEN_ORDERS apply', async () => {
  const { server, app } = await startMarket({ marketSimRate: 0, marketSymbols: 'BTC-USDT', marketMaxNotional: 100, marketMaxOpenOrders: 1, marketOrdersPerSecond: 1000 });
  try {
    const base = { venue: 'binance', symbol: 'BTC-USDT', side: 'buy', type: 'limit', timeInForce: 'GTC' } as const;
    const big = (await app.desk.place('dave', { ...base, clientOrderId: 'n-1', price: 1, qty: 150 } as never)).order;
    assert.equal(big.status, 'rejected');
    assert.match(String(big.reject_reason), /notional 150\.00 above 100$/);
    const first = (await app.desk.place('dave', { ...base, clientOrderId: 'n-2', price: 1, qty: 50 } as never)).order;
    assert.equal(first.status, 'new', 'within both limits: rests');
    const second = (await app.desk.place('dave', { ...base, clientOrderId: 'n-3', price: 1, qty: 50 } as never)).order;
    assert.equal(second.status, 'rejected');
    assert.match(String(second.reject_reason), /open orders: 1 of 1/);
  } finally {
    await server.close();
  }
});
