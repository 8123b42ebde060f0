/**
 * Safe defaults: no public secret. Weak or documented secrets are refused with exit 78 naming
 * the variable; with nothing set, the first start generates the secret and the admin key into
 * the data directory (0600), prints how to sign in, and later starts reuse them.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from '../../src/server.js';
import { createLogger } from '../../src/core/logger.js';
import { PUBLIC_SECRETS, weakSecretReason } from '../../src/core/public-secrets.js';

const root = join(import.meta.dirname, '../..');
const cli = (args: string[], env: Record<string, string>) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { cwd: root, env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8', timeout: 60_000 });

describe('secret refusal', () => {
  for (const [name, variable, value] of [
    ['a short JWT secret', 'AIRWAVES_JWT_SECRET', 'short-secret'],
    ['the old documented default', 'AIRWAVES_JWT_SECRET', 'airwaves-dev-secret-change-me-in-production!'],
    ['a short API key', 'AIRWAVES_API_KEY', 'key-0123456789abcdef'],
    ['a documented placeholder as API key', 'AIRWAVES_API_KEY', PUBLIC_SECRETS[1]],
  ] as const) {
    test(`${name} is refused with exit 78 naming ${variable}`, () => {
      for (const command of ['check-config', 'serve']) {
        const r = cli([command], { [variable]: value, AIRWAVES_PORT: '0', AIRWAVES_DATA_DIR: mkdtempSync(join(tmpdir(), 'aw-refuse-')) });
        assert.equal(r.status, 78, `${command}: ${r.stderr}`);
        assert.match(r.stderr, new RegExp(variable));
        assert.ok(!r.stderr.includes(value), 'the refused value is not echoed');
      }
    });
  }
});

describe('one check of secret strength, at two levels', () => {
  test('a start refuses short and published values; production also refuses repetitive and placeholder ones', () => {
    const generated = 'k3T9vQx2Lm8Zr5Wp1Hc7Nb4Yd6Fg0Js2Ae9Uo';
    for (const level of ['start', 'production'] as const) {
      assert.match(weakSecretReason('short', level) ?? '', /at least 32 bytes/);
      assert.match(weakSecretReason(PUBLIC_SECRETS[0], level) ?? '', /published/);
      assert.equal(weakSecretReason(generated, level), null);
    }
    const repetitive = 'ab'.repeat(20);
    const placeholder = 'my-very-own-Placeholder-value-XYZ-0123456789';
    assert.equal(weakSecretReason(repetitive), null, 'a laptop may start with it');
    assert.equal(weakSecretReason(placeholder, 'start'), null);
    assert.match(weakSecretReason(repetitive, 'production') ?? '', /only 2 distinct characters/);
    assert.match(weakSecretReason(placeholder, 'production') ?? '', /placeholder/);
  });
});

describe('first start', () => {
  test('generates the secret and admin key into the data directory (0600) and reuses them', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'aw-first-'));
    const logger = createLogger('silent');
    try {
      const first = await createServer({ env: { AIRWAVES_DATA_DIR: dataDir }, apps: [], logger, config: { port: 0, host: '127.0.0.1' } });
      const file = join(dataDir, 'secrets.json');
      assert.equal(first.generatedSecrets, file);
      assert.equal(statSync(file).mode & 0o777, 0o600);
      const stored = JSON.parse(readFileSync(file, 'utf8')) as { jwtSecret: string; apiKey: string };
      assert.ok(stored.jwtSecret.length >= 32 && stored.apiKey.length >= 32);
      assert.notEqual(stored.jwtSecret, stored.apiKey);
      assert.equal(first.config.apiKey, stored.apiKey);
      await first.listen();
      const keyed = await fetch(`${first.url}/api/v1/admin/event-transport`, { headers: { authorization: `Bearer ${stored.apiKey}` } });
      assert.equal(keyed.status, 200);
      assert.equal((await fetch(`${first.url}/api/v1/admin/event-transport`)).status, 401);
      await first.close();

      const second = await createServer({ env: { AIRWAVES_DATA_DIR: dataDir }, apps: [], logger, config: { port: 0, host: '127.0.0.1' } });
      assert.equal(second.generatedSecrets, null, 'nothing generated the second time');
      assert.equal(second.config.apiKey, stored.apiKey);
      assert.equal(second.config.jwtSecret, stored.jwtSecret);
      await second.close();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('`airwaves serve` with nothing set prints the admin sign-in once', { timeout: 600_000 }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'aw-serve-'));
    const serve = () =>
      new Promise<string>((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], {
          cwd: root,
          env: { PATH: process.env.PATH ?? '', AIRWAVES_PORT: '0', AIRWAVES_HOST: '127.0.0.1', AIRWAVES_DATA_DIR: dataDir, AIRWAVES_RADIO_ENABLED: 'false', AIRWAVES_LOG_LEVEL: 'info' },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        const timer = setTimeout(() => child.kill('SIGKILL'), 240_000); // two PGlite apps start slowly on a loaded machine
        const onData = (d: Buffer) => {
          out += d.toString();
          if (out.includes('airwaves listening')) child.kill('SIGTERM');
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
        child.on('error', reject);
        child.on('exit', () => {
          clearTimeout(timer);
          resolve(out);
        });
      });
    try {
      const first = await serve();
      const key = (JSON.parse(readFileSync(join(dataDir, 'secrets.json'), 'utf8')) as { apiKey: string }).apiKey;
      assert.match(first, new RegExp(`/signin#key=${key}`), first);
      const second = await serve();
      assert.match(second, /airwaves listening/);
      assert.ok(!second.includes(key), 'the key is printed on the first start only');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
