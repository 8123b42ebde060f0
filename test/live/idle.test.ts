/**
 * @module test/live/idle
 * An idle live app does not wake: with no stream and no viewer none of its timers is armed and
 * none fires; the sampler starts with the first live stream, runs while any is live, and stops
 * after the last ends, after which nothing of the app wakes again. Streams go live and end through
 * nginx-rtmp's callbacks (the same lifecycle as the embedded listener, without a media pipeline).
 * Wake-ups are counted for real: an async hook sees every timer the app's modules create and every
 * time one fires.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHook } from 'node:async_hooks';
import { sleep } from '../helpers/server.js';
import { startLive, waitFor, type LiveTestServer } from './harness.js';

/**
 * The first frame of a stack outside Node's internals, this file and src/core (shared helpers such
 * as core/write-later arm timers for the app that calls them): the code that created a timer.
 */
function creator(stack: string): string {
  return stack.split('\n').slice(1).find((line) => !line.includes('node:') && !line.includes('idle.test') && !/[/\\]src[/\\]core[/\\]/.test(line)) ?? '';
}

/** Counts the callbacks of timers created by the live app's own modules (src/apps/live). */
class LiveTimerWatch {
  private readonly ours = new Set<number>();
  private fired = 0;
  private readonly hook = createHook({
    init: (id, type) => {
      if (type !== 'Timeout') return;
      const limit = Error.stackTraceLimit;
      Error.stackTraceLimit = 50;
      const stack = new Error().stack ?? '';
      Error.stackTraceLimit = limit;
      if (/[/\\]src[/\\]apps[/\\]live[/\\]/.test(creator(stack))) this.ours.add(id);
    },
    before: (id) => {
      if (this.ours.has(id)) this.fired++;
    },
    destroy: (id) => void this.ours.delete(id),
  });

  start(): this {
    this.hook.enable();
    return this;
  }

  stop(): void {
    this.hook.disable();
  }

  /** How many times the app's timers fired during the next `ms`. */
  async firedWithin(ms: number): Promise<number> {
    const from = this.fired;
    await sleep(ms);
    return this.fired - from;
  }
}

let live: LiveTestServer;
let watch: LiveTimerWatch;

before(async () => {
  watch = new LiveTimerWatch().start();
  // Short periods, so a timer left running fires many times in the windows below.
  live = await startLive({ sampleIntervalMs: 250, viewerSessionFlushMs: 50, viewerFlushMs: 10, hlsViewerTimeoutMs: 1000 });
});
after(async () => {
  watch.stop();
  await live.server.close();
});

/** nginx-rtmp's callback for `name` (its key on publish, the stream id on done); returns the response. */
function callback(call: 'on_publish' | 'on_publish_done', name: string): Promise<Response> {
  return fetch(`${live.server.url}/api/v1/streams/nginx/${call}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ call: call === 'on_publish' ? 'publish' : 'publish_done', app: 'live', name }).toString(),
    redirect: 'manual',
  });
}

async function goLive(): Promise<string> {
  const key = await live.service.store.createKey('alice', 'idle');
  const res = await callback('on_publish', key.key);
  assert.equal(res.status, 302, 'the key may publish');
  return res.headers.get('location')!;
}

test('with no stream and no viewer the live app arms no timer and none fires', async () => {
  assert.deepEqual(live.service.armedTimers(), []);
  assert.equal(await watch.firedWithin(1500), 0, 'no timer of the live app fired while nothing streams');
  assert.deepEqual(live.service.armedTimers(), []);
});

test('the sampler starts with the first live stream, runs while any is live, and stops after the last', async () => {
  const first = await goLive();
  assert.deepEqual(live.service.armedTimers(), ['sampler'], 'the first stream starts the sampler');
  const second = await goLive();
  assert.ok((await watch.firedWithin(1000)) >= 2, 'the sampler (every 250 ms) wakes while streams are live: the watch sees the app\'s timers');

  assert.equal((await callback('on_publish_done', first)).status, 200);
  assert.equal(live.service.isLive(first), false);
  assert.ok(live.service.armedTimers().includes('sampler'), 'one stream is still live: the sampler runs on');

  assert.equal((await callback('on_publish_done', second)).status, 200);
  assert.equal(live.service.isLive(second), false);
  await waitFor('the live app to disarm every timer', () => live.service.armedTimers().length === 0, 5000);
  // The ended streams' entries go once their players could have left (one timeout each, 1 s here): past that,
  // nothing of the app may wake again.
  await sleep(1500);
  assert.equal(await watch.firedWithin(1500), 0, 'no timer of the live app fired after the last stream ended');
  assert.deepEqual(live.service.armedTimers(), []);
});
