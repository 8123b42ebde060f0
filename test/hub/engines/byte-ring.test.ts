/**
 * The memory engine's byte history (historyInBuffers): the same messages, offsets, times, keys and
 * payloads as the object ring, through wraps of the byte arena and its growth, for JSON (multi-byte
 * UTF-8 too) and binary payloads; the arena gives back what a burst of large messages took; both
 * histories answer `since` alike; and the engine answers the same history slices either way.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteHistoryRing } from '../../../src/hub/engines/memory/byte-ring.js';
import { ObjectHistory, type ChannelHistory } from '../../../src/hub/engines/memory/channel-history.js';
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
      ring.append(m);
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

test('after a burst of large messages the arena shrinks back once the newest `capacity` are small again', () => {
  for (const capacity of [1, 200]) {
    const ring = new ByteHistoryRing(capacity, 'c:x', () => 'e1');
    const first = ring.arenaBytes;
    const small = (offset: number): HubMessage => ({ channel: 'c:x', offset, epoch: 'e1', ts: offset, publishedAt: 0, json: JSON.stringify({ n: offset, pad: 'x'.repeat(100) }) });
    let offset = 0;
    for (let i = 0; i < 3 * capacity; i++) ring.append(small(++offset));
    const steady = ring.arenaBytes;
    // A resync's snapshots: `capacity` messages of 100 KB each.
    for (let i = 0; i < capacity; i++) ring.append({ channel: 'c:x', offset: ++offset, epoch: 'e1', ts: offset, publishedAt: 0, binary: Buffer.alloc(100_000, offset & 255) });
    const peak = ring.arenaBytes;
    assert.ok(peak >= capacity * 100_000, `capacity ${capacity}: the arena grew to hold the burst (${peak})`);
    // Small messages again: the burst leaves the window, and within two shrink windows (of at
    // least 64 appends) the arena must come down.
    for (let i = 0; i < capacity + 2 * Math.max(capacity, 64); i++) ring.append(small(++offset));
    assert.ok(ring.arenaBytes <= Math.max(first, 4 * steady), `capacity ${capacity}: arena ${ring.arenaBytes} bytes after the burst left (first ${first}, steady ${steady}, peak ${peak})`);
    assert.equal(ring.size, capacity);
    // Nothing lost in the moves: every kept message reads back.
    for (let i = 0; i < ring.size; i++) assert.deepEqual(ring.at(i), { ...small(offset - ring.size + 1 + i), publishedAt: Number.NaN });
  }
});

test('a depth-1 arena whose messages alternate large and small keeps the large size instead of reallocating', () => {
  const ring = new ByteHistoryRing(1, 'c:x', () => 'e1');
  const sizes = new Set<number>();
  for (let offset = 1; offset <= 400; offset++) {
    ring.append({ channel: 'c:x', offset, epoch: 'e1', ts: offset, publishedAt: 0, json: 'x'.repeat(offset % 2 ? 50_000 : 10) });
    if (offset > 2) sizes.add(ring.arenaBytes);
  }
  assert.deepEqual([...sizes], [65_536]);
});

test('both histories answer `since` with the kept messages after an offset, newest `limit` of them, oldest first', () => {
  const histories: ChannelHistory[] = [new ObjectHistory(50), new ByteHistoryRing(50, 'c:x', () => 'e1')];
  const rnd = random(7);
  const reference: HubMessage[] = [];
  for (let offset = 1; offset <= 400; offset++) {
    const m = message(offset, rnd);
    for (const h of histories) h.append(m);
    reference.push(m);
    if (reference.length > 50) reference.shift();
    if (offset % 37 !== 0) continue;
    for (const [after, limit] of [[0, 1_000], [0, 5], [offset - 1, 10], [offset, 10], [offset - 20, 100], [offset - 20, 3], [offset - 60, 100], [offset - 50, 0]]) {
      const expected = reference.filter((r) => r.offset > after).slice(-limit || reference.length + 1);
      for (const h of histories) {
        const got = h.since(after, limit);
        const where = `${h.inBuffers ? 'bytes' : 'objects'}, after ${after}, limit ${limit}`;
        assert.equal(got.length, limit === 0 ? 0 : expected.length, `${where}: count`);
        got.forEach((g, i) => same(g, expected[i], `${where}, #${i}`));
      }
    }
  }
  for (const h of histories) {
    assert.equal(h.size, 50);
    h.clear();
    assert.equal(h.size, 0);
    assert.deepEqual(h.since(0, 100), []);
    const m = message(401, rnd);
    h.append(m);
    same(h.since(400, 10)[0], m, `${h.inBuffers ? 'bytes' : 'objects'} after clear`);
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
