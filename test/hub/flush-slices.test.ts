/**
 * @module test/hub/flush-slices
 * A flush pass that writes for longer than its slice yields and goes on in the next turn: every
 * subscriber still receives every publication exactly once and in order, and the split is visible
 * on `hub_flush_yields_total`.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, RawClient } from '../helpers/server.js';

const SUBSCRIBERS = 96;
const PUBLICATIONS = 150;

async function flushYields(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => /^\w*hub_flush_yields_total /.test(l));
  assert.ok(line, 'hub_flush_yields_total is exported');
  return Number(line.split(' ').pop());
}

/** The hub's flush scheduler (a private field: read here only for its list sizes). */
function schedulerOf(server: { hub: unknown }): { listSlots: number } {
  return (server.hub as { flush: { listSlots: number } }).flush;
}

async function burst(sliceMs: number): Promise<{ yields: number; received: number[][]; listSlots: number }> {
  const server = await startServer({
    hubFlushSliceMs: sliceMs,
    publishRatePerSecond: 100_000,
    commandRatePerSecond: 100_000,
    namespaces: [{ name: 'chat', publish: 'anonymous', historySize: 0 }] as never,
  });
  try {
    const subs = await Promise.all(Array.from({ length: SUBSCRIBERS }, () => RawClient.open(server.wsUrl)));
    for (const s of subs) assert.equal((await s.request('subscribe', { channel: 'chat:slices' })).ok, true);
    const pub = await RawClient.open(server.wsUrl);
    // Sent without waiting for acks, so many publications land in the same turns and passes are large.
    const acks = await Promise.all(Array.from({ length: PUBLICATIONS }, (_, i) => pub.request('publish', { channel: 'chat:slices', data: { i } })));
    assert.ok(acks.every((a) => a.ok));
    for (const s of subs) await s.waitFor(() => s.publications('chat:slices').length >= PUBLICATIONS, 20_000);
    const received = subs.map((s) => s.publications('chat:slices').map((f) => (f.data as { i: number }).i));
    const yields = await flushYields(server.url);
    const listSlots = schedulerOf(server).listSlots;
    for (const s of [...subs, pub]) s.close();
    return { yields, received, listSlots };
  } finally {
    await server.close();
  }
}

describe('flush passes yield after their slice', { timeout: 120_000 }, () => {
  test('a pass split into many turns loses, duplicates and reorders nothing', async () => {
    const { yields, received, listSlots } = await burst(0);
    assert.ok(yields > 0, `expected the flush passes to be split, got ${yields} yields`);
    // A yielded pass goes on from an index into a list kept for the hub's lifetime: what it has
    // written is compacted away when new sessions join it, so the lists never outgrow the sessions.
    assert.ok(listSlots <= 2 * (SUBSCRIBERS + 1), `the scheduler's lists hold ${listSlots} slots for ${SUBSCRIBERS + 1} sessions`);
    const expected = Array.from({ length: PUBLICATIONS }, (_, i) => i);
    for (const [n, got] of received.entries()) assert.deepEqual(got, expected, `subscriber ${n}`);
  });

  test('a pass within its slice is not split', async () => {
    const { yields, received } = await burst(1000);
    assert.equal(yields, 0);
    for (const got of received) assert.equal(got.length, PUBLICATIONS);
  });
});
