/**
 * @module test/repo/cli
 * The command line a user meets first: minting tokens, checking configuration, clear failures.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { verifyToken } from '../../src/hub/auth.js';

const SECRET = 'cli-test-secret-0123456789-0123456789';

function airwaves(args: string[], env: Record<string, string> = {}) {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', AIRWAVES_JWT_SECRET: SECRET, ...env },
    timeout: 30_000,
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('airwaves CLI', () => {
  test('token mints a JWT the hub accepts, with the claims asked for', async () => {
    const r = airwaves(['token', '--sub', 'alice', '--subscribe', 'chat:*', '--publish', 'chat:room', '--ttl', '1h']);
    assert.equal(r.code, 0, r.stderr);
    const identity = await verifyToken(r.stdout.trim(), SECRET);
    assert.equal(identity.user, 'alice');
    const allows = (patterns: RegExp[] | null, channel: string) => (patterns ?? []).some((p) => p.test(channel));
    assert.ok(allows(identity.subscribe, 'chat:anything'));
    assert.ok(!allows(identity.subscribe, 'support:room:1'));
    assert.ok(allows(identity.publish, 'chat:room'));
    assert.ok(!allows(identity.publish, 'chat:other'));
    assert.ok(identity.expiresAt !== null && identity.expiresAt > Date.now() + 3500_000 && identity.expiresAt <= Date.now() + 3600_000);
  });

  test('token without --sub exits 2 with the usage', () => {
    const r = airwaves(['token']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--sub is required/);
  });

  test('check-config names the bad variable and what it expects, exit 78', () => {
    const r = airwaves(['check-config'], { AIRWAVES_PORT: 'abc', AIRWAVES_LOG_LEVEL: 'loud' });
    assert.equal(r.code, 78);
    assert.match(r.stderr, /AIRWAVES_PORT/);
    assert.match(r.stderr, /AIRWAVES_LOG_LEVEL/);
    assert.match(r.stderr, /number/i);
  });

  test('check-config prints a valid configuration with secrets redacted', () => {
    const r = airwaves(['check-config'], { AIRWAVES_PORT: '9090', AIRWAVES_API_KEY: 'cli-test-key-0123456789abcdef-0123456789' });
    assert.equal(r.code, 0, r.stderr);
    const config = JSON.parse(r.stdout) as { port: number; jwtSecret: string; apiKey: string };
    assert.equal(config.port, 9090);
    assert.equal(config.jwtSecret, '<redacted>');
    assert.equal(config.apiKey, '<redacted>');
    assert.doesNotMatch(r.stdout, new RegExp(SECRET));
  });

  test('an unknown command exits 2', () => {
    assert.equal(airwaves(['fly']).code, 2);
  });
});
