#!/usr/bin/env node
// Runs the whole suite with node's test runner (TypeScript through tsx).
// Node 20's --test does not expand globs, so the files are listed here.
// Two passes: most files two at a time, then the timing-sensitive ones (real-time audio, node
// kills, browsers measuring latency, a slow consumer that must not delay a fast one within a
// wall-clock bound) one at a time, so they measure Airwaves rather than the
// other tests competing for the same two cores.
// Usage: npm test [-- path-or-substring ...]
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (/\.test\.tsx?$/.test(name)) out.push(p);
  }
  return out;
}

const TIMING_SENSITIVE = [/test\/web\/(?!browser-pages)[^/]+\.test\.ts$/, /test\/radio\/(browser|broadcast|jitter)\.test\.ts$/, /test\/hub\/slow-consumer\.test\.ts$/, /test\/cluster\//, /test\/studio\/ui\.test\.ts$/, /test\/support\/browser\.test\.ts$/, /test\/deploy\/rolling-restart\.test\.ts$/, /test\/db\//, /test\/studio\/seed-while-running\.test\.ts$/, /test\/events\/orphan-groups\.test\.ts$/, /test\/support\/(redis-outage|outbox-relay)\.test\.ts$/, /test\/auth\/secrets\.test\.ts$/, /test\/market\/(gateway|ccxt|browser|orders|rotation|flood|replay|watchdog|idle|gc-mode)\.test\.ts$/, /test\/live\/(browser|broadcast|bad-input|nginx|nginx-abr|abr|viewer-sessions)\.test\.ts$/];

const filters = process.argv.slice(2);
let files = walk('test').sort();
if (filters.length) files = files.filter((f) => filters.some((x) => f.includes(x)));
if (!files.length) {
  console.error('no test files matched');
  process.exit(1);
}
const isolated = files.filter((f) => TIMING_SENSITIVE.some((re) => re.test(f)));
const shared = files.filter((f) => !isolated.includes(f));
const env = { ...process.env, AIRWAVES_LOG_LEVEL: process.env.AIRWAVES_LOG_LEVEL ?? 'silent' };

function run(list, concurrency) {
  if (!list.length) return 0;
  const args = ['--import', 'tsx', '--test', '--test-timeout=240000', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...list];
  const r = spawnSync(process.execPath, args, { stdio: 'inherit', env });
  return r.status ?? 1;
}

const first = run(shared, process.env.TEST_CONCURRENCY ?? '2');
const second = run(isolated, '1');
process.exit(first || second);
