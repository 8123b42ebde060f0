/**
 * @module test/radio/rest
 * A station nobody listens to rests: after AIRWAVES_RADIO_REST_AFTER_MS without a subscriber it
 * stops composing and synthesising (no synthesis request reaches the worker), and a listener
 * wakes it — by asking for the station over HTTP, as the player does, or by subscribing directly —
 * and receives the stream from the next sequence number on, in order, without a gap.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { adminFetch, startServer, sleep, until } from '../helpers/server.js';
import { radioApp } from '../../src/apps/radio/index.js';
import { Listener, wallNow } from './listener.js';

async function metric(url: string, line: RegExp): Promise<number> {
  const text = await (await adminFetch(`${url}/metrics`)).text();
  const m = text.split('\n').find((l) => line.test(l));
  return m ? Number(m.split(' ').pop()) : NaN;
}

const SYNTH_REQUESTS = /^synthesis_latency_seconds_count\{station="calm"\}/;
const RESTING = /^radio_station_resting\{station="calm"\}/;

describe('radio station resting', () => {
  let server: Awaited<ReturnType<typeof startServer>>;

  before(async () => {
    server = await startServer({ radioStations: [{ id: 'calm', seed: 7, mood: 'calm' }], radioRestAfterMs: 1000 }, { apps: [radioApp] });
  });

  after(async () => {
    await server?.close();
  });

  /** Waits until the station rests, then checks that no synthesis request is made for a while. */
  async function assertResting(): Promise<void> {
    await until('the station rests', async () => (await metric(server.url, RESTING)) === 1);
    const before = await metric(server.url, SYNTH_REQUESTS);
    await sleep(1500);
    assert.equal(await metric(server.url, SYNTH_REQUESTS), before, 'no synthesis request while resting');
  }

  test('with nobody listening the station stops synthesising; the HTTP request a player makes wakes it, and the stream goes on in order', async () => {
    await assertResting();
    const listener = await Listener.open(server.wsUrl);
    try {
      const woke = wallNow();
      const info = (await (await fetch(`${server.url}/api/v1/radio/stations/calm`)).json()) as { formats: { opus: { channel: string; offset: number } }; status: { seq: number } };
      const restedAt = info.status.seq;
      await listener.subscribe(info.formats.opus.channel);
      await until('a live chunk after the wake-up', async () => listener.arrivals.length >= 10);
      const firstWaitMs = listener.arrivals[0]!.arrivedAt - woke;
      console.log(`# first chunk ${firstWaitMs.toFixed(0)} ms after the HTTP request woke the station`);
      assert.equal(await metric(server.url, RESTING), 0);
      const seqs = listener.seqs();
      // The stream goes on from where it rested: the next sequence number, then one after another.
      assert.ok(seqs[0]! >= restedAt, `first seq ${seqs[0]} is not before the rest point ${restedAt}`);
      for (let i = 1; i < seqs.length; i++) assert.equal(seqs[i], seqs[i - 1]! + 1, `chunk ${seqs[i - 1]! + 1} missing`);
    } finally {
      listener.close();
    }
  });

  test('a client that subscribes without asking over HTTP wakes it too, and it rests again once everyone has gone', async () => {
    await assertResting();
    const listener = await Listener.open(server.wsUrl);
    try {
      await listener.subscribe('radio:calm:pcm');
      await until('chunks after a direct subscription', async () => listener.arrivals.length >= 10);
      assert.equal(await metric(server.url, RESTING), 0);
    } finally {
      listener.close();
    }
    await assertResting();
  });
});
