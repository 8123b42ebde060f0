/**
 * The market bench's `--node-flags` (bench/market/node-flags.ts): the measured process is the
 * bench's own, so a start-up flag for "the server" means starting the bench again under node with
 * it; the results name the flags the measured process ran with.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { missingNodeFlags, ownNodeFlags, rerunArgs } from '../../bench/market/node-flags.js';

test('only the flags node was not started with are missing; the loaders are not node flags of the measured process', () => {
  assert.deepEqual(missingNodeFlags('--no-memory-reducer  --trace-gc-nvp', ['--trace-gc-nvp']), ['--no-memory-reducer']);
  assert.deepEqual(missingNodeFlags('', []), []);
  assert.deepEqual(ownNodeFlags(['--require', '/x/tsx/preflight.cjs', '--import', 'file:///x/tsx/loader.mjs', '--no-memory-reducer', '--import=tsx']), ['--no-memory-reducer']);
  const args = rerunArgs(['--no-memory-reducer'], [], ['--parts', 'ladder']);
  assert.deepEqual(args.slice(0, 3), ['--no-memory-reducer', '--import', 'tsx']);
  assert.match(args[3], /bench\/run\.ts$/);
  assert.deepEqual(args.slice(4), ['market', '--parts', 'ladder']);
});

test('a bench run with --node-flags ran under node with them, and its results say so', () => {
  const dir = mkdtempSync(join(tmpdir(), 'market-node-flags-'));
  try {
    const out = join(dir, 'r');
    const log = execFileSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', 'market', '--parts', 'none', '--out', out, '--node-flags=--no-memory-reducer --max-semi-space-size=8'], { encoding: 'utf8' });
    assert.match(log, /starting the bench again under node --no-memory-reducer --max-semi-space-size=8/);
    const results = JSON.parse(readFileSync(`${out}.json`, 'utf8')) as { nodeFlags: string[] };
    assert.deepEqual(results.nodeFlags, ['--no-memory-reducer', '--max-semi-space-size=8']);
    assert.match(readFileSync(`${out}.md`, 'utf8'), /the measured process ran under node --no-memory-reducer --max-semi-space-size=8/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
