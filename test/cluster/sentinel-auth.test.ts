/**
 * Redis Sentinel with passwords (real redis-server master + two replicas + three redis-sentinel
 * processes, every one with requirepass): nodes given the Sentinels' password
 * (AIRWAVES_REDIS_SENTINEL_PASSWORD) and the master's in the URL (redis://:pw@mymaster) publish
 * and deliver across nodes; a connection without the Sentinels' password does not get a master.
 * The same with the Sentinels listening over TLS (AIRWAVES_REDIS_SENTINEL_TLS with the CA in
 * AIRWAVES_REDIS_TLS_CA_FILE): a connection in plain text to those ports gets no master.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import type { AirwavesConfig } from '../../src/config.js';
import { redisCommandOptions, redisTarget } from '../../src/core/redis-options.js';
import { startSentinelRig, type SentinelRig } from './sentinel-rig.js';
import { until } from './watchers.js';
import { twoNodesOnRedis, type TwoNodes } from './two-nodes.js';

const namespaces = [{ name: 'chat', publish: 'anonymous' as const, historySize: 100 }] as unknown as AirwavesConfig['namespaces'];
const AUTH = { master: 'master-secret-7d1f', sentinel: 'sentinel-secret-93ab' };

/** A one-shot connection through the Sentinels (no retries), as the nodes make them. */
async function pingThroughSentinels(rig: SentinelRig, sentinelPassword?: string, tls?: { addresses: SentinelRig['sentinels']; ca?: string }): Promise<string> {
  const options = redisTarget(rig.url, redisCommandOptions('auth-probe'), { addresses: tls?.addresses ?? rig.sentinels, password: sentinelPassword, tls: tls?.ca !== undefined, ca: tls?.ca });
  const c = new Redis(rig.url, { ...options, retryStrategy: () => null, sentinelRetryStrategy: () => null });
  c.on('error', () => {});
  try {
    await c.connect();
    return await c.ping();
  } finally {
    c.disconnect();
  }
}

describe('Redis Sentinel with requirepass on the Sentinels and the servers', () => {
  let nodes: TwoNodes<SentinelRig>;

  before(async () => {
    nodes = await twoNodesOnRedis('sentinel-auth', { namespaces }, () => startSentinelRig(AUTH));
  });

  after(() => nodes?.close());

  test('nodes with the Sentinels\' password and the master\'s in the URL publish and deliver across nodes', async () => {
    const { a, b } = nodes;
    const ch = 'chat:auth';
    const onB = await nodes.watch(b, ch);
    for (let n = 1; n <= 3; n++) await a.hub.publish(ch, { n });
    await until(() => onB.got.length === 3, 'three messages on node B', 15_000);
    assert.deepEqual(onB.got, [1, 2, 3]);
  });

  test('the Sentinels refuse a connection without their password; with it the master answers', async () => {
    await assert.rejects(pingThroughSentinels(nodes.redis), 'no master without the Sentinels\' password');
    await assert.rejects(pingThroughSentinels(nodes.redis, 'wrong-password'), 'nor with a wrong one');
    assert.equal(await pingThroughSentinels(nodes.redis, AUTH.sentinel), 'PONG');
  });
});

describe('Redis Sentinel over TLS, with passwords', () => {
  let nodes: TwoNodes<SentinelRig>;

  before(async () => {
    nodes = await twoNodesOnRedis('sentinel-tls', { namespaces }, () => startSentinelRig(AUTH, { tls: true }));
  });

  after(() => nodes?.close());

  test('nodes told to use TLS with the CA file reach the master through the Sentinels\' TLS ports; plain text there gets no master', async () => {
    const { a, b, redis } = nodes;
    const ch = 'chat:tls';
    const onB = await nodes.watch(b, ch);
    for (let n = 1; n <= 3; n++) await a.hub.publish(ch, { n });
    await until(() => onB.got.length === 3, 'three messages on node B', 15_000);
    assert.deepEqual(onB.got, [1, 2, 3]);
    const addresses = redis.config.redisSentinels;
    assert.notDeepEqual(addresses, redis.sentinels, 'the nodes were given the TLS ports');
    await assert.rejects(pingThroughSentinels(redis, AUTH.sentinel, { addresses }), 'plain text to a TLS port gets no master');
    assert.equal(await pingThroughSentinels(redis, AUTH.sentinel, { addresses, ca: readFileSync(redis.config.redisTlsCaFile!, 'utf8') }), 'PONG');
  });
});
