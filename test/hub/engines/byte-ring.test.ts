/**
 * The memory engine's byte history (historyInBuffers): the same messages, offsets, times, keys and
 * payloads as the object ring, through wraps of the byte arena and its growth, for JSON (multi-byte
 * UTF-8 too) and binary payloads; and the engine answers the same history slices either way.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteHistoryRing } from '../../../src/hub/engines/memory/byte-ring.js';
import { MemoryEngine } from '../../../src/hub/engines/memory/memory-engine.js';
import type { HubMessage } from '../../../src/hub/engines/engine.js';

/** A deterministic generator (xorshift), so a failure repeats. */
function random(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

function message(offset: number, rnd: () => number): HubMessage {
  const m: HubMessage = { channel: 'c:x', offset, epoch: 'e1', ts: 1_000 + offset, publishedAt: 0 };
  const size = rnd() < 0.02 ? 5_000 + Math.floor(rnd() * 20_000) : Math.floor(rnd() * 300);
  if (rnd() < 0.2) m.binary = Buffer.from(Array.from({ length: size }, (_, i) => (offset + i) & 255));
  else m.json = JSON.stringify({ n: offset, s: 'é€😀x'.repeat(Math.floor(size / 8)) });
  if (rnd() < 0.5) m.key = rnd() < 0.5 ? 'bbo' : `k${offset % 7}`;
  return m;
}

function same(actual: HubMessage | undefined, expected: HubMessage, where: string): void {
  assert.ok(actual, where);
  assert.equal(actual.offset, expected.offset, `${where}: offset`);
  assert.equal(actual.epoch, expected.epoch, `${where}: epoch`);
  assert.equal(actual.ts, expected.ts, `${where}: ts`);
  assert.equal(actual.key, expected.key, `${where}: key`);
  assert.equal(actual.json, expected.json, `${where}: json`);
  assert.deepEqual(actual.binary ? Buffer.from(actual.binary) : undefined, expected.binary ? Buffer.from(expected.binary) : undefined, `${where}: binary`);
}

test('the byte ring keeps exactly the newest `capacity` messages through arena wraps and growth', () => {
  for (const capacity of [1, 3, 50, 200]) {
    const rnd = random(capacity * 7919);
    const ring = new ByteHistoryRing(capacity, 'c:x', () => 'e1');
    const reference: HubMessage[] = [];
    const start = ring.arenaBytes;
    for (let offset = 1; offset <= 3_000; offset++) {
      const m = message(offset, rnd);
      ring.push(m);
      reference.push(m);
      if (reference.length > capacity) reference.shift();
      assert.equal(ring.size, reference.length);
      // Every message now and then (all of them cost O(capacity) per push): the newest always.
      same(ring.peekNewest(), m, `capacity ${capacity}, newest at ${offset}`);
      if (offset % 97 === 0 || offset === 3_000) reference.forEach((r, i) => same(ring.at(i), r, `capacity ${capacity}, at ${i} after ${offset}`));
    }
    assert.deepEqual(ring.oldest(), { offset: reference[0].offset, ts: reference[0].ts });
    assert.equal(ring.at(ring.size), undefined);
    assert.ok(ring.arenaBytes > start, `capacity ${capacity}: the arena grew for the large messages`);
    // Grown for what the newest `capacity` need, not without bound: at most twice what they take
    // plus the largest message (the doubling step), with one byte per record.
    const largest = 26_000;
    assert.ok(ring.arenaBytes <= 2 * (capacity * (largest + 1)) + 4 * largest, `capacity ${capacity}: arena ${ring.arenaBytes} bytes`);
  }
});

test('the memory engine answers the same history slices with history in buffers as with objects', async () => {
  const objects = new MemoryEngine();
  const bytes = new MemoryEngine();
  await objects.start(() => {});
  await bytes.start(() => {});
  try {
    const retention = { historySize: 40, historyTtlMs: 0 };
    const rnd = random(42);
    for (let offset = 1; offset <= 500; offset++) {
      const m = message(offset, rnd);
      const payload = { json: m.json, binary: m.binary, key: m.key };
      assert.equal(bytes.publish('c:x', payload, { ...retention, inBuffers: true }).offset, objects.publish('c:x', payload, retention).offset);
      if (offset % 50 !== 0) continue;
      for (const [after, limit] of [[0, 0], [0, 10], [offset - 5, 100], [offset - 39, 100], [offset - 41, 100], [offset, 10], [offset - 100, 1_000]]) {
        const a = objects.history('c:x', after, limit, retention);
        const b = bytes.history('c:x', after, limit, { ...retention, inBuffers: true });
        assert.equal(b.top, a.top);
        assert.equal(b.complete, a.complete, `complete after ${after}, limit ${limit}`);
        assert.equal(b.messages.length, a.messages.length, `count after ${after}, limit ${limit}`);
        // Each engine stamps its own publish time and epoch: those are compared apart.
        a.messages.forEach((m, i) => {
          assert.ok(Math.abs(b.messages[i].ts - m.ts) < 1_000);
          same(b.messages[i], { ...m, epoch: b.epoch, ts: b.messages[i].ts }, `after ${after}, limit ${limit}, #${i}`);
        });
      }
    }
  } finally {
    await objects.close();
    await bytes.close();
  }
});
