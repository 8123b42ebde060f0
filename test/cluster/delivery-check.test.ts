/**
 * The load generators' receiver check (bench/shared/delivery-check.ts) on hand-made server frames,
 * walked as a receiver's socket walks a TCP read (bench/hub/lean-socket.ts `walkFrames`): the
 * byte scan that replaced JSON.parse still catches every lost, duplicated, reordered and stale
 * message, reads each message's latency, and finds several messages in one frame.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeliveryCheck } from '../../bench/shared/delivery-check.js';
import { walkFrames } from '../../bench/hub/lean-socket.js';
import { dataJson, padFor } from '../../bench/hub/wire.js';

const CHANNELS = ['bench:0', 'bench:1'];
const PAD = padFor(200);

/** One unmasked server text frame, as the hub writes it. */
function serverFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  const header = payload.length < 126 ? Buffer.from([0x81, payload.length]) : Buffer.from([0x81, 126, payload.length >> 8, payload.length & 0xff]);
  return Buffer.concat([header, payload]);
}

/** The hub's envelope around one or more publications of `channel` (joined by "\n", as the hub batches them). */
function delivery(channel: string, messages: { step: number; seq: number; tUs: number }[]): Buffer {
  return serverFrame(messages.map((m) => `{"channel":"${channel}","offset":${m.seq},"ts":1765000000000,"data":${dataJson(m.step, m.seq, m.tUs, PAD)}}`).join('\n'));
}

/** Hands every frame of one TCP read to the check, as the receiver does, all arriving at `arrivalUs`. */
function read(check: DeliveryCheck, client: number, bytes: Buffer, arrivalUs: number): void {
  const stop = walkFrames(bytes, 0, bytes.length, (start, end) => check.frame(client, bytes, start, end, arrivalUs));
  assert.equal(stop.next, bytes.length, 'the read holds whole frames');
}

function freshCheck(step: number): DeliveryCheck {
  const check = new DeliveryCheck();
  check.grow(CHANNELS.length);
  check.startStep(step);
  return check;
}

const seqs = (step: number, list: number[], tUs = 1_000) => list.map((seq) => ({ step, seq, tUs }));

test('messages 1..3 in order on both clients: nothing lost, duplicated or out of order', () => {
  const check = freshCheck(4);
  for (let c = 0; c < 2; c++) for (const m of seqs(4, [1, 2, 3])) read(check, c, delivery(CHANNELS[c], [m]), 1_000 + 2_500);
  const r = check.report(CHANNELS, { 'bench:0': 3, 'bench:1': 3 }, 2);
  assert.deepEqual([r.received, r.lost, r.duplicated, r.outOfOrder, r.stale, r.frames], [6, 0, 0, 0, 0, 6]);
  assert.equal(check.histogram.count, 6);
  assert.equal(check.histogram.quantile(0.99), 2_500, 'latency: arrival minus the publish time read from the bytes');
});

test('a lost message is counted lost, and the gap it leaves is out of order', () => {
  const check = freshCheck(1);
  for (const m of seqs(1, [1, 3])) read(check, 0, delivery('bench:0', [m]), 2_000);
  const r = check.report(CHANNELS, { 'bench:0': 3 }, 2);
  assert.equal(r.lost, 1);
  assert.equal(r.duplicated, 0);
  assert.equal(r.outOfOrder, 1);
});

test('a duplicated message is counted duplicated and out of order', () => {
  const check = freshCheck(1);
  for (const m of seqs(1, [1, 2, 2, 3])) read(check, 0, delivery('bench:0', [m]), 2_000);
  const r = check.report(CHANNELS, { 'bench:0': 3 }, 2);
  assert.equal(r.duplicated, 1);
  assert.equal(r.lost, 0);
  assert.equal(r.outOfOrder, 1);
});

test('two messages swapped are out of order though none is lost or duplicated', () => {
  const check = freshCheck(1);
  for (const m of seqs(1, [1, 3, 2, 4])) read(check, 0, delivery('bench:0', [m]), 2_000);
  const r = check.report(CHANNELS, { 'bench:0': 4 }, 2);
  assert.deepEqual([r.lost, r.duplicated], [0, 0]);
  assert.ok(r.outOfOrder >= 2, `reordering seen (${r.outOfOrder})`);
});

test('a loss and a duplicate on one client that cancel out in the count are still caught by the order check', () => {
  const check = freshCheck(1);
  for (const m of seqs(1, [1, 2, 2, 4])) read(check, 0, delivery('bench:0', [m]), 2_000);
  const r = check.report(CHANNELS, { 'bench:0': 4 }, 2);
  assert.deepEqual([r.lost, r.duplicated], [0, 0]);
  assert.equal(r.outOfOrder, 2);
});

test('several messages in one frame and several frames in one read are each checked', () => {
  const check = freshCheck(2);
  const bytes = Buffer.concat([delivery('bench:1', seqs(2, [1, 2, 3], 500)), delivery('bench:1', seqs(2, [5], 500))]);
  read(check, 1, bytes, 10_500);
  const r = check.report(CHANNELS, { 'bench:1': 5 }, 2);
  assert.deepEqual([r.received, r.frames, r.lost, r.outOfOrder], [4, 2, 1, 1]);
  assert.equal(check.histogram.quantile(1), 10_000);
});

test("a message of an earlier step is stale, not counted for this one; a new step starts every count from zero", () => {
  const check = freshCheck(7);
  read(check, 0, delivery('bench:0', seqs(6, [9])), 2_000);
  read(check, 0, delivery('bench:0', seqs(7, [1])), 2_000);
  let r = check.report(CHANNELS, { 'bench:0': 1 }, 2);
  assert.deepEqual([r.stale, r.received, r.lost, r.outOfOrder], [1, 1, 0, 0]);
  check.startStep(8);
  r = check.report(CHANNELS, { 'bench:0': 1 }, 2);
  assert.deepEqual([r.stale, r.received, r.lost, check.histogram.count], [0, 0, 1, 0]);
});

test('an idle client (no channel) expects nothing; a client added later keeps the others’ counts', () => {
  const check = freshCheck(1);
  read(check, 0, delivery('bench:0', seqs(1, [1])), 2_000);
  check.grow(3);
  read(check, 2, delivery('bench:0', seqs(1, [1])), 2_000);
  const r = check.report(['bench:0', null, 'bench:0'], { 'bench:0': 1 }, 3);
  assert.deepEqual([r.received, r.lost, r.duplicated, r.outOfOrder], [2, 0, 0, 0]);
});
