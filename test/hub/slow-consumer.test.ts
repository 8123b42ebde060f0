import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { startServer, RawClient, sleep, until } from '../helpers/server.js';

const PAYLOAD = 'x'.repeat(16 * 1024);
const COUNT = 800; // 800 × 16 KB ≈ 13 MB: more than loopback socket buffers hold for a paused reader
const CONFLATE_COUNT = 1500; // ≈ 24 MB, so the backlog outgrows kernel buffers even with autotuning

/** The sum of a metric's series that carry every label given (`{action: 'drop'}` sums over reasons). */
async function metric(url: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (wanted.every((pair) => line.includes(pair))) sum += Number(line.split(' ').pop());
  }
  return sum;
}

describe('slow consumers', { timeout: 60_000 }, () => {
  for (const policy of ['drop-oldest', 'disconnect'] as const) {
    test(`a stalled client never delays the others (${policy})`, async () => {
      const server = await startServer({
        outboundQueueBytes: 512 * 1024,
        outboundQueueMessages: 256,
        // The hard cap far above what a fast client's queue gathers while TCP waits out a
        // retransmission under parallel load: the stalled client is judged by the window.
        outboundQueueHardFactor: 16,
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
          const [rate, cap] = [await metric(server.url, 'hub_slow_consumer_actions_total', { reason: 'not_keeping_up' }), await metric(server.url, 'hub_slow_consumer_actions_total', { reason: 'hard_cap' })];
          const actions = `${rate + cap} (not_keeping_up ${rate}, hard_cap ${cap})`;
          throw new Error(`fast client: ${offsets.length} of ${COUNT} (last offset ${offsets.at(-1)}), gaps ${gaps}, close ${fast.closeCode}, slow-consumer actions ${actions}, ${Date.now() - started} ms`, { cause: err });
        }
        const elapsed = Date.now() - started;
        const offsets = fast.publications('feed:1').map((f) => f.offset);
        assert.deepEqual(offsets, Array.from({ length: COUNT }, (_, i) => i + 1), 'the fast client got everything in order');
        assert.ok(elapsed < 10_000, `fast client took ${elapsed} ms`);
        // The stalled client is judged once its window (2 s by default) has run: it took nothing.
        const action = policy === 'disconnect' ? 'disconnect' : 'drop';
        await until(`the stalled client's ${action}`, async () => (await metric(server.url, 'hub_slow_consumer_actions_total', { action })) > 0, 15_000, 50);
        if (policy === 'disconnect') {
          // A paused socket cannot read the close frame; resume it to see how the server ended it.
          (stalled.ws as unknown as { _socket: { resume(): void } })._socket.resume();
          assert.equal(await stalled.closed, 4008);
        } else {
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
      // The burst passes the hard cap (4 × 256 KB) at once; a loaded machine may still take a while.
      await until('the stalled client is conflated', async () => (await metric(server.url, 'hub_slow_consumer_actions_total', { action: 'conflate' })) > 0, 15_000);
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

/** What the test reads of a client's session on the server (the hub's own object, not a copy). */
interface SessionView {
  readonly subscriptions: Map<string, unknown>;
  readonly queuedBytes: number;
}

function sessionOf(server: Awaited<ReturnType<typeof startServer>>, channel: string): SessionView {
  const sessions = (server.hub as unknown as { connections: { sessions: Map<string, SessionView> } }).connections.sessions;
  const found = [...sessions.values()].find((s) => s.subscriptions.has(channel));
  assert.ok(found, `a session subscribed to ${channel}`);
  return found;
}

/**
 * Samples a session's queued bytes every 5 ms. The queue grows only inside a delivery, which
 * applies the hard cap before it returns, so every sample must be within the cap.
 */
function watchQueue(session: SessionView, bound: number): { peak: number; passedBoundAt: number; stop(): void } {
  const watch = { peak: 0, passedBoundAt: 0, stop: () => clearInterval(timer) };
  const timer = setInterval(() => {
    watch.peak = Math.max(watch.peak, session.queuedBytes);
    if (watch.passedBoundAt === 0 && session.queuedBytes > bound) watch.passedBoundAt = Date.now();
  }, 5);
  return watch;
}

/**
 * Lets a client's TCP socket read no more than `allowed()` bytes: paused whenever it is ahead.
 * Tied to what was published, not to the clock, so a starved test process keeps the ratio.
 */
function throttle(client: RawClient, allowed: () => number): () => void {
  const socket = (client.ws as unknown as { _socket: Socket })._socket;
  let read = 0;
  const onData = (chunk: Buffer) => {
    read += chunk.length;
    if (read > allowed()) socket.pause();
  };
  socket.on('data', onData);
  const timer = setInterval(() => {
    if (socket.isPaused() && read <= allowed()) socket.resume();
  }, 10);
  return () => {
    clearInterval(timer);
    socket.off('data', onData);
    socket.resume();
  };
}

/** Publishes `perTick` 16 KB messages every `tickMs` until `stop()` (no catching up after a late tick: no bursts). */
async function publishWhile(pub: RawClient, channel: string, perTick: number, tickMs: number, more: () => boolean, counted = { n: 0 }): Promise<number> {
  let n = 0;
  while (more()) {
    for (let k = 0; k < perTick; k++) {
      n = ++counted.n;
      pub.sendRaw(JSON.stringify({ id: n, op: 'publish', channel, data: { i: n, p: PAYLOAD } }));
    }
    await sleep(tickMs);
  }
  return n;
}

const RATES = { publishRatePerSecond: 10_000, publishBytesPerSecond: 100 * 1024 * 1024, commandRatePerSecond: 10_000 };
const FEED = { name: 'feed', publish: 'anonymous', historySize: 100, slowConsumer: 'drop-oldest', maxMessageBytes: 64 * 1024 };

/** A server with the feed namespace, `soft` queue bounds, the hard cap at `hardFactor` × them and the given window (default 2 s). */
function judgementServer(soft: number, hardFactor: number, slowConsumerWindowMs?: number) {
  return startServer({ outboundQueueBytes: soft, outboundQueueMessages: 4096, outboundQueueHardFactor: hardFactor, ...(slowConsumerWindowMs ? { slowConsumerWindowMs } : {}), ...RATES, namespaces: [FEED] as never });
}

/** A client subscribed to `channel`, with its raw socket (for the test to pause) and its session on the server. */
async function subscriber(server: Awaited<ReturnType<typeof startServer>>, channel: string) {
  const client = await RawClient.open(server.wsUrl);
  await client.request('subscribe', { channel });
  return { client, socket: (client.ws as unknown as { _socket: Socket })._socket, session: sessionOf(server, channel) };
}

describe('slow-consumer judgement: rate over a window, and a hard cap', { timeout: 90_000 }, () => {
  test('a client that keeps reading, but at a fifth of the publish rate, is judged within seconds; its queue never passes the hard cap', async () => {
    const soft = 1024 * 1024;
    const hard = soft * 16;
    const server = await judgementServer(soft, 16, 1500);
    try {
      const { client: slow, session } = await subscriber(server, 'feed:slow');
      const queue = watchQueue(session, soft);
      // 10 × 16 KB every 20 ms (≈ 8 MB/s when the machine keeps up); the client reads a fifth of what was published.
      const published = { n: 0 };
      const unthrottle = throttle(slow, () => 0.2 * published.n * PAYLOAD.length);
      const pub = await RawClient.open(server.wsUrl);
      const started = Date.now();
      let judged = false;
      const publishing = publishWhile(pub, 'feed:slow', 10, 20, () => !judged && Date.now() - started < 40_000, published);
      try {
        await until('the slow reader is judged', async () => (await metric(server.url, 'hub_slow_consumer_actions_total', { action: 'drop', reason: 'not_keeping_up' })) > 0, 40_000, 50);
      } finally {
        judged = true;
      }
      const judgedAt = Date.now();
      const tookMs = judgedAt - started;
      const readBefore = slow.publications('feed:slow').length;
      await publishing;
      queue.stop();
      const hardCap = await metric(server.url, 'hub_slow_consumer_actions_total', { reason: 'hard_cap' });
      assert.ok(readBefore > 0, 'the client was reading all along');
      // The kernel's socket buffers fill first (several MB); from then on the window decides.
      const afterBoundMs = judgedAt - queue.passedBoundAt;
      assert.ok(queue.passedBoundAt > 0 && afterBoundMs < 10_000, `judged ${afterBoundMs} ms after its queue passed its bounds (window 1.5 s; ${tookMs} ms after the first publication)`);
      assert.ok(queue.peak <= hard, `its queue peaked at ${queue.peak} bytes, over the hard cap ${hard} (hard-cap actions: ${hardCap})`);
      assert.ok(queue.peak > soft, `its queue passed its bounds (peak ${queue.peak}) before it was judged`);
      // Once it reads at full speed it learns what it missed.
      unthrottle();
      const gap = await slow.waitPush((f) => f.event === 'gap', 15_000);
      assert.equal(gap.channel, 'feed:slow');
      slow.ws.terminate();
      pub.close();
    } finally {
      await server.close();
    }
  });

  test('the hard cap applies at once, whatever the window', async () => {
    const soft = 256 * 1024;
    const server = await judgementServer(soft, 4, 60_000);
    try {
      const { client: stalled, socket, session } = await subscriber(server, 'feed:1');
      socket.pause();
      const queue = watchQueue(session, soft);
      const pub = await RawClient.open(server.wsUrl);
      for (let i = 0; i < COUNT; i++) {
        pub.sendRaw(JSON.stringify({ id: i + 1, op: 'publish', channel: 'feed:1', data: { i, p: PAYLOAD } }));
        if (i % 40 === 39) await sleep(5);
      }
      await until('the hard cap drops for the stalled client', async () => (await metric(server.url, 'hub_slow_consumer_actions_total', { action: 'drop', reason: 'hard_cap' })) > 0, 15_000, 50);
      queue.stop();
      assert.equal(await metric(server.url, 'hub_slow_consumer_actions_total', { reason: 'not_keeping_up' }), 0, 'the 60 s window never ran');
      assert.ok(queue.peak <= soft * 4, `its queue peaked at ${queue.peak} bytes, over the hard cap ${soft * 4}`);
      socket.resume();
      const gap = await stalled.waitPush((f) => f.event === 'gap', 10_000);
      assert.equal(gap.channel, 'feed:1');
      stalled.ws.terminate();
      pub.close();
    } finally {
      await server.close();
    }
  });

  test('a fast client stalled for less than the window (its queue past its bounds) loses nothing', async () => {
    const soft = 512 * 1024;
    // The default window (2 s); the hard cap far away, so only the judgement could act.
    const server = await judgementServer(soft, 64);
    try {
      const { client: fast, socket, session } = await subscriber(server, 'feed:fast');
      const pub = await RawClient.open(server.wsUrl);
      let resumedAt = 0;
      const publishing = publishWhile(pub, 'feed:fast', 5, 5, () => resumedAt === 0 || Date.now() - resumedAt < 500);
      await sleep(200);
      // Stalls until the hub's queue for it is past its bounds (the kernel's buffers full first), then 300 ms more.
      socket.pause();
      await until('its queue passes its bounds', () => session.queuedBytes > soft, 15_000, 5);
      await sleep(300);
      socket.resume();
      resumedAt = Date.now();
      const count = await publishing;
      try {
        await fast.waitFor(() => fast.publications('feed:fast').length >= count, 15_000);
      } catch (err) {
        const offsets = fast.publications('feed:fast').map((f) => f.offset as number);
        throw new Error(`fast client: ${offsets.length} of ${count}, gaps ${JSON.stringify(fast.pushes.filter((f) => f.event === 'gap'))}`, { cause: err });
      }
      assert.deepEqual(fast.publications('feed:fast').map((f) => f.offset), Array.from({ length: count }, (_, i) => i + 1), 'everything, in order');
      assert.equal(await metric(server.url, 'hub_slow_consumer_actions_total'), 0, 'no slow-consumer action');
      fast.close();
      pub.close();
    } finally {
      await server.close();
    }
  });
});
