/**
 * @module test/deploy/production-check
 * `airwaves check-config --production` refuses what is fine on a laptop but wrong in production,
 * naming each problem by the variable that fixes it, and accepts a real production setup.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { productionProblems, plannedReplicas } from '../../src/core/production-check.js';

/** A configuration an operator could ship: every secret generated, engines external, choices explicit. */
const PRODUCTION_ENV = {
  DATABASE_URL: 'postgresql://airwaves@db.internal:5432/airwaves',
  AIRWAVES_REDIS_URL: 'redis://redis.internal:6379',
  AIRWAVES_JWT_SECRET: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
  AIRWAVES_API_KEY: 'b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9',
  AIRWAVES_ALLOW_ANONYMOUS: 'false',
};

function problemsFor(env: Record<string, string>, replicas = 1) {
  return productionProblems({ config: loadConfig(env), env, replicas });
}

function airwaves(args: string[], env: Record<string, string>) {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', ...env },
    timeout: 30_000,
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('check-config --production', () => {
  test('a production configuration (PostgreSQL, Redis, generated secrets, explicit access) passes', () => {
    assert.deepEqual(problemsFor(PRODUCTION_ENV, 3), []);
  });

  test('the embedded database is refused', () => {
    const { DATABASE_URL: _, ...env } = PRODUCTION_ENV;
    const problems = problemsFor(env);
    assert.deepEqual(problems.map((p) => p.variable), ['DATABASE_URL']);
    assert.match(problems[0].message, /PGlite/);
  });

  test('a database URL that is not PostgreSQL is refused', () => {
    assert.deepEqual(problemsFor({ ...PRODUCTION_ENV, DATABASE_URL: 'mysql://db/airwaves' }).map((p) => p.variable), ['DATABASE_URL']);
  });

  test('more than one node without Redis is refused; one node without Redis is accepted', () => {
    const { AIRWAVES_REDIS_URL: _, ...env } = PRODUCTION_ENV;
    assert.deepEqual(problemsFor(env, 1), []);
    const problems = problemsFor(env, 2);
    assert.deepEqual(problems.map((p) => p.variable), ['AIRWAVES_REDIS_URL']);
    assert.match(problems[0].message, /2 nodes/);
  });

  test('a node id without Redis reads as a cluster and is refused', () => {
    const { AIRWAVES_REDIS_URL: _, ...env } = PRODUCTION_ENV;
    assert.deepEqual(problemsFor({ ...env, AIRWAVES_NODE_ID: 'hub-1' }).map((p) => p.variable), ['AIRWAVES_REDIS_URL']);
  });

  test('unset secrets are refused: each node would generate its own into its data directory', () => {
    const { AIRWAVES_JWT_SECRET: _, AIRWAVES_API_KEY: __, ...env } = PRODUCTION_ENV;
    const problems = problemsFor(env, 2);
    assert.deepEqual(problems.map((p) => p.variable), ['AIRWAVES_JWT_SECRET', 'AIRWAVES_API_KEY']);
    for (const p of problems) assert.match(p.message, /generated into AIRWAVES_DATA_DIR .*secrets\.json/);
  });

  test('repetitive and placeholder secrets that pass configuration are refused', () => {
    const repetitive = problemsFor({ ...PRODUCTION_ENV, AIRWAVES_JWT_SECRET: 'ab'.repeat(20) });
    assert.deepEqual(repetitive.map((p) => p.variable), ['AIRWAVES_JWT_SECRET']);
    assert.match(repetitive[0].message, /2 distinct characters/);
    const placeholder = problemsFor({ ...PRODUCTION_ENV, AIRWAVES_API_KEY: 'please-change-me-before-going-live-0123456789' });
    assert.deepEqual(placeholder.map((p) => p.variable), ['AIRWAVES_API_KEY']);
    assert.match(placeholder[0].message, /placeholder/);
    const dbPassword = problemsFor({ ...PRODUCTION_ENV, DATABASE_URL: 'postgresql://airwaves:change-me@db:5432/airwaves' });
    assert.deepEqual(dbPassword.map((p) => p.variable), ['DATABASE_URL']);
    assert.match(dbPassword[0].message, /password looks like a placeholder/);
  });

  test('short and published secrets are refused by the configuration itself, before the production check (exit 78)', () => {
    const short = airwaves(['check-config', '--production'], { ...PRODUCTION_ENV, AIRWAVES_API_KEY: 'k3y-0123456789abcdef' });
    assert.equal(short.code, 78);
    assert.match(short.stderr, /AIRWAVES_API_KEY: must be at least 32 bytes/);
    const published = airwaves(['check-config', '--production'], { ...PRODUCTION_ENV, AIRWAVES_JWT_SECRET: 'change-me-openssl-rand-hex-32-jwt-signing-secret' });
    assert.equal(published.code, 78);
    assert.match(published.stderr, /AIRWAVES_JWT_SECRET: is a value published/);
  });

  test('an API key equal to the JWT secret is refused', () => {
    const problems = problemsFor({ ...PRODUCTION_ENV, AIRWAVES_API_KEY: PRODUCTION_ENV.AIRWAVES_JWT_SECRET });
    assert.deepEqual(problems.map((p) => p.variable), ['AIRWAVES_API_KEY']);
    assert.match(problems[0].message, /equals AIRWAVES_JWT_SECRET/);
  });

  test('anonymous access left at its default is refused; chosen explicitly (environment or file) it is accepted', () => {
    const { AIRWAVES_ALLOW_ANONYMOUS: _, ...env } = PRODUCTION_ENV;
    const problems = problemsFor(env);
    assert.deepEqual(problems.map((p) => p.variable), ['AIRWAVES_ALLOW_ANONYMOUS']);
    assert.match(problems[0].message, /left at its default/);
    assert.deepEqual(problemsFor({ ...env, AIRWAVES_ALLOW_ANONYMOUS: 'true' }), []);
    const dir = mkdtempSync(join(tmpdir(), 'airwaves-prod-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'airwaves.json');
    writeFileSync(file, JSON.stringify({ allowAnonymous: true }));
    assert.deepEqual(problemsFor({ ...env, AIRWAVES_CONFIG: file }), []);
  });

  test('demo mode is refused', () => {
    assert.deepEqual(problemsFor({ ...PRODUCTION_ENV, AIRWAVES_DEMO: '1' }).map((p) => p.variable), ['AIRWAVES_DEMO']);
    assert.deepEqual(problemsFor({ ...PRODUCTION_ENV, AIRWAVES_DEMO: 'false' }), []);
  });

  test('the replica count comes from the flag, then AIRWAVES_REPLICAS, then 1; nonsense is an error', () => {
    assert.equal(plannedReplicas('4', { AIRWAVES_REPLICAS: '2' }), 4);
    assert.equal(plannedReplicas(undefined, { AIRWAVES_REPLICAS: '2' }), 2);
    assert.equal(plannedReplicas(undefined, {}), 1);
    assert.match(String(plannedReplicas('0', {})), /--replicas: expected a whole number/);
    assert.match(String(plannedReplicas(undefined, { AIRWAVES_REPLICAS: 'many' })), /AIRWAVES_REPLICAS/);
  });

  test('the CLI names every problem of the development defaults at once and exits 78', () => {
    const r = airwaves(['check-config', '--production', '--replicas', '2'], { AIRWAVES_DEMO: 'true' });
    assert.equal(r.code, 78, r.stderr);
    for (const variable of ['DATABASE_URL', 'AIRWAVES_REDIS_URL', 'AIRWAVES_JWT_SECRET', 'AIRWAVES_API_KEY', 'AIRWAVES_ALLOW_ANONYMOUS', 'AIRWAVES_DEMO']) {
      assert.match(r.stderr, new RegExp(`- ${variable}: `), `${variable} named in:\n${r.stderr}`);
    }
    assert.match(r.stderr, /6 problems/);
    assert.equal(r.stdout, '', 'nothing printed as if valid');
  });

  test('the CLI accepts a production configuration (exit 0) and, without --production, still accepts the defaults', () => {
    const ok = airwaves(['check-config', '--production', '--replicas=3'], PRODUCTION_ENV);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stderr, /ready for production/);
    assert.equal(JSON.parse(ok.stdout).jwtSecret, '<redacted>');
    assert.equal(airwaves(['check-config'], {}).code, 0);
  });
});
