#!/usr/bin/env node
// Runs the whole suite with node's test runner (TypeScript through tsx).
// Node 20's --test does not expand globs, so the files are listed here.
// Two passes: most files two at a time, then the timing-sensitive ones (real-time audio, node
// kills, browsers measuring latency, a slow consumer that must not delay a fast one within a
// wall-clock bound) one at a time, so they measure Airwaves rather than the
// other tests competing for the same two cores.
// A file that fails is run once more on its own, and the run says so loudly (FLAKY, with the
// file) whether or not the rerun passes: many tests wait on real browsers, audio clocks, Redis
// and node kills, and one slow second on a shared CI machine should not hide the rest of the
// run — but it must never go unseen. More than two failing files in a pass, or a failure the
// runner cannot tie to a file, is not rerun: that is not noise.
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
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

const failuresDir = mkdtempSync(join(tmpdir(), 'airwaves-tests-'));
const failuresFile = join(failuresDir, 'failed');

/** Runs the files; returns the exit status and the files that had a failing test. */
function run(list, concurrency) {
  if (!list.length) return { status: 0, failed: [] };
  rmSync(failuresFile, { force: true });
  const reporters = ['--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=./scripts/test-failures-reporter.mjs', '--test-reporter-destination=stderr'];
  const args = ['--import', 'tsx', '--test', '--test-timeout=240000', `--test-concurrency=${concurrency}`, ...reporters, ...list];
  const r = spawnSync(process.execPath, args, { stdio: 'inherit', env: { ...env, AIRWAVES_TEST_FAILURES: failuresFile } });
  let failed = [];
  try {
    failed = [...new Set(readFileSync(failuresFile, 'utf8').split('\n').filter(Boolean))];
  } catch {
    // no failure recorded
  }
  return { status: r.status ?? 1, failed };
}

/** The files of a pass that failed, when a rerun of them is worth it (see the top of this file). */
function rerunnable(result, list) {
  if (result.status === 0 || !result.failed.length || result.failed.length > 2) return [];
  const byPath = new Map(list.map((f) => [resolve(f), f]));
  const files = result.failed.map((f) => byPath.get(resolve(f)));
  return files.every(Boolean) ? files : [];
}

/** Runs a pass, then its failed files once more each on its own; returns the final status. */
function pass(list, concurrency) {
  const result = run(list, concurrency);
  const again = rerunnable(result, list);
  if (!again.length) return result.status;
  console.log(`\n⚠ FLAKY? ${again.length} file(s) failed; running each once more on its own: ${again.join(', ')}\n`);
  const rerun = run(again, '1');
  console.log(rerun.status === 0
    ? `\n⚠ FLAKY: ${again.join(', ')} failed the first run and passed the rerun (the first run's failure is printed above)\n`
    : `\n✖ ${rerun.failed.join(', ') || again.join(', ')} failed again on the rerun\n`);
  return rerun.status;
}

const first = pass(shared, process.env.TEST_CONCURRENCY ?? '2');
const second = pass(isolated, '1');
rmSync(failuresDir, { recursive: true, force: true });
process.exit(first || second);
