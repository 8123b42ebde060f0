/**
 * @module test/server/publish-rate
 * The publish rate (hub_publish_rate on /metrics, publishRate in /api/v1/status) is computed when
 * read, not by a timer: publications since the previous reading, over the time since it (at least
 * 2 s), so an idle hub wakes for nothing and a scrape still sees what was published. It counts
 * what this node's engine hands to its local channels (a channel with a subscriber here).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, adminFetch, sleep, RawClient } from '../helpers/server.js';

async function gauge(url: string): Promise<number> {
  const text = await (await adminFetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('hub_publish_rate '));
  assert.ok(line, 'hub_publish_rate is exported');
  return Number(line.split(' ')[1]);
}

test('the publish rate read at scrape time counts the publications since the previous reading', async () => {
  const created = performance.now();
  const server = await startServer({ publishRatePerSecond: 10_000 });
  const subscriber = await RawClient.open(server.wsUrl);
  try {
    assert.equal((await subscriber.request('subscribe', { channel: 'chat:rate' })).ok, true);
    assert.equal(await gauge(server.url), 0, 'nothing published yet');
    for (let i = 0; i < 50; i++) await server.hub.publish('chat:rate', { i });
    await sleep(2100);
    const rate = await gauge(server.url);
    // 50 publications over a window of at least 2 s that began before them (at the hub's start
    // or at the first scrape) and ended now.
    const sinceCreatedS = (performance.now() - created) / 1000;
    assert.ok(rate >= 50 / sinceCreatedS && rate <= 50 / 2, `rate ${rate}: 50 publications over 2 to ${sinceCreatedS.toFixed(1)} s`);
    const status = (await (await fetch(`${server.url}/api/v1/status`)).json()) as { publishRate: number };
    assert.equal(status.publishRate, rate, 'read again within the window: the same figure');
    await sleep(2100);
    assert.equal(await gauge(server.url), 0, 'a window with no publication reads 0');
  } finally {
    subscriber.close();
    await server.close();
  }
});
