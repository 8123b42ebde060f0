/**
 * Redis Sentinel failover under a live stream (real redis-server master + two replicas + three
 * redis-sentinel processes): two nodes connect through the Sentinels and acknowledge a publish
 * only once a replica holds it (AIRWAVES_REDIS_WAIT_REPLICAS=1). The master is SIGKILLed
 * mid-stream; Sentinel promotes a replica, both nodes follow it, and publishing resumes.
 *
 * What the design promises, and what is asserted: every publish acknowledged before (or after)
 * the failover reaches every subscriber, once, in publish order. The one exception is a fork (a
 * message delivered but not yet replicated when the master died): then subscribers are told
 * `recovered: false` rather than missing anything silently. The publisher retries each refused
 * publish with the same idempotency key, so a publish applied before the failover is not
 * applied twice.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sleep } from '../helpers/server.js';
import type { AirwavesConfig } from '../../src/config.js';
import { startSentinelRig, type SentinelRig } from './sentinel-rig.js';
import { until } from './watchers.js';
import { twoNodesOnRedis, type TwoNodes } from './two-nodes.js';

const namespaces = [{ name: 'chat', publish: 'anonymous' as const, historySize: 1000, historyTtlSeconds: 600 }] as unknown as AirwavesConfig['namespaces'];

describe('Redis Sentinel: the master killed mid-stream', () => {
  let nodes: TwoNodes<SentinelRig>;

  before(async () => {
    nodes = await twoNodesOnRedis('sentinel', { redisWaitReplicas: 1, redisWaitTimeoutMs: 500, namespaces }, startSentinelRig);
  });

  after(() => nodes?.close());

  test('publishing resumes after the failover; every acknowledged message reaches both nodes\' subscribers once, in order', async () => {
    const ch = 'chat:failover';
    const { a, b, redis: rig } = nodes;
    const watchers = [await nodes.watch(a, ch), await nodes.watch(b, ch)];
    const masterBefore = await rig.masterAddress();
    const acked: number[] = [];
    let refused = 0;
    let killedAt = 0;
    let resumedAt = 0;
    // One publisher, one message at a time: publish order is n order. A refused publish
    // (connection lost, replica not confirming) is retried with the same idempotency key.
    const total = 150;
    for (let n = 1; n <= total; n++) {
      for (;;) {
        try {
          await a.hub.publish(ch, { n }, { idempotencyKey: `failover-${n}` });
          break;
        } catch (err) {
          assert.equal((err as { code?: string }).code, 'engine_unavailable', `a refused publish says why: ${(err as Error).message}`);
          refused++;
          assert.ok(!killedAt || Date.now() - killedAt < 60_000, 'publishing resumes within a minute even on a loaded machine');
          await sleep(50);
        }
      }
      acked.push(n);
      if (killedAt && !resumedAt) resumedAt = Date.now();
      if (n === 50) {
        rig.killMaster();
        killedAt = Date.now();
      }
      await sleep(5);
    }
    const masterAfter = await rig.masterAddress();
    assert.notEqual(masterAfter, masterBefore, 'Sentinel promoted a replica');
    assert.ok(refused > 0, 'publishes were refused while there was no master (the failover happened under the stream)');

    await until(() => watchers.every((w) => w.got.at(-1) === total), 'the last message on both nodes', 30_000);
    await sleep(300);
    for (const [i, w] of watchers.entries()) {
      const node = i === 0 ? 'A' : 'B';
      assert.equal(new Set(w.got).size, w.got.length, `node ${node}: nothing twice`);
      assert.deepEqual(
        w.got,
        [...w.got].sort((x, y) => x - y),
        `node ${node}: publish order kept`,
      );
      if (w.recovered.length === 0) assert.deepEqual(w.got, acked, `node ${node}: every acknowledged message, once, in order`);
      else assert.deepEqual(w.recovered, [false], `node ${node}: a fork is reported as recovered: false, once`);
      assert.deepEqual(w.got.slice(0, 50), acked.slice(0, 50), `node ${node}: everything acknowledged before the kill`);
    }
    console.log(`# failover: publishing resumed ${resumedAt - killedAt} ms after the master was killed; ${refused} publish attempts refused meanwhile; master ${masterBefore} -> ${masterAfter}`);
  });
});
