/**
 * The node's event consumer on the in-process log sleeps while nothing happens: it waits for an
 * append (an in-process signal) instead of reading again every `blockMs`, yet still delivers at
 * once, still takes back entries left pending by a failing hub, and stops promptly. An entry
 * handled and waiting for its (delayed) ack is not handled again when a claim returns it.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryEventLog } from '../../src/events/memory-event-log.js';
import { EventConsumer } from '../../src/events/event-consumer.js';
import { eventToFields } from '../../src/events/publisher.js';
import { AirwavesError, Errors } from '../../src/core/errors.js';
import { createLogger } from '../../src/core/logger.js';

const silent = createLogger('silent');
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A memory log that counts readGroup calls per stream. */
function countingLog(): { log: MemoryEventLog; reads: Map<string, number> } {
  const log = new MemoryEventLog();
  const reads = new Map<string, number>();
  const readGroup = log.readGroup.bind(log);
  log.readGroup = (stream, group, consumer, opts) => {
    reads.set(stream, (reads.get(stream) ?? 0) + 1);
    return readGroup(stream, group, consumer, opts);
  };
  return { log, reads };
}

const event = (n: number) => eventToFields({ eventId: `e-${n}`, family: 'chat', channel: 'chat:room', roomId: 'room', type: 'message.created', body: { n } });

async function waitFor(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    assert.ok(Date.now() < deadline, what);
    await sleep(20);
  }
}

describe('event consumer on the in-process log', () => {
  test('idle, it does not come round every blockMs; an append still reaches the hub at once; stop() ends the wait', async () => {
    const { log, reads } = countingLog();
    const received: unknown[] = [];
    const hub = { publish: async (_channel: string, data: unknown) => void received.push(data) };
    const consumer = new EventConsumer({ log, hub, nodeId: 'idle', families: ['chat', 'ticket'], logger: silent, blockMs: 50, ackDelayMs: 0 });
    try {
      consumer.start();
      await sleep(1500);
      // Reading every blockMs would be ~30 reads per stream in 1.5 s.
      for (const stream of ['events:chat', 'events:ticket']) assert.ok((reads.get(stream) ?? 0) <= 2, `${stream}: ${reads.get(stream)} reads while idle`);
      const t0 = performance.now();
      await log.append('events:chat', event(1));
      await waitFor('the appended event reached the hub', () => received.length === 1);
      assert.deepEqual(received, [{ n: 1 }]);
      assert.ok(performance.now() - t0 < 5000);
      // Its ack leaves nothing pending, so the consumer goes back to waiting with no time limit.
      await sleep(500);
      const before = reads.get('events:chat')!;
      await sleep(1000);
      assert.ok(reads.get('events:chat')! - before <= 1, `events:chat: ${reads.get('events:chat')! - before} reads in 1 s after the event`);
    } finally {
      const stopped = consumer.stop().then(() => 'stopped');
      // Stopped before the log closes: the waits end by the consumer's own signal.
      assert.equal(await Promise.race([stopped, sleep(5000).then(() => 'hung')]), 'stopped');
      await log.close();
    }
  });

  test('an entry left pending by a failing hub is taken again without any further append', async () => {
    const { log } = countingLog();
    let failUntil = Date.now() + 600;
    const received: unknown[] = [];
    const hub = {
      publish: async (_channel: string, data: unknown) => {
        if (Date.now() < failUntil) throw new AirwavesError(Errors.engineUnavailable, 'engine away');
        received.push(data);
      },
    };
    // The retry in handle() gives up after claimIdleMs (100 ms); the entry stays pending until claimed.
    const consumer = new EventConsumer({ log, hub, nodeId: 'claim', families: ['chat'], logger: silent, blockMs: 100, claimIdleMs: 100, ackDelayMs: 0, maxDeliveries: 50 });
    try {
      consumer.start();
      await sleep(100);
      await log.append('events:chat', event(2));
      await waitFor('the pending entry was claimed and delivered', () => received.length === 1);
      assert.deepEqual(received, [{ n: 2 }]);
      const pendingOf = async () => (await log.groups('events:chat')).find((g) => g.name === 'hub-claim')!.pending;
      for (let i = 0; i < 100 && (await pendingOf()) > 0; i++) await sleep(20);
      assert.equal(await pendingOf(), 0, 'delivered entries are acked');
    } finally {
      failUntil = 0;
      await consumer.stop();
      await log.close();
    }
  });

  test('an entry whose ack is still waiting is not handled again when a claim returns it', async () => {
    const { log } = countingLog();
    const received: unknown[] = [];
    const hub = { publish: async (_channel: string, data: unknown) => void received.push(data) };
    // The ack waits 1 s; the entry, pending meanwhile, is idle past claimIdleMs (100 ms) many times over.
    const consumer = new EventConsumer({ log, hub, nodeId: 'slow-ack', families: ['chat'], logger: silent, blockMs: 50, claimIdleMs: 100, ackDelayMs: 1000, maxDeliveries: 50 });
    const claims: number[] = [];
    const claimStale = log.claimStale.bind(log);
    log.claimStale = async (...args) => {
      const got = await claimStale(...args);
      claims.push(got.length);
      return got;
    };
    try {
      consumer.start();
      await sleep(100);
      await log.append('events:chat', event(3));
      await sleep(800);
      assert.ok(claims.some((n) => n > 0), `a claim returned the entry while its ack waited (claims: ${claims.join(',')})`);
      assert.deepEqual(received, [{ n: 3 }], 'published once');
      const pendingOf = async () => (await log.groups('events:chat')).find((g) => g.name === 'hub-slow-ack')!.pending;
      for (let i = 0; i < 100 && (await pendingOf()) > 0; i++) await sleep(20);
      assert.equal(await pendingOf(), 0, 'acked once its delay passed');
      assert.deepEqual(received, [{ n: 3 }]);
    } finally {
      await consumer.stop();
      await log.close();
    }
  });
});
