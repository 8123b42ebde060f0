/**
 * @module test/live/sample-log
 * A stream's time series on a real PGlite, written in batches: rows wait in memory until a flush
 * (and are read from there meanwhile), one flush writes them all with the peak, a full queue drops
 * the oldest and counts them, and rows the database refuses are kept for the next write, then
 * dropped and counted after three refusals each, so they cannot hold back every later row; a
 * refused row does not hold back the good rows of its own batch either. A write is armed only while
 * something waits for it: an idle log has no timer.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { LiveStore } from '../../src/apps/live/store.js';
import { openLiveStore, type LiveStoreFixture } from './store-fixture.js';
import { SampleLog, type SampleRow } from '../../src/apps/live/sample-log.js';
import { until } from '../helpers/server.js';

let fixture: LiveStoreFixture;
let store: LiveStore;
let streamId: string;

before(async () => {
  fixture = await openLiveStore('samples');
  ({ store, streamId } = fixture);
});
after(() => fixture.close());

const t0 = Date.parse('2026-12-07T00:00:00Z');
const row = (id: string, i: number): SampleRow => ({ streamId: id, at: new Date(t0 + i * 5000), viewers: i, bitrateKbps: 1000 + i, fps: 30, droppedFrames: 0, segmentMs: 1000 });

function log(counts: { dropped: number; failed: number }, maxPending = 1000): SampleLog {
  return new SampleLog(store, {
    writeEveryMs: 3_600_000, // flushed by the test only
    maxPending,
    onDropped: (n) => (counts.dropped += n),
    onFailed: () => counts.failed++,
  });
}

test('rows wait in memory, are read from there, and one flush writes them all with the peak', async () => {
  const counts = { dropped: 0, failed: 0 };
  const samples = log(counts);
  samples.add([row(streamId, 0), row(streamId, 1)]);
  samples.add([row(streamId, 2)]);
  samples.peak(streamId, 7);
  assert.equal((await store.samples(streamId, null, null, 100)).length, 0, 'nothing is written before the flush');
  assert.deepEqual(samples.waiting(streamId, null, null).map((s) => s.viewers), [0, 1, 2]);
  assert.deepEqual(samples.waiting(streamId, new Date(t0 + 5000), new Date(t0 + 5000)).map((s) => s.viewers), [1], 'the range applies to waiting rows');
  assert.deepEqual(samples.waiting('another', null, null), []);
  await samples.flush();
  const stored = await store.samples(streamId, null, null, 100);
  assert.deepEqual(stored.map((s) => [s.viewers, s.bitrateKbps]), [[0, 1000], [1, 1001], [2, 1002]]);
  assert.deepEqual(samples.waiting(streamId, null, null), [], 'written rows no longer wait');
  assert.equal((await store.getStream(streamId))?.peak_viewers, 7);
  assert.deepEqual(counts, { dropped: 0, failed: 0 });
  await samples.close();
});

test('a full queue drops its oldest rows and counts them', async () => {
  const counts = { dropped: 0, failed: 0 };
  const samples = log(counts, 4);
  samples.add([10, 11, 12].map((i) => row(streamId, i)));
  samples.add([13, 14, 15].map((i) => row(streamId, i)));
  assert.equal(counts.dropped, 2);
  assert.deepEqual(samples.waiting(streamId, null, null).map((s) => s.viewers), [12, 13, 14, 15]);
  await samples.close();
  assert.deepEqual((await store.samples(streamId, new Date(t0 + 10 * 5000), null, 100)).map((s) => s.viewers), [12, 13, 14, 15]);
});

test('refused rows are kept for the next write, then dropped and counted after three refusals', async () => {
  const counts = { dropped: 0, failed: 0 };
  const samples = log(counts);
  const unknown = '00000000-0000-4000-8000-000000000000'; // no such stream: the foreign key refuses the row
  samples.add([row(unknown, 0), row(unknown, 1)]);
  await samples.flush();
  assert.equal(counts.failed, 1);
  assert.equal(samples.waiting(unknown, null, null).length, 2, 'kept after one refusal');
  await samples.flush();
  assert.equal(samples.waiting(unknown, null, null).length, 2, 'kept after two');
  await samples.flush();
  assert.equal(counts.failed, 3);
  assert.equal(counts.dropped, 2, 'dropped and counted after the third');
  assert.deepEqual(samples.waiting(unknown, null, null), []);
  samples.add([row(streamId, 20)]);
  await samples.close();
  assert.deepEqual((await store.samples(streamId, new Date(t0 + 20 * 5000), null, 100)).map((s) => s.viewers), [20], 'later rows are not held back');
});

test('a batch with a row the database refuses: its other rows are stored at once, only the refused one waits', async () => {
  const counts = { dropped: 0, failed: 0 };
  const samples = log(counts);
  const unknown = '00000000-0000-4000-8000-000000000001';
  samples.add([row(streamId, 30), row(unknown, 31), row(streamId, 32)]);
  await samples.flush();
  assert.equal(counts.failed, 1, 'the batch was refused once');
  assert.deepEqual((await store.samples(streamId, new Date(t0 + 30 * 5000), null, 100)).map((s) => s.viewers), [30, 32], 'the good rows of the refused batch');
  assert.deepEqual(samples.waiting(unknown, null, null).map((s) => s.viewers), [31], 'only the refused row waits');
  assert.deepEqual(samples.waiting(streamId, null, null), []);
  await samples.flush();
  await samples.flush();
  assert.equal(counts.dropped, 1, 'the refused row alone is dropped after its third refusal');
  await samples.close();
});

test('a write is armed by the first row or peak that waits, and none while nothing waits', async () => {
  const counts = { dropped: 0, failed: 0 };
  const samples = new SampleLog(store, { writeEveryMs: 50, maxPending: 1000, onDropped: (n) => (counts.dropped += n), onFailed: () => counts.failed++ });
  assert.equal(samples.scheduled, false, 'a new log waits for nothing');
  samples.add([]);
  assert.equal(samples.scheduled, false, 'a tick without a live stream arms nothing');
  samples.add([row(streamId, 40)]);
  assert.equal(samples.scheduled, true, 'a waiting row arms the write');
  await until('the row to be written by the armed write', async () => (await store.samples(streamId, new Date(t0 + 40 * 5000), null, 10)).length === 1, 10_000, 20);
  await samples.flush(); // the write in flight, if any
  assert.equal(samples.scheduled, false, 'written: nothing left to wake for');
  samples.peak(streamId, 90);
  assert.equal(samples.scheduled, true, 'a grown peak arms the write too');
  await until('the peak to be written', async () => (await store.getStream(streamId))?.peak_viewers === 90, 10_000, 20);
  await samples.flush();
  assert.equal(samples.scheduled, false);
  assert.deepEqual(counts, { dropped: 0, failed: 0 });
  await samples.close();
});
