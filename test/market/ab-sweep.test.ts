/**
 * Who sweeps the young ArrayBuffers (bench/market/ab-sweep.ts), switched at run time as the market
 * bench alternates it window by window: after `setAbSweep('main')` the sweep is done inside the
 * scavenge's pause (its `scavenge.sweep_array_buffers` phase holds the work), after
 * `setAbSweep('concurrent')` the pause only hands it to a worker.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { parseNvp } from '../../bench/market/gc-nvp.js';
import { parseAbSweep } from '../../bench/market/ab-sweep.js';

const abSweep = new URL('../../bench/market/ab-sweep.ts', import.meta.url).href;

test('main: the sweep is in the pause, several times the concurrent hand-off, switched in one process', () => {
  const script = `
    import { setAbSweep } from ${JSON.stringify(abSweep)};
    const churn = () => { let keep = []; for (let i = 0; i < 1.5e6; i++) { keep.push(new ArrayBuffer(16)); if (keep.length > 2000) keep = []; } };
    for (const mode of ['concurrent', 'main']) { setAbSweep(mode); console.log('mode ' + mode); churn(); }`;
  const out = execFileSync(process.execPath, ['--trace-gc-nvp', '--no-parallel-scavenge', '--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const mean: Record<string, number> = {};
  for (const [mode, part] of out.split(/^mode /m).slice(1).map((p) => [p.slice(0, p.indexOf('\n')), p] as const)) {
    const sweeps = part.split('\n').map(parseNvp).filter((f) => f !== null).map((f) => f['scavenge.sweep_array_buffers'] ?? 0);
    assert.ok(sweeps.length >= 10, `${mode}: ${sweeps.length} scavenges`);
    mean[mode] = sweeps.reduce((a, b) => a + b, 0) / sweeps.length;
  }
  assert.ok(mean.main > 2 * mean.concurrent, `sweep phase per scavenge: main ${mean.main} ms, concurrent ${mean.concurrent} ms`);
});

test('an unknown sweep mode is refused, naming the modes', () => {
  assert.throws(() => parseAbSweep('lazy'), /--ab-sweeps: 'lazy' is none of concurrent, main/);
});
