/**
 * The cluster benchmark's saturation search (bench/cluster/step-plan.ts), driven by fake step
 * outcomes: it climbs the ladder while steps pass, ends at the first failure above a pass, and
 * when its first step fails bisects down to the highest passing load, saying "none passed" only
 * when the floor fails too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { endingFailure, floorOf, nextLoad, type Verdict } from '../../bench/cluster/step-plan.js';

const LADDER = [470, 590, 650, 710];

/** Runs a search against a machine that passes every load up to `capacity`; the loads measured and the saturation. */
function search(capacity: number, ladder = LADDER, saturation = true): { loads: number[]; saturation: number | null } {
  const verdicts: Verdict[] = [];
  for (let s = nextLoad(verdicts, { ladder, saturation }); s !== null; s = nextLoad(verdicts, { ladder, saturation })) {
    assert.ok(verdicts.length < 40, 'the search ends');
    assert.ok(!verdicts.some((v) => v.s === s), `load ${s} measured twice`);
    verdicts.push({ s, pass: s <= capacity });
  }
  const passed = verdicts.filter((v) => v.pass).map((v) => v.s);
  return { loads: verdicts.map((v) => v.s), saturation: passed.length ? Math.max(...passed) : null };
}

test('a search climbs the ladder and ends at the last step below the first failure', () => {
  assert.deepEqual(search(600), { loads: [470, 590, 650], saturation: 590 });
});

test('past the ladder top it goes on by 10 % while steps pass, up to 4x the top', () => {
  assert.deepEqual(search(800).loads, [470, 590, 650, 710, 790, 870]);
  const unbounded = search(1e9);
  assert.equal(unbounded.loads[unbounded.loads.length - 1] <= 4 * 710, true);
  assert.equal(nextLoad([{ s: 710, pass: true }], { ladder: LADDER, saturation: true }), 790);
});

test('a first step that fails steps down: bisection to within 10 % of the failing load', () => {
  // Floor 240 (half of 470): 360 passes, 420 passes, 450 fails; 420 is within 10 % of 450: done.
  const r = search(430);
  assert.equal(floorOf(LADDER), 240);
  assert.deepEqual(r.loads, [470, 360, 420, 450]);
  assert.equal(r.saturation, 420);
  // Capacity just under the first step: ends near it, not at 0.
  assert.equal(search(469).saturation! >= 0.9 * 470, true);
});

test('stepping down ends at every capacity between the floor and the first step within the resolution', () => {
  for (let capacity = 240; capacity < 470; capacity += 7) {
    const r = search(capacity);
    assert.ok(r.saturation !== null && r.saturation <= capacity && r.saturation >= 0.85 * capacity, `capacity ${capacity}: ${JSON.stringify(r)}`);
    assert.ok(r.loads.length <= 7, `capacity ${capacity}: ${r.loads.length} steps`);
  }
});

test('"none passed" only when the floor itself failed', () => {
  const r = search(200);
  assert.equal(r.saturation, null);
  assert.equal(r.loads[r.loads.length - 1], 240, 'the last load measured is the floor');
  assert.ok(r.loads.includes(240));
});

test('a fixed-load run (no saturation search) stops at its first failure, neither down nor past the top', () => {
  assert.deepEqual(search(100, [470], false), { loads: [470], saturation: null });
  assert.deepEqual(search(1e9, [300, 470], false), { loads: [300, 470], saturation: 470 });
});

test('the failure that ended a search is the lowest failing load above the saturation, never a retried attempt', () => {
  const st = (s: number, pass: boolean, retried = false) => ({ subscribersPerChannel: s, pass, retried });
  const steps = [st(470, false, true), st(470, false), st(360, true), st(420, true), st(440, false, true), st(440, false)];
  assert.equal(endingFailure(steps, steps[3]), steps[5]);
  assert.equal(endingFailure(steps.slice(0, 2), null), steps[1]);
  assert.equal(endingFailure([st(470, true)], st(470, true)), undefined);
});
