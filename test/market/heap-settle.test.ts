/**
 * The bench's heap settle (bench/market/heap-settle.ts): once the rig is set up, one full
 * collection clears what the set-up promoted and then dropped, so that garbage does not bring a
 * mark-compact into a measured window. Specified on a set-up of its own: objects kept alive across
 * scavenges (so promoted), then dropped.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GCProfiler } from 'node:v8';
import { scavengeNow, settleHeap } from '../../bench/market/heap-settle.js';

test('settleHeap runs one mark-compact that frees the promoted garbage a set-up left behind', () => {
  // ~20 MB of objects that outlive two scavenges (promoted to the old generation), then dropped.
  let setUp: { i: number; s: string }[] | null = Array.from({ length: 200_000 }, (_, i) => ({ i, s: `session-${i}` }));
  scavengeNow();
  scavengeNow();
  assert.equal(setUp.length, 200_000);
  setUp = null;
  const profiler = new GCProfiler();
  profiler.start();
  const settled = settleHeap();
  const kinds = profiler.stop().statistics.map((s) => s.gcType);
  assert.ok(kinds.includes('MarkSweepCompact'), `a mark-compact ran (collections: ${kinds.join(', ')})`);
  assert.ok(settled.usedMbBefore - settled.usedMbAfter > 5, `the dropped set-up was freed: ${settled.usedMbBefore} → ${settled.usedMbAfter} MB`);
  assert.ok(settled.ms > 0 && Number.isFinite(settled.ms));
});

test('scavengeNow runs a scavenge, not a mark-compact', () => {
  const profiler = new GCProfiler();
  profiler.start();
  scavengeNow();
  const kinds = profiler.stop().statistics.map((s) => s.gcType);
  assert.deepEqual(kinds, ['Scavenge']);
});
