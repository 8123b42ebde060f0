/**
 * The cluster benchmark's saturation search (bench/cluster/step-plan.ts), driven by fake step
 * outcomes: it climbs the ladder while steps pass, ends at the first failure above a pass, and
 * when its first step fails bisects down to the highest passing load, saying "none passed" only
 * when the floor fails too; a load that failed with its nodes below their quota is measured once
 * more on a fresh rig, and a failure at the quota never is.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { endingFailure, floorOf, nearest10, nextLoad, type Verdict } from '../../bench/cluster/step-plan.js';

const LADDER = [470, 590, 650, 710];

/** A fake step's verdict at load `s`, told how often `s` was measured before in this search. */
type Outcome = (s: number, before: number) => Omit<Verdict, 's'>;

/** Runs a search against fake outcomes: the loads measured, which of them on a fresh rig, and the saturation. */
function run(outcome: Outcome, ladder = LADDER, saturation = true, freshRigReruns = 1): { loads: number[]; fresh: boolean[]; saturation: number | null } {
  const verdicts: Verdict[] = [];
  const fresh: boolean[] = [];
  const opts = { ladder, saturation, freshRigReruns };
  for (let next = nextLoad(verdicts, opts); next !== null; next = nextLoad(verdicts, opts)) {
    assert.ok(verdicts.length < 40, 'the search ends');
    const before = verdicts.filter((v) => v.s === next!.s).length;
    assert.ok(before === 0 || (next.rerun && before === 1 && verdicts[verdicts.length - 1].s === next.s), `load ${next.s} measured twice, not as a re-run of the last load`);
    const last = verdicts[verdicts.length - 1];
    assert.equal(next.freshRig, !last || next.s <= last.s, `s=${next.s} after ${last?.s}: a fresh rig exactly when the load does not rise`);
    fresh.push(next.freshRig);
    verdicts.push({ s: next.s, ...outcome(next.s, before) });
  }
  // The verdict that stands for a load is its last one.
  const standing = verdicts.filter((v, i) => !verdicts.slice(i + 1).some((w) => w.s === v.s));
  const passed = standing.filter((v) => v.pass).map((v) => v.s);
  return { loads: verdicts.map((v) => v.s), fresh, saturation: passed.length ? Math.max(...passed) : null };
}

/** A machine that passes every load up to `capacity`, and fails above it at its quota (never re-run). */
function search(capacity: number, ladder = LADDER, saturation = true): { loads: number[]; saturation: number | null } {
  const { loads, saturation: sat } = run((s) => ({ pass: s <= capacity }), ladder, saturation);
  return { loads, saturation: sat };
}

test('a search climbs the ladder and ends at the last step below the first failure', () => {
  assert.deepEqual(search(600), { loads: [470, 590, 650], saturation: 590 });
});

test('past the ladder top it goes on by 10 % while steps pass, up to 4x the top', () => {
  assert.deepEqual(search(800).loads, [470, 590, 650, 710, 790, 870]);
  const unbounded = search(1e9);
  assert.equal(unbounded.loads[unbounded.loads.length - 1] <= 4 * 710, true);
  assert.deepEqual(nextLoad([{ s: 710, pass: true }], { ladder: LADDER, saturation: true, freshRigReruns: 1 }), { s: 790, freshRig: false, rerun: false });
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

test('a load that failed below quota is measured once more on a fresh rig, whose verdict stands', () => {
  // A slow first rig fails 590 below quota; the fresh one passes it and climbs on to capacity 710.
  const slowRig: Outcome = (s, before) => (s === 590 && before === 0 ? { pass: false, belowQuota: true } : { pass: s <= 710 });
  assert.deepEqual(run(slowRig), { loads: [470, 590, 590, 650, 710, 790], fresh: [true, false, true, false, false, false], saturation: 710 });
  // Failing again on the fresh rig ends the search there, as a failure on the first rig did.
  const real: Outcome = (s) => (s <= 470 ? { pass: true } : { pass: false, belowQuota: true });
  assert.deepEqual(run(real), { loads: [470, 590, 590], fresh: [true, false, true], saturation: 470 });
});

test('a fresh-rig re-run is spent once per search, and never on a failure at the quota or when turned off', () => {
  // Below quota at 590 and again at 710 on the fresh rig: the second ends the search.
  const twice: Outcome = (s, before) => (s === 590 && before === 0 ? { pass: false, belowQuota: true } : s >= 710 ? { pass: false, belowQuota: true } : { pass: true });
  assert.deepEqual(run(twice).loads, [470, 590, 590, 650, 710]);
  assert.equal(run(twice).saturation, 650);
  // At the quota (belowQuota false): the nodes' saturation, ended as before.
  assert.deepEqual(run((s) => ({ pass: s <= 590, belowQuota: false })).loads, [470, 590, 650]);
  // --fresh-rig-reruns 0.
  assert.deepEqual(run((s) => (s <= 470 ? { pass: true } : { pass: false, belowQuota: true }), LADDER, true, 0).loads, [470, 590]);
});

test('a first step that fails below quota is re-run on a fresh rig before the search steps down', () => {
  const r = run((s) => (s <= 430 ? { pass: true } : { pass: false, belowQuota: true }));
  assert.deepEqual(r.loads, [470, 470, 360, 420, 450]);
  assert.deepEqual(r.fresh, [true, true, true, false, false]);
  assert.equal(r.saturation, 420);
});

test('nearest10: the nearest multiple of 10; below 5 the whole number, at least 1', () => {
  assert.deepEqual([234, 235, 5, 4.6, 3, 0.2].map(nearest10), [230, 240, 10, 5, 3, 1]);
});
