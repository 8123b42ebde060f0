/**
 * JSONL record and replay of venue feeds: a gateway records what Coinbase and Kraken (the
 * simulator) sent it; the capture, replayed by the simulator's replay server to a second gateway,
 * rebuilds the same books — equal to the truth at the end of the recording — with no checksum
 * failure, gap or resync.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VenueSimulator } from '../../src/apps/market/simulator/server.js';
import { CaptureReplay } from '../../src/apps/market/simulator/replay.js';
import { JsonlRecorder, readCapture } from '../../src/apps/market/venues/recorder.js';
import { MarketGateway } from '../../src/apps/market/gateway.js';
import { createRegistry } from '../../src/core/metrics.js';
import { DEFAULT_SYMBOLS, type VenueName } from '../../src/apps/market/types.js';
import { waitUntil } from './harness.js';

const VENUES: VenueName[] = ['coinbase', 'kraken'];
const symbols = DEFAULT_SYMBOLS.slice(0, 2);
const depthOf = (v: VenueName) => (v === 'kraken' ? 10 : 10_000);

test('a recorded Coinbase and Kraken capture replays into the same books', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'market-capture-'));
  const path = join(dir, 'capture.jsonl');
  const sim = new VenueSimulator({ symbols, updatesPerSecond: 50 });
  const urls = await sim.listen();
  const recorder = new JsonlRecorder(path);
  const live = new MarketGateway({ symbols, venues: { coinbase: urls.coinbase, kraken: urls.kraken }, registry: null, publish: () => {}, silenceMs: 120_000, record: (v, t, r) => recorder.record(v, t, r) });
  const synced = (g: MarketGateway, target: (v: VenueName, s: string) => string) =>
    VENUES.every((v) => symbols.every((s) => JSON.stringify(g.book(v, s.symbol)?.depth(depthOf(v))) === target(v, s.symbol)));
  try {
    live.start();
    await waitUntil(() => VENUES.every((v) => symbols.every((s) => live.dispatcher.health.get(`${v}:${s.symbol}`)?.status === 'live')), 30_000, 'books live');
    await new Promise((r) => setTimeout(r, 1500));
    sim.market.stop();
    sim.market.step(1, VENUES);
    const truth = (v: VenueName, s: string) => JSON.stringify(sim.market.truth(v, s)!.depth(depthOf(v)));
    await waitUntil(() => synced(live, truth), 10_000, 'the recording gateway caught up');
    await live.close();
    await recorder.close();
    const capture = readCapture(path);
    assert.equal(recorder.dropped, 0);
    assert.ok(capture.length > 100, `${capture.length} messages recorded`);
    assert.deepEqual([...new Set(capture.map((l) => l.venue))].sort(), VENUES);

    const replay = new CaptureReplay(capture, 0);
    const registry = createRegistry(false);
    const replayed = new MarketGateway({ symbols, venues: await replay.listen(), registry, publish: () => {}, silenceMs: 120_000 });
    try {
      replayed.start();
      await waitUntil(() => synced(replayed, truth), 20_000, 'the replayed books equal the recorded end state');
      const metrics = await registry.metrics();
      for (const name of ['market_checksum_failures_total', 'market_gaps_total', 'market_resyncs_total', 'market_malformed_total']) {
        assert.doesNotMatch(metrics, new RegExp(`^${name}\\{[^}]*\\} [1-9]`, 'm'), `${name} stays 0 on replay`);
      }
    } finally {
      await replayed.close();
      await replay.close();
    }
  } finally {
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
