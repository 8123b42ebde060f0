/**
 * bench/market/cpu-split.ts: a CPU profile's samples go to the innermost frame of their stack that
 * belongs to a pipeline stage, so a runtime call counts for the stage that made it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpuSplit } from '../../bench/market/cpu-split.js';

const frame = (id: number, functionName: string, url: string, children: number[] = []) => ({ id, callFrame: { functionName, url }, children });

test('samples are charged to the innermost stage frame of their stack', () => {
  const nodes = [
    frame(1, '(root)', '', [2, 6, 8]),
    frame(2, 'startLoop', 'file:///x/node_modules/ws/lib/receiver.js', [3]),
    frame(3, 'onText', 'file:///x/src/apps/market/venues/binance/session.ts', [4]),
    frame(4, 'scan', 'file:///x/src/apps/market/venues/binance/parse.ts', [5]),
    frame(5, 'byteLength', 'node:buffer'),
    frame(6, 'runPass', 'file:///x/src/hub/flush.ts', [7]),
    frame(7, 'writev', 'node:net'),
    frame(8, '(garbage collector)', ''),
  ];
  // parse 2 (one in a runtime call under the scanner), book/sync 1, receive 1, fan-out 3, GC 1.
  const samples = [4, 5, 3, 2, 6, 7, 7, 8];
  const split = cpuSplit({ nodes, samples, timeDeltas: samples.map(() => 1000) });
  const ms = Object.fromEntries(split.map((s) => [s.stage, s.ms]));
  assert.deepEqual(ms, {
    'fan-out: per-subscriber queue and socket writes': 3,
    'parse (scanners, JSON)': 2,
    'books and sync (per venue)': 1,
    'receive (ws framing, socket reads)': 1,
    'garbage collector': 1,
  });
  assert.equal(split.reduce((a, s) => a + s.share, 0).toFixed(6), '1.000000');
});
