/**
 * @module test/events/trim-unacked
 * Trimming never drops an entry a consumer group has not acknowledged without counting it in
 * `events_trimmed_unacked_total` and copying it to the dead-letter stream: the same specification
 * on the in-memory log and on a real Redis, under a stalled consumer group.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRegistry, type Registry } from '../../src/core/metrics.js';
import type { EventLog } from '../../src/events/event-log.js';
import { MemoryEventLog } from '../../src/events/memory-event-log.js';
import { RedisStreamsEventLog } from '../../src/events/redis-streams-event-log.js';
import { TRIM_DEAD_LETTER_STREAM } from '../../src/events/trim-guard.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

async function counted(registry: Registry, stream: string): Promise<number> {
  const metric = await registry.getSingleMetric('events_trimmed_unacked_total')!.get();
  return metric.values.find((v) => v.labels.stream === stream)?.value ?? 0;
}

function trimSpec(label: string, make: (registry: Registry) => Promise<EventLog>) {
  describe(`trimming under a stalled consumer group (${label})`, () => {
    test('every entry trimmed before the group acknowledged it is counted and dead-lettered; acknowledged ones are not', async () => {
      const registry = createRegistry(false);
      const log = await make(registry);
      const stream = `events:test:${Date.now()}`;
      try {
        await log.ensureGroup(stream, 'stalled', '0');
        await log.ensureGroup(stream, 'healthy', '0');
        const ids: string[] = [];
        for (let i = 0; i < 20; i++) ids.push(await log.append(stream, { n: String(i) }, { maxLen: 1000 }));
        // The stalled group read 5 and acknowledged 2 of them, then stopped; the healthy one read and acked all.
        const read = await log.readGroup(stream, 'stalled', 'c1', { count: 5 });
        assert.equal(read.length, 5);
        await log.ack(stream, 'stalled', [read[0].id, read[1].id]);
        const all = await log.readGroup(stream, 'healthy', 'c2', { count: 100 });
        await log.ack(stream, 'healthy', all.map((e) => e.id));

        const removed = await log.trim(stream, 8);
        assert.ok(removed >= 12 - 2 && removed <= 12, `removed ${removed}`);
        const kept = await log.range(stream);
        assert.ok(kept.length >= 8, 'never fewer than maxLen');
        const trimmed = ids.filter((id) => !kept.some((e) => e.id === id));
        // Only the stalled group's 2 acknowledged entries may go without a dead letter.
        const expected = trimmed.filter((id) => id !== read[0].id && id !== read[1].id);
        const dead = (await log.range(TRIM_DEAD_LETTER_STREAM)).filter((e) => e.fields.stream === stream);
        assert.deepEqual(dead.map((e) => e.fields.entryId).sort(), [...expected].sort());
        assert.ok(dead.every((e) => e.fields.code === 'trimmed_unacked' && /stalled/.test(e.fields.reason) && !/healthy/.test(e.fields.reason)));
        assert.equal(dead.find((e) => e.fields.entryId === ids[3])?.fields.n, '3', 'the dead letter carries the entry');
        assert.equal(await counted(registry, stream), expected.length);
        assert.equal((await log.groups(stream)).find((g) => g.name === 'stalled')?.pending, 0, 'no ghost stays pending');
      } finally {
        await log.close();
      }
    });

    test('appends with a bound trim through the same guard', async () => {
      const registry = createRegistry(false);
      const log = await make(registry);
      const stream = `events:bounded:${Date.now()}`;
      try {
        await log.ensureGroup(stream, 'stalled', '$');
        for (let i = 0; i < 60; i++) await log.append(stream, { n: String(i) }, { maxLen: 20 });
        await new Promise((r) => setTimeout(r, 200)); // a guarded trim may still be in flight (Redis)
        const length = await log.length(stream);
        assert.ok(length >= 20 && length <= 40, `length ${length}`);
        const dead = (await log.range(TRIM_DEAD_LETTER_STREAM)).filter((e) => e.fields.stream === stream);
        assert.equal(dead.length, 60 - length, 'every entry gone from the stream is in the dead-letter stream');
        assert.equal(await counted(registry, stream), 60 - length);
      } finally {
        await log.close();
      }
    });
  });
}

trimSpec('memory', async (registry) => new MemoryEventLog({ metrics: registry }));

let redis: TestRedis;
before(async () => {
  redis = await startRedis();
});
after(async () => redis?.stop());
trimSpec('Redis', async (registry) => new RedisStreamsEventLog({ url: redis.url, metrics: registry }));
