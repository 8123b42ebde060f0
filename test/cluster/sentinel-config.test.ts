/**
 * The Sentinel settings as a user meets them: AIRWAVES_REDIS_SENTINELS parsed into addresses
 * (IPv6 in brackets too), a bad entry named in the error, Sentinels without a URL refused with
 * what to set, and the connection options that send a URL's host to Sentinel as the group name.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, clusterProblems, loadConfig } from '../../src/config.js';
import { redisCommandOptions, redisTarget } from '../../src/core/redis-options.js';

describe('Redis Sentinel settings', () => {
  test('a host:port list becomes the Sentinels\' addresses', () => {
    const c = loadConfig({ AIRWAVES_REDIS_URL: 'redis://mymaster', AIRWAVES_REDIS_SENTINELS: '10.0.0.1:26379, sentinel-b:26380,[::1]:26381' });
    assert.deepEqual(c.redisSentinels, [
      { host: '10.0.0.1', port: 26379 },
      { host: 'sentinel-b', port: 26380 },
      { host: '::1', port: 26381 },
    ]);
    assert.equal(c.redisWaitReplicas, 0, 'acknowledging after WAIT is opt-in');
  });

  test('a bad entry is named in the error', () => {
    assert.throws(
      () => loadConfig({ AIRWAVES_REDIS_URL: 'redis://mymaster', AIRWAVES_REDIS_SENTINELS: '10.0.0.1:26379,sentinel-b' }),
      (err: unknown) => err instanceof ConfigError && /AIRWAVES_REDIS_SENTINELS/.test(err.message) && /"sentinel-b" is not host:port/.test(err.message),
    );
    assert.throws(() => loadConfig({ AIRWAVES_REDIS_SENTINELS: 'a:99999' }), (err: unknown) => err instanceof ConfigError && /"a:99999"/.test(err.message));
  });

  test('Sentinels without AIRWAVES_REDIS_URL: the node refuses to start and says what to set', () => {
    const problems = clusterProblems(loadConfig({ AIRWAVES_REDIS_SENTINELS: '127.0.0.1:26379' }));
    assert.equal(problems.length, 1);
    assert.match(problems[0], /AIRWAVES_REDIS_URL=redis:\/\/mymaster/);
  });

  test('with Sentinels a connection asks for the master of the group its URL names', () => {
    const plain = redisCommandOptions('x');
    assert.equal(redisTarget('redis://127.0.0.1:6379', plain), plain, 'without Sentinels nothing changes');
    const via = redisTarget('redis://:secret@shard-a/2', plain, [{ host: '127.0.0.1', port: 26379 }]);
    assert.equal(via.name, 'shard-a');
    assert.equal(via.role, 'master');
    assert.deepEqual(via.sentinels, [{ host: '127.0.0.1', port: 26379 }]);
    assert.equal(via.enableOfflineQueue, false, 'the command options are kept');
  });
});
