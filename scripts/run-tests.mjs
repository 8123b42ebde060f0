#!/usr/bin/env node
// Runs the whole suite with node's test runner (TypeScript through tsx).
// Node 20's --test does not expand globs, so the files are listed here.
// Usage: npm test [-- path-or-substring ...]
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (/\.test\.tsx?$/.test(name)) out.push(p);
  }
  return out;
}

const filters = process.argv.slice(2);
let files = walk('test').sort();
if (filters.length) files = files.filter((f) => filters.some((x) => f.includes(x)));
if (!files.length) {
  console.error('no test files matched');
  process.exit(1);
}
const concurrency = process.env.TEST_CONCURRENCY ?? '2';
const args = ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files];
const child = spawn(process.execPath, args, { stdio: 'inherit', env: { ...process.env, AIRWAVES_LOG_LEVEL: process.env.AIRWAVES_LOG_LEVEL ?? 'silent' } });
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
