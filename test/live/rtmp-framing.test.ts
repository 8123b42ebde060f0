/**
 * @module test/live/rtmp-framing
 * The RTMP framing modules on their own: AMF0 round trips and refuses truncated or unknown
 * input; the chunk reader reassembles interleaved messages split at every possible byte
 * boundary, honours type 1–3 headers, extended timestamps and a chunk-size change in the middle
 * of a read, and refuses bad headers and oversized messages before allocating.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Amf0Error, decodeAmf0, encodeAmf0 } from '../../src/apps/live/rtmp/amf0.js';
import { ChunkReader, ChunkStreamError, control, encodeMessage } from '../../src/apps/live/rtmp/chunk-stream.js';

test('AMF0 round-trips the values of a publish dialogue and refuses bad input', () => {
  const values = ['connect', 1, { app: 'live', tcUrl: 'rtmp://h/live', nested: { a: [1, 'x', null] }, flag: true }, null, undefined];
  assert.deepEqual(decodeAmf0(encodeAmf0(...values)), values);
  const bytes = encodeAmf0('publish', 3, null, 'live_key');
  assert.throws(() => decodeAmf0(bytes.subarray(0, bytes.length - 2)), Amf0Error);
  assert.throws(() => decodeAmf0(Buffer.from([0x11, 0])), /unsupported AMF0 marker 0x11/);
});

test('the chunk reader reassembles interleaved messages split at every byte boundary', () => {
  const big = Buffer.alloc(1000, 7);
  const stream = Buffer.concat([
    encodeMessage(3, { typeId: 20, streamId: 0, timestamp: 0, payload: encodeAmf0('connect', 1, { app: 'live' }) }, 128),
    encodeMessage(6, { typeId: 9, streamId: 1, timestamp: 0x1234567, payload: big }, 128), // extended timestamp, 8 chunks
    encodeMessage(4, { typeId: 8, streamId: 1, timestamp: 40, payload: Buffer.from([0xaf, 1, 2, 3]) }, 128),
  ]);
  for (let split = 1; split < stream.length; split++) {
    const r = new ChunkReader();
    const out = [...r.push(stream.subarray(0, split)), ...r.push(stream.subarray(split))];
    assert.equal(out.length, 3, `split at ${split}`);
    assert.equal(out[1]!.timestamp, 0x1234567);
    assert.deepEqual(out[1]!.payload, big);
    assert.equal(out[2]!.typeId, 8);
  }
  // One byte per read, and reads that each end a chunk and start the next at every offset.
  const r = new ChunkReader();
  const byByte = [...stream].flatMap((b) => r.push(Buffer.from([b])));
  assert.deepEqual(byByte.map((m) => m.payload.length), [encodeAmf0('connect', 1, { app: 'live' }).length, 1000, 4]);
  for (let size = 2; size < 300; size += 7) {
    const reader = new ChunkReader();
    const out = [];
    for (let at = 0; at < stream.length; at += size) out.push(...reader.push(stream.subarray(at, at + size)));
    assert.deepEqual(out[1]!.payload, big, `reads of ${size} bytes`);
    assert.equal(out.length, 3);
  }
});

test('type 1, 2 and 3 headers carry deltas, and SetChunkSize applies to the very next chunk', () => {
  // csid 4: type 0 at t=100 (3 bytes), then type 2 (delta 20) and type 3 (delta repeats).
  const first = encodeMessage(4, { typeId: 8, streamId: 1, timestamp: 100, payload: Buffer.from([1, 2, 3]) }, 128);
  const type2 = Buffer.from([(2 << 6) | 4, 0, 0, 20, 4, 5, 6]);
  const type3 = Buffer.from([(3 << 6) | 4, 7, 8, 9]);
  const setSize = encodeMessage(2, control.setChunkSize(4096), 128);
  const large = encodeMessage(5, { typeId: 9, streamId: 1, timestamp: 0, payload: Buffer.alloc(3000, 1) }, 4096);
  const r = new ChunkReader();
  const out = r.push(Buffer.concat([first, type2, type3, setSize, large]));
  assert.deepEqual(out.map((m) => m.timestamp).slice(0, 3), [100, 120, 140]);
  assert.equal(r.chunkSize, 4096);
  assert.equal(out.at(-1)!.payload.length, 3000);
});

test('bad chunk headers and oversized messages are refused before memory is spent', () => {
  assert.throws(() => new ChunkReader().push(Buffer.from([(3 << 6) | 5, 1, 2])), ChunkStreamError);
  const huge = Buffer.from([3, 0, 0, 0, 0xff, 0xff, 0xff, 9, 1, 0, 0, 0]);
  assert.throws(() => new ChunkReader({ maxMessageBytes: 1024, maxChunkStreams: 4 }).push(huge), /exceeds the 1024-byte limit/);
  const many = Buffer.concat(Array.from({ length: 5 }, (_, i) => Buffer.from([10 + i, 0, 0, 0, 0, 0, 1, 9, 1, 0, 0, 0, 1])));
  assert.throws(() => new ChunkReader({ maxMessageBytes: 1024, maxChunkStreams: 4 }).push(many), /more than 4 chunk streams/);
});

test('media payloads are staged in reused memory once released, and an unreleased one is never overwritten', () => {
  const r = new ChunkReader();
  const frame = (n: number) => encodeMessage(6, { typeId: 9, streamId: 1, timestamp: n, payload: Buffer.alloc(100_000, n & 0xff) }, 4096);
  const setChunk = encodeMessage(2, control.setChunkSize(4096), 128);
  r.push(setChunk);
  const kept = r.push(frame(1))[0]!; // held, like a frame waiting for its part
  const backings = new Set<ArrayBufferLike>();
  for (let n = 2; n < 60; n++) {
    const m = r.push(frame(n))[0]!;
    assert.ok(m.release, 'a media message comes with its release');
    assert.deepEqual(m.payload, Buffer.alloc(100_000, n & 0xff));
    backings.add(m.payload.buffer);
    m.release!();
  }
  assert.ok(backings.size <= 4, `5.8 MB of frames went through ${backings.size} reused slabs`);
  assert.deepEqual(kept.payload, Buffer.alloc(100_000, 1), 'the held payload is intact');
  const amf = r.push(encodeMessage(3, { typeId: 20, streamId: 0, timestamp: 0, payload: encodeAmf0('x') }, 4096))[0]!;
  assert.equal(amf.release, undefined, 'commands are plain copies');
});
