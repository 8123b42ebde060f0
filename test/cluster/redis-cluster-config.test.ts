/**
 * AIRWAVES_REDIS_CLUSTER as a user meets it: off by default; on, with the seeds in
 * AIRWAVES_REDIS_URL, a valid cluster node; refused with what to change when combined with
 * Sentinels, with WAIT replicas, or without any URL.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clusterProblems, loadConfig } from '../../src/config.js';

const node = { DATABASE_URL: 'postgres://db/airwaves', AIRWAVES_API_KEY: 'cluster-key-0123456789abcdef-0123456789' };
const seeds = 'redis://10.0.0.1:7000,redis://10.0.0.2:7000';

test('AIRWAVES_REDIS_CLUSTER: off by default; with seeds a valid node; refused with Sentinels, WAIT replicas or no URL', () => {
  assert.equal(loadConfig({ ...node, AIRWAVES_REDIS_URL: seeds }).redisCluster, false, 'a URL list shards by default');
  const config = loadConfig({ ...node, AIRWAVES_REDIS_URL: seeds, AIRWAVES_REDIS_CLUSTER: 'true' });
  assert.equal(config.redisCluster, true);
  assert.deepEqual(clusterProblems(config), []);

  const withSentinels = clusterProblems(loadConfig({ ...node, AIRWAVES_REDIS_URL: seeds, AIRWAVES_REDIS_CLUSTER: 'true', AIRWAVES_REDIS_SENTINELS: '10.0.0.9:26379' }));
  assert.equal(withSentinels.length, 1);
  assert.match(withSentinels[0], /AIRWAVES_REDIS_CLUSTER and AIRWAVES_REDIS_SENTINELS/);

  const withWait = clusterProblems(loadConfig({ ...node, AIRWAVES_REDIS_URL: seeds, AIRWAVES_REDIS_CLUSTER: 'true', AIRWAVES_REDIS_WAIT_REPLICAS: '1' }));
  assert.equal(withWait.length, 1);
  assert.match(withWait[0], /AIRWAVES_REDIS_WAIT_REPLICAS is not supported with AIRWAVES_REDIS_CLUSTER/);

  const noUrl = clusterProblems(loadConfig({ ...node, AIRWAVES_REDIS_CLUSTER: 'true' }));
  assert.equal(noUrl.length, 1);
  assert.match(noUrl[0], /AIRWAVES_REDIS_CLUSTER is set but AIRWAVES_REDIS_URL is not/);
});
