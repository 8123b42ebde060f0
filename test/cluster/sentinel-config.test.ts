/**
 * The Sentinel settings as a user meets them: AIRWAVES_REDIS_SENTINELS parsed into addresses
 * (IPv6 in brackets too), a bad entry named in the error, Sentinels without a URL refused with
 * what to set, the connection options that send a URL's host to Sentinel as the group name, and
 * the Sentinels' own credentials and TLS (AIRWAVES_REDIS_SENTINEL_USERNAME/_PASSWORD/_TLS,
 * AIRWAVES_REDIS_TLS_CA_FILE) reaching every connection's options.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, clusterProblems, loadConfig } from '../../src/config.js';
import { sentinelsOf } from '../../src/core/config.js';
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
    const via = redisTarget('redis://:secret@shard-a/2', plain, { addresses: [{ host: '127.0.0.1', port: 26379 }] });
    assert.equal(via.name, 'shard-a');
    assert.equal(via.role, 'master');
    assert.deepEqual(via.sentinels, [{ host: '127.0.0.1', port: 26379 }]);
    assert.equal(via.enableOfflineQueue, false, 'the command options are kept');
  });

  test('the Sentinels\' username, password and TLS reach the connection options; a rediss:// master is reached over TLS', () => {
    const dir = mkdtempSync(join(tmpdir(), 'airwaves-ca-'));
    try {
      const caFile = join(dir, 'ca.pem');
      writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
      const config = loadConfig({
        AIRWAVES_REDIS_URL: 'rediss://:master-pw@mymaster',
        AIRWAVES_REDIS_SENTINELS: '127.0.0.1:26379',
        AIRWAVES_REDIS_SENTINEL_USERNAME: 'watcher',
        AIRWAVES_REDIS_SENTINEL_PASSWORD: 'sentinel-pw',
        AIRWAVES_REDIS_SENTINEL_TLS: 'true',
        AIRWAVES_REDIS_TLS_CA_FILE: caFile,
      });
      const sentinels = sentinelsOf(config);
      assert.deepEqual(sentinels, { addresses: [{ host: '127.0.0.1', port: 26379 }], username: 'watcher', password: 'sentinel-pw', tls: true, ca: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n' });
      const options = redisTarget(config.redisUrl!, redisCommandOptions('x'), sentinels);
      assert.equal(options.sentinelUsername, 'watcher');
      assert.equal(options.sentinelPassword, 'sentinel-pw');
      assert.deepEqual(options.sentinelTLS, { ca: sentinels?.ca });
      assert.equal(options.enableTLSForSentinelMode, true, 'rediss:// makes the master connections TLS');
      assert.deepEqual(options.tls, { ca: sentinels?.ca });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const plain = redisTarget('redis://mymaster', redisCommandOptions('x'), sentinelsOf(loadConfig({ AIRWAVES_REDIS_URL: 'redis://mymaster', AIRWAVES_REDIS_SENTINELS: '127.0.0.1:26379' })));
    assert.equal(plain.sentinelPassword, undefined, 'no password unless one is set');
    assert.equal(plain.sentinelTLS, undefined, 'no TLS unless asked');
    assert.equal(plain.enableTLSForSentinelMode, undefined);
  });

  test('a CA file that cannot be read is an error naming the setting and the file', () => {
    const config = loadConfig({ AIRWAVES_REDIS_URL: 'redis://mymaster', AIRWAVES_REDIS_SENTINELS: '127.0.0.1:26379', AIRWAVES_REDIS_SENTINEL_TLS: 'true', AIRWAVES_REDIS_TLS_CA_FILE: '/nonexistent/ca.pem' });
    assert.throws(() => sentinelsOf(config), /AIRWAVES_REDIS_TLS_CA_FILE: cannot read \/nonexistent\/ca\.pem/);
  });
});
