/**
 * @module test/client/starting-retry
 * The SDK against a real server whose app is still starting (serve-while-starting, the app's
 * start held by the test): a subscribe, a publish and a history read in the app's namespace are
 * refused with `app_starting` and its `retryAfterMs` hint, and the SDK sends them again by itself,
 * no sooner than the hint, until the app is in — then they succeed and the subscription delivers.
 * With a short `startingRetry.maxWaitMs` it gives up and surfaces `app_starting` as before.
 * Nothing depends on timing but lower bounds: the test decides when the app starts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import WS from 'ws';
import { AirwavesClient, type Publication, type WebSocketConstructor } from '../../src/client/index.js';
import { createServer } from '../../src/server.js';
import { createLogger } from '../../src/core/logger.js';
import type { AirwavesApp } from '../../src/apps/app.js';
import { TEST_API_KEY, TEST_JWT_SECRET, until } from '../helpers/server.js';

/** An app declaring the `held` namespace, whose start waits until the test calls `release`. */
function heldApp(): { app: AirwavesApp; release: () => void } {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const app: AirwavesApp = {
    name: 'held',
    title: 'Held',
    description: 'a test app that starts when told',
    namespaces: ['held'],
    async register(ctx) {
      await gate;
      ctx.hub.registerNamespace({ name: 'held', subscribe: 'anonymous', publish: 'anonymous', historySize: 10 });
    },
  };
  return { app, release };
}

/** `ws` with every frame written and read kept (JSON frames only), with the time it was written. */
function recordingWebSocket() {
  const sent: { at: number; frame: Record<string, unknown> }[] = [];
  const received: Record<string, unknown>[] = [];
  class Recording extends WS {
    constructor(url: string) {
      super(url);
      this.on('message', (data, isBinary) => {
        if (!isBinary) for (const line of String(data).split('\n')) received.push(JSON.parse(line) as Record<string, unknown>);
      });
    }
    override send(data: string): void {
      sent.push({ at: Date.now(), frame: JSON.parse(data) as Record<string, unknown> });
      super.send(data);
    }
  }
  const ops = (op: string) => sent.filter((s) => s.frame.op === op);
  return { Ctor: Recording as unknown as WebSocketConstructor, ops, received };
}

async function startHeld() {
  const held = heldApp();
  const server = await createServer({
    env: {},
    apps: [held.app],
    serveWhileStarting: true,
    logger: createLogger('silent'),
    config: { port: 0, host: '127.0.0.1', apiKey: TEST_API_KEY, jwtSecret: TEST_JWT_SECRET, demo: true },
  });
  await server.listen();
  return { server, release: held.release, wsUrl: `${server.url.replace('http', 'ws')}/ws` };
}

test('subscribe, publish and history in a starting app are retried after the server hint, and succeed once the app is in', async () => {
  const { server, release, wsUrl } = await startHeld();
  const socket = recordingWebSocket();
  const client = new AirwavesClient({ url: wsUrl, WebSocket: socket.Ctor });
  try {
    await client.connect();
    const errors: string[] = [];
    const seen: Publication[] = [];
    const sub = client.subscribe('held:room', { publication: (p) => seen.push(p), error: (e) => errors.push(e.code) });
    const published = client.publish('held:room', { text: 'sent while starting' });
    const history = client.history('held:room');
    // Held until each has been refused and sent again at least once.
    await until('a second try of each command', async () => ['subscribe', 'publish', 'history'].every((op) => socket.ops(op).length >= 2), 20_000);
    const refusal = socket.received.find((f) => f.ok === false) as { error: { code: string; retryAfterMs?: number } } | undefined;
    assert.equal(refusal?.error.code, 'app_starting');
    assert.equal(refusal?.error.retryAfterMs, 1000, 'the refusal carries the retry hint');
    for (const op of ['subscribe', 'publish', 'history']) {
      const [first, second] = socket.ops(op);
      assert.ok(second.at - first.at >= 1000, `${op} sent again after ${second.at - first.at} ms: not before the hint`);
      assert.deepEqual({ ...second.frame, id: 0 }, { ...first.frame, id: 0 }, `${op}: the same command again`);
    }
    assert.equal(sub.state, 'subscribing', 'still trying, not closed');

    release();
    await server.appsStarted;
    await sub.ready;
    const ack = await published;
    assert.ok('offset' in ack && ack.offset >= 1, JSON.stringify(ack));
    await history; // answered (its content depends on whether the publish landed first)
    const again = await client.publish('held:room', { text: 'after the start' });
    assert.ok('offset' in again);
    await until('the publication reaches the subscription', async () => seen.some((p) => p.offset === again.offset), 10_000);
    assert.deepEqual((await client.history('held:room')).publications.map((p) => p.data), [{ text: 'sent while starting' }, { text: 'after the start' }]);
    assert.deepEqual(errors, [], 'no error on the way');
  } finally {
    client.close();
    release();
    await server.close();
  }
});

test('past startingRetry.maxWaitMs the SDK gives up and surfaces app_starting', async () => {
  const { server, release, wsUrl } = await startHeld();
  const socket = recordingWebSocket();
  // Refused at once, sent again no sooner than 1 s later (the hint), refused again: a third try
  // would come after 2 s, past the 1.5 s allowed, so both fail then.
  const client = new AirwavesClient({ url: wsUrl, WebSocket: socket.Ctor, startingRetry: { maxWaitMs: 1500 } });
  try {
    await client.connect();
    const errors: string[] = [];
    const sub = client.subscribe('held:room', { error: (e) => errors.push(e.code) });
    const published = client.publish('held:room', 1);
    // Both watched from now on: either may fail first.
    const [subscribed, sent] = await Promise.allSettled([sub.ready, published]);
    for (const outcome of [subscribed, sent]) assert.equal(outcome.status === 'rejected' && (outcome.reason as { code: string }).code, 'app_starting');
    assert.deepEqual(errors, ['app_starting']);
    assert.equal(sub.state, 'closed');
    assert.equal(socket.ops('subscribe').length, 2);
    assert.equal(socket.ops('publish').length, 2);
  } finally {
    client.close();
    release();
    await server.close();
  }
});
