/**
 * integerText equals String(n) and, for numbers past the small-integer range (a Date.now(), a
 * trade id past 2^31), keeps the text out of the old generation, where String(n) puts it; and a
 * publication frame's time goes through it (the hub encodes one per publication).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { integerText } from '../../src/core/integer-text.js';
import { encodePublication } from '../../src/hub/frame-encoding.js';
import { directOldBytes } from '../helpers/old-space.js';

const COUNT = 200_000;
const BASE = 1_796_639_000_000; // a Date.now() of 2026: a heap number, not a small integer

const oldSpaceBytes = (f: (n: number) => { length: number }) => directOldBytes(COUNT, BASE, f);

test('integerText is String(n) for integers, fractions, and what is not a safe integer', () => {
  for (const n of [0, 1, -7, 42, 2 ** 31 - 1, 2 ** 31, BASE, 2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 53, 1.5, -0.25, 1e21, NaN, Infinity]) assert.equal(integerText(n), String(n), String(n));
});

test('integerText keeps the text of a large integer young; String(n) puts it in the old generation', () => {
  const control = oldSpaceBytes((n) => String(n));
  const young = oldSpaceBytes(integerText);
  assert.ok(control > COUNT * 16, `control: String(n) put ${control} bytes in old space for ${COUNT} numbers`);
  assert.ok(young < COUNT * 4, `integerText put ${young} bytes in old space for ${COUNT} numbers`);
});

test('a publication frame carries its time as text without an old-generation string', () => {
  const frame = JSON.parse(encodePublication('room:a', 7, BASE, '{"x":1}').toString()) as { ts: number; offset: number };
  assert.deepEqual([frame.ts, frame.offset], [BASE, 7]);
  const bytes = oldSpaceBytes((ts) => encodePublication('room:a', 7, ts, '{"x":1}'));
  assert.ok(bytes < COUNT * 8, `encoding ${COUNT} publications put ${bytes} bytes in old space`);
});
