/**
 * @module test/core/loop-lag
 * The event-loop lag monitor samples only while someone can feel the lag: a stall while it is on
 * reads in nodejs_eventloop_lag_*, one while it is off does not; a probe or a scrape does not turn
 * it on; being busy (a client connected) keeps it on past its linger. The registry's default
 * metrics are prom-client's, without its always-on lag sampler.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import client from 'prom-client';
import { LoopLagMonitor, isQuietRequest } from '../../src/core/loop-lag.js';
import { createRegistry } from '../../src/core/metrics.js';
import { startServer } from '../helpers/server.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Blocks the event loop for `ms`: what a CPU-bound handler does to every other client. */
function stall(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    /* busy */
  }
}

async function lagFigures(registry: client.Registry): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const line of (await registry.metrics()).split('\n')) {
    const m = /^nodejs_eventloop_lag_(\w+)_seconds (\S+)$/.exec(line);
    if (m) out[m[1]!] = Number(m[2]);
  }
  return out;
}

describe('event-loop lag monitor', () => {
  test('a stall while sampling reads in max and p99; after the linger it stops, and a stall is no longer sampled', async () => {
    const registry = createRegistry(false);
    const lag = new LoopLagMonitor({ registry, lingerMs: 300 });
    try {
      assert.equal(lag.active, false, 'idle at first');
      lag.touch();
      assert.equal(lag.active, true);
      await sleep(50);
      stall(150);
      await sleep(30);
      const on = await lagFigures(registry);
      assert.ok(on.max! >= 0.12, `max ${on.max} s after a 150 ms stall`);
      assert.ok(on.p99! >= 0.1, `p99 ${on.p99} s after a 150 ms stall`);
      await sleep(500);
      assert.equal(lag.active, false, 'stopped after the linger');
      await lagFigures(registry); // the interval the monitor was stopped in
      stall(150);
      await sleep(30);
      const off = await lagFigures(registry);
      assert.equal(off.max, 0);
      assert.equal(off.p99, 0);
      assert.equal(off.min, 0, 'no sample reads 0, not the empty histogram\'s huge minimum');
    } finally {
      lag.stop();
    }
  });

  test('a later touch extends the linger, and busy keeps it sampling past it', async () => {
    const registry = createRegistry(false);
    let busy = true;
    const lag = new LoopLagMonitor({ registry, lingerMs: 100, busy: () => busy });
    try {
      lag.touch();
      await sleep(350);
      assert.equal(lag.active, true, 'busy: still sampling after three lingers');
      busy = false;
      await sleep(400);
      assert.equal(lag.active, false, 'no longer busy, nothing touched it: stopped');
      lag.touch();
      await sleep(60);
      lag.touch();
      await sleep(60);
      assert.equal(lag.active, true, 'touched 60 ms ago, linger 100 ms');
      await sleep(400);
      assert.equal(lag.active, false);
    } finally {
      lag.stop();
    }
  });

  test('probes and scrapes are quiet requests; anything else is activity', () => {
    for (const url of ['/healthz', '/readyz', '/readyz?apps=all', '/metrics']) assert.equal(isQuietRequest(url), true, url);
    for (const url of ['/', '/metricsx', '/readyzz', '/api/v1/status', '/docs/', undefined]) assert.equal(isQuietRequest(url), false, String(url));
  });

  test('the registry has every prom-client default metric but its own lag sampler', async () => {
    const ours = createRegistry();
    const theirs = new client.Registry();
    client.collectDefaultMetrics({ register: theirs });
    const names = (r: client.Registry) => r.getMetricsAsArray().map((m) => (m as unknown as { name: string }).name).sort();
    const lagNames = names(theirs).filter((n) => n.startsWith('nodejs_eventloop_lag'));
    assert.equal(lagNames.length, 8);
    assert.deepEqual(names(ours), names(theirs).filter((n) => !lagNames.includes(n)));
  });

  test('a server samples the loop while a request that is not a probe comes, and serves every lag metric', async () => {
    const server = await startServer();
    try {
      const { url } = server;
      await fetch(`${url}/readyz`);
      const idle = await (await fetch(`${url}/metrics`)).text();
      for (const stat of ['', '_min', '_max', '_mean', '_stddev', '_p50', '_p90', '_p99']) assert.match(idle, new RegExp(`^nodejs_eventloop_lag${stat}_seconds `, 'm'));
      assert.match(idle, /^nodejs_eventloop_lag_max_seconds 0$/m, 'probes and scrapes alone: not sampled');
      await fetch(`${url}/api/v1/status`);
      await sleep(50);
      stall(150);
      await sleep(30);
      const busy = await (await fetch(`${url}/metrics`)).text();
      const max = Number(/^nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(busy)?.[1]);
      assert.ok(max >= 0.12, `max ${max} s after a request and a 150 ms stall`);
    } finally {
      await server.close();
    }
  });
});
