/**
 * @module test/core/gc-pauses
 * GC pauses from V8's GC profiler (src/core/gc-pauses): a forced major and a forced minor GC
 * reach the histograms under their kinds, through a real server's /metrics too
 * (nodejs_gc_duration_seconds, gc_pause_seconds); with nobody scraping, the profiler is still
 * emptied every drain interval (its buffer is bounded); nodejs_gc_duration_seconds keeps
 * prom-client's name, help, label and buckets (dashboards and alert rules keep working); a feed
 * whose histograms are all gone stops its profiler.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import client from 'prom-client';
import promGc from 'prom-client/lib/metrics/gc.js';
import { GcPauseFeed, NODEJS_GC_DURATION } from '../../src/core/gc-pauses.js';
import { createRegistry } from '../../src/core/metrics.js';
import { sleep, startServer } from '../helpers/server.js';

// A real collection on demand, without starting the test process with --expose-gc.
setFlagsFromString('--expose-gc');
// gc() is a full (major) collection; gc({ type: 'minor' }) a scavenge. (On Node 20 any options
// object gives a scavenge, { type: 'major' } too.)
const gc = runInNewContext('gc') as (options?: { type: 'minor' }) => void;

/** `name`'s _count for kind="`kind`" in a Prometheus text exposition (0 when absent). */
function countOf(text: string, name: string, kind: string): number {
  return Number(new RegExp(`^${name}_count\\{kind="${kind}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
}

function pauseHistogram(registry: client.Registry, feed: GcPauseFeed): client.Histogram<'kind'> {
  return new client.Histogram({ name: 'test_gc_pause_seconds', help: 'test', labelNames: ['kind'] as const, buckets: [0.001, 0.01, 0.1], registers: [registry], collect: () => feed.drain() });
}

describe('GC pauses from the GC profiler', () => {
  test('a forced major and a forced minor GC are observed under their kinds, with their durations', async () => {
    const feed = new GcPauseFeed(60_000);
    const registry = new client.Registry();
    const stop = feed.feed(pauseHistogram(registry, feed));
    try {
      const before = await registry.metrics();
      gc();
      gc({ type: 'minor' });
      gc({ type: 'minor' });
      const after = await registry.metrics();
      assert.ok(countOf(after, 'test_gc_pause_seconds', 'major') >= countOf(before, 'test_gc_pause_seconds', 'major') + 1, after);
      assert.ok(countOf(after, 'test_gc_pause_seconds', 'minor') >= countOf(before, 'test_gc_pause_seconds', 'minor') + 2, after);
      const sum = Number(/^test_gc_pause_seconds_sum\{kind="major"\} (\S+)$/m.exec(after)?.[1]);
      assert.ok(sum > 0 && sum < 5, `a major GC's duration in seconds: ${sum}`);
    } finally {
      stop();
    }
  });

  test('with nobody scraping, the profiler is emptied every drain interval (its buffer stays bounded)', async () => {
    const feed = new GcPauseFeed(50);
    const registry = new client.Registry();
    const stop = feed.feed(pauseHistogram(registry, feed));
    try {
      for (let i = 0; i < 5; i++) gc({ type: 'minor' });
      await sleep(180);
      assert.ok(feed.drains >= 2, `drained ${feed.drains} times in 180 ms at a 50 ms interval`);
      assert.ok(feed.drained >= 5, `the 5 GCs were read out without a scrape (${feed.drained})`);
      const readOut = feed.drained;
      gc({ type: 'minor' });
      await sleep(120);
      assert.ok(feed.drained >= readOut + 1, 'and so was the next one');
      assert.ok(countOf(await registry.metrics(), 'test_gc_pause_seconds', 'minor') >= 6);
    } finally {
      stop();
    }
  });

  test('stopping drains first; once no histogram is fed, the profiler stops', async () => {
    const feed = new GcPauseFeed(60_000);
    const registry = new client.Registry();
    const histogram = pauseHistogram(registry, feed);
    const stopOne = feed.feed(histogram);
    const stopTwo = feed.feed(histogram); // fed twice (two monitors on one registry): each GC once
    assert.equal(feed.running, true);
    gc();
    stopOne();
    assert.equal(feed.running, true, 'still fed once');
    assert.equal(countOf(await registry.metrics(), 'test_gc_pause_seconds', 'major'), 1);
    stopTwo();
    assert.equal(feed.running, false);
    gc();
    assert.equal(countOf(await registry.metrics(), 'test_gc_pause_seconds', 'major'), 1, 'not fed any more');
  });

  test('a histogram whose registry was dropped is let go, and the profiler with it', async () => {
    const feed = new GcPauseFeed(60_000);
    (() => {
      const registry = new client.Registry();
      feed.feed(pauseHistogram(registry, feed));
    })();
    assert.equal(feed.running, true);
    await sleep(10); // a WeakRef's target lives at least until the end of the job that made it
    gc();
    feed.drain();
    assert.equal(feed.running, false);
  });

  test("nodejs_gc_duration_seconds keeps prom-client's name, help, label and buckets", async () => {
    const theirs = new client.Registry();
    promGc(theirs);
    const ours = createRegistry();
    gc();
    await sleep(20); // prom-client's observer hears of it in a later turn
    const [t, o] = await Promise.all([theirs.getSingleMetric(NODEJS_GC_DURATION.name)!.get(), ours.getSingleMetric(NODEJS_GC_DURATION.name)!.get()]);
    assert.equal(o.name, t.name);
    assert.equal(o.help, t.help);
    assert.equal(o.type, t.type);
    const les = (m: typeof o, kind: string) => m.values.filter((v) => v.labels.kind === kind && 'le' in v.labels).map((v) => v.labels.le);
    assert.deepEqual(les(o, 'major'), les(t, 'major'));
    assert.deepEqual(les(o, 'major'), [0.001, 0.01, 0.1, 1, 2, 5, '+Inf']);
  });

  test("a server's /metrics shows a forced GC in nodejs_gc_duration_seconds and gc_pause_seconds", async () => {
    const server = await startServer();
    try {
      const before = await (await fetch(`${server.url}/metrics`)).text();
      gc();
      const after = await (await fetch(`${server.url}/metrics`)).text();
      for (const name of ['nodejs_gc_duration_seconds', 'gc_pause_seconds']) {
        assert.ok(countOf(after, name, 'major') >= countOf(before, name, 'major') + 1, `${name}: ${countOf(before, name, 'major')} → ${countOf(after, name, 'major')}`);
      }
    } finally {
      await server.close();
    }
  });
});
