/**
 * The idempotency window's limit, stated as a test (docs/cluster.md, "Limits"). Every node's
 * event consumer publishes every durable event with its event id as idempotency key and
 * `eachNodePublishes` (src/events/event-consumer.ts); this drives the hub exactly so, on two
 * nodes on one real Redis, with the window shortened to 1.5 s (AIRWAVES_REDIS_DEDUPE_TTL_MS):
 * - a node's copy of an event within the window is the same message (same offset, delivered once);
 * - a copy published after the window (a node returning with a backlog older than it) is a new
 *   message under a new offset, which every node's subscribers receive a second time.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sleep } from '../helpers/server.js';
import type { AirwavesConfig } from '../../src/config.js';
import { until } from './watchers.js';
import { twoNodesOnRedis, type Node, type TwoNodes } from './two-nodes.js';

const namespaces = [{ name: 'chat', publish: 'anonymous' as const, historySize: 100 }] as unknown as AirwavesConfig['namespaces'];
const WINDOW_MS = 1500;

describe('Redis engine: the idempotency window', () => {
  let rig: TwoNodes;

  before(async () => {
    rig = await twoNodesOnRedis('dw', { namespaces, redisDedupeTtlMs: WINDOW_MS });
  });

  after(() => rig?.close());

  /** What a node's event consumer does with a durable event. */
  const consume = (node: Node, channel: string, eventId: string, n: number) => node.hub.publish(channel, { n }, { idempotencyKey: eventId, eachNodePublishes: true });
  const offsetOf = (ack: unknown) => (ack as { offset: number }).offset;

  test('within the window a node\'s copy is the same message; after it, a late copy is delivered again under a new offset', async () => {
    const ch = 'chat:backlog';
    const { a, b } = rig;
    const onA = await rig.watch(a, ch);
    const onB = await rig.watch(b, ch);

    const first = offsetOf(await consume(a, ch, 'evt-1', 1));
    const copy = offsetOf(await consume(b, ch, 'evt-1', 1));
    assert.equal(copy, first, 'within the window node B\'s copy gets node A\'s offset');
    await until(() => onA.got.length === 1 && onB.got.length === 1, 'the event on both nodes', 10_000);

    await sleep(WINDOW_MS + 500);
    // Node B returns with a backlog older than the window: its copy is not recognised.
    const late = offsetOf(await consume(b, ch, 'evt-1', 1));
    assert.equal(late, first + 1, 'the late copy is published again, under a new offset');
    // The next event, as every node's consumer publishes it.
    const next = offsetOf(await consume(a, ch, 'evt-2', 2));
    assert.equal(offsetOf(await consume(b, ch, 'evt-2', 2)), next);
    await until(() => onA.got.length === 3 && onB.got.length === 3, 'everything on both nodes', 10_000);
    await sleep(200);
    for (const w of [onA, onB]) {
      assert.deepEqual(w.got, [1, 1, 2], 'event 1 twice: the limit this test documents');
      assert.deepEqual(w.offsets, [first, first + 1, first + 2], 'in offset order, nothing lost');
      assert.deepEqual(w.recovered, [], 'no continuity lost: the copy is an ordinary message to the clients');
    }
  });
});
