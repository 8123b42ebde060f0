import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, RawClient, until } from '../helpers/server.js';

const PAYLOAD = 'x'.repeat(16 * 1024);
const COUNT = 800; // 800 × 16 KB ≈ 13 MB: more than loopback socket buffers hold for a paused reader
const CONFLATE_COUNT = 1500; // ≈ 24 MB, so the backlog outgrows kernel buffers even with autotuning

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(name)) sum += Number(line.split(' ').pop());
  return sum;
}

describe('slow consumers', { timeout: 60_000 }, () => {
  for (const policy of ['drop-oldest', 'disconnect'] as const) {
    test(`a stalled client never delays the others (${policy})`, async () => {
      const server = await startServer({
        outboundQueueBytes: 512 * 1024,
        outboundQueueMessages: 256,
        publishRatePerSecond: 10_000,
        publishBytesPerSecond: 100 * 1024 * 1024,
        commandRatePerSecond: 10_000,
        namespaces: [{ name: 'feed', publish: 'anonymous', historySize: 100, slowConsumer: policy, maxMessageBytes: 64 * 1024 }] as never,
      });
      try {
        const stalled = await RawClient.open(server.wsUrl);
        await stalled.request('subscribe', { channel: 'feed:1' });
        (stalled.ws as unknown as { _socket: { pause(): void } })._socket.pause();
        const fast = await RawClient.open(server.wsUrl);
        await fast.request('subscribe', { channel: 'feed:1' });
        const pub = await RawClient.open(server.wsUrl);
        const started = Date.now();
        // Paced like a real producer (40 messages every 5 ms), not one giant burst.
        for (let i = 0; i < COUNT; i++) {
          pub.sendRaw(JSON.stringify({ id: i + 1, op: 'publish', channel: 'feed:1', data: { i, p: PAYLOAD } }));
          if (i % 40 === 39) await new Promise((r) => setTimeout(r, 5));
        }
        try {
          await fast.waitFor(() => fast.publications('feed:1').length === COUNT, 15_000);
        } catch (err) {
          // What the fast client got and how the hub treated it: tells a slow run from a dropped client.
          const offsets = fast.publications('feed:1').map((f) => f.offset as number);
          const gaps = JSON.stringify(fast.pushes.filter((f) => f.event === 'gap'));
          const actions = await metric(server.url, 'hub_slow_consumer_actions_total');
          throw new Error(`fast client: ${offsets.length} of ${COUNT} (last offset ${offsets.at(-1)}), gaps ${gaps}, close ${fast.closeCode}, slow-consumer actions ${actions}, ${Date.now() - started} ms`, { cause: err });
        }
        const elapsed = Date.now() - started;
        const offsets = fast.publications('feed:1').map((f) => f.offset);
        assert.deepEqual(offsets, Array.from({ length: COUNT }, (_, i) => i + 1), 'the fast client got everything in order');
        assert.ok(elapsed < 10_000, `fast client took ${elapsed} ms`);
        if (policy === 'disconnect') {
          // A paused socket cannot read the close frame; resume it to see how the server ended it.
          (stalled.ws as unknown as { _socket: { resume(): void } })._socket.resume();
          assert.equal(await stalled.closed, 4008);
          assert.ok((await metric(server.url, 'hub_slow_consumer_actions_total{action="disconnect"}')) >= 1);
        } else {
          await fast.waitFor(() => false, 50).catch(() => {});
          assert.ok((await metric(server.url, 'hub_slow_consumer_actions_total{action="drop"}')) > 0, 'messages were dropped for the stalled client');
          // Once it reads again it learns what it missed (a gap notice) and can recover from history.
          (stalled.ws as unknown as { _socket: { resume(): void } })._socket.resume();
          const gap = await stalled.waitPush((f) => f.event === 'gap', 10_000);
          assert.equal(gap.channel, 'feed:1');
          assert.ok((gap.to as number) >= (gap.from as number));
        }
        stalled.ws.terminate();
        fast.close();
        pub.close();
      } finally {
        await server.close();
      }
    });
  }

  test('conflate keeps only the newest publication per key for a backed-up client', async () => {
    const server = await startServer({
      outboundQueueBytes: 256 * 1024,
      outboundQueueMessages: 64,
      publishRatePerSecond: 10_000,
      publishBytesPerSecond: 100 * 1024 * 1024,
      commandRatePerSecond: 10_000,
      namespaces: [{ name: 'quotes', publish: 'anonymous', historySize: 10, slowConsumer: 'conflate', maxMessageBytes: 64 * 1024 }] as never,
    });
    try {
      const stalled = await RawClient.open(server.wsUrl);
      await stalled.request('subscribe', { channel: 'quotes:all' });
      (stalled.ws as unknown as { _socket: { pause(): void } })._socket.pause();
      const pub = await RawClient.open(server.wsUrl);
      for (let i = 0; i < CONFLATE_COUNT; i++) pub.sendRaw(JSON.stringify({ id: i + 1, op: 'publish', channel: 'quotes:all', key: `sym${i % 4}`, data: { i, p: PAYLOAD } }));
      // The policy acts at the flush's blocked-socket checks; a loaded machine may take a while.
      await until('the stalled client is conflated', async () => (await metric(server.url, 'hub_slow_consumer_actions_total{action="conflate"}')) > 0, 15_000);
      (stalled.ws as unknown as { _socket: { resume(): void } })._socket.resume();
      // The newest value of every key arrives.
      await stalled.waitFor(() => {
        const last = new Map<string, number>();
        for (const f of stalled.publications('quotes:all')) last.set(f.key as string, (f.data as { i: number }).i);
        return [1, 2, 3, 4].map((k) => CONFLATE_COUNT - k).every((i) => last.get(`sym${i % 4}`) === i);
      }, 10_000);
      stalled.close();
      pub.close();
    } finally {
      await server.close();
    }
  });
});
