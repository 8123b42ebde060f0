/**
 * Presence notices across a reconnect, on a real redis-server: node B's Redis connections go
 * through a proxy (./redis-proxy.ts), so its subscriber connection can be cut and kept down
 * while clients on node A join and leave. Pub/sub does not keep what it could not deliver; once
 * B is subscribed again it must tell its subscribers the joins and leaves it missed, in order,
 * once each, from the channel's notice log (src/hub/engines/redis/presence-feed.ts), and
 * nothing from before it started listening.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sleep } from '../helpers/server.js';
import type { AirwavesConfig } from '../../src/config.js';
import { until } from './watchers.js';
import { syncEvent, twoNodesOnRedis, type TwoNodes } from './two-nodes.js';

const namespaces = [{ name: 'room', subscribe: 'anonymous', publish: 'anonymous', presence: true, historySize: 10 }] as unknown as AirwavesConfig['namespaces'];

describe('presence notices missed while a node reconnects to Redis (real Redis, node B behind a proxy)', () => {
  let rig: TwoNodes;

  before(async () => {
    rig = await twoNodesOnRedis('prr', { namespaces }, undefined, { proxyB: true });
  });

  after(() => rig?.close());

  test('joins and leaves on node A while node B\'s subscriber is down reach B\'s subscriber once it is back, in order, once each', async () => {
    const { a, b, redis } = rig;
    const proxy = rig.proxy!;
    const client = rig.client;
    const ch = 'room:reconnect';
    // Before node B listens: a client that joins and leaves on A, never to be told to B's subscriber.
    const early = await client(a);
    await early.subscribe(ch).ready;
    await early.unsubscribe(ch);

    const events: string[] = [];
    const watcher = await client(b);
    await watcher.subscribe(ch, {
      join: (e) => events.push(`join ${e.info.client}`),
      leave: (e) => events.push(`leave ${e.info.client}`),
    }).ready;
    const stayer = await client(a);
    await stayer.subscribe(ch).ready;
    await until(() => events.length === 1, 'the first join on B', 10_000);
    const [, stayerId] = (await b.hub.presenceOf(ch)).map((e) => e.client); // watcher, stayer

    const recoveredBefore = await syncEvent(b, 'presence_recovered');
    // Node B's subscriber connection is cut and kept out for 1.5 s (its commands stay up).
    proxy.refuseConnections(1500);
    await redis.client().client('KILL', 'TYPE', 'pubsub');
    await until(() => proxy.pubsubConnections === 0, 'node B\'s subscriber is down', 5000);
    const joiner = await client(a);
    await joiner.subscribe(ch).ready;
    await stayer.unsubscribe(ch);
    const ids = (await a.hub.presenceOf(ch)).map((e) => e.client); // watcher, joiner
    assert.equal(ids.length, 2, 'the presence list has the watcher and the joiner');
    const joinerId = ids[1];
    assert.equal(proxy.pubsubConnections, 0, 'node B was still cut off while A\'s clients joined and left (the interleaving happened)');

    await until(() => events.length >= 3, 'the missed join and leave on node B', 20_000);
    await sleep(500); // nothing more arrives
    assert.deepEqual(events, [`join ${stayerId}`, `join ${joinerId}`, `leave ${stayerId}`], 'every notice once, in order; none from before B listened');
    assert.ok((await syncEvent(b, 'presence_recovered')) - recoveredBefore >= 2, 'the missed notices came from the log');

    // Live notices go on as before.
    await joiner.unsubscribe(ch);
    await until(() => events.length === 4, 'a live leave after the recovery', 10_000);
    assert.equal(events[3], `leave ${joinerId}`);
  });
});
