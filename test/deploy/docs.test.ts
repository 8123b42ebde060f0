/**
 * @module test/deploy/docs
 * docs/deploy.md keeps its promises: the runbook has a section for every situation the alerts and
 * operators meet, every alert runbook link into it lands on a heading, and the check-config command
 * it gives runs as written.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const deploy = readFileSync('docs/deploy.md', 'utf8');
const anchor = (heading: string) => heading.toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-');
const headings = new Set([...deploy.matchAll(/^#+ (.+)$/gm)].map((m) => anchor(m[1])));

describe('docs/deploy.md', () => {
  test('the troubleshooting runbook covers every situation the issue names', () => {
    for (const h of ['viewers-not-updating', 'segments-not-generating', 'metrics-missing', 'rtmp-rejected', 'latency-above-target', 'redis-down', 'database-down']) {
      assert.ok(headings.has(h), `runbook section ${h}`);
    }
    for (const h of ['local', 'container-image', 'staging-checklist', 'rolling-update-with-zero-dropped-messages', 'database-migrations-forward-only-with-a-backup', 'rollback', 'scaling']) {
      assert.ok(headings.has(h), `section ${h}`);
    }
  });

  test('every alert runbook link into docs/deploy.md lands on a heading', () => {
    const links = [...readFileSync('ops/prometheus/alerts.yml', 'utf8').matchAll(/runbook: docs\/deploy\.md#(\S+)/g)].map((m) => m[1]);
    assert.ok(links.length >= 2);
    assert.deepEqual(links.filter((l) => !headings.has(l)), []);
  });

  test('the check-config command it documents runs as written and accepts a production configuration', () => {
    const documented = /^\s*airwaves (check-config --production[^#\n]*?)\s*#/m.exec(deploy);
    assert.ok(documented, 'a check-config --production command in a code block');
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...documented[1].trim().split(/\s+/)], {
      encoding: 'utf8',
      timeout: 30_000,
      env: {
        PATH: process.env.PATH ?? '',
        DATABASE_URL: 'postgresql://airwaves@db:5432/airwaves',
        AIRWAVES_REDIS_URL: 'redis://redis:6379',
        AIRWAVES_JWT_SECRET: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
        AIRWAVES_API_KEY: 'b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9',
        AIRWAVES_ALLOW_ANONYMOUS: 'false',
      },
    });
    assert.equal(run.status, 0, run.stderr);
    assert.match(readFileSync('README.md', 'utf8'), /docs\/deploy\.md/);
  });
});
