/**
 * @module test/live/viewer-sessions
 * Viewer counting and its history, on a real PGlite: a viewer seen on both the WebSocket and
 * the playlists counts once; joins and leaves reach the database in batches (one flush writes a
 * thousand joins), a leave queued behind its own join in the same batch still closes it, a quick
 * rejoin opens a new session, and a full queue drops and counts instead of growing. A flush is armed
 * only while a join or leave waits for it: nobody watching, the log has no timer.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import type { Database } from '../../src/db/database.js';
import type { LiveStore } from '../../src/apps/live/store.js';
import { openLiveStore, type LiveStoreFixture } from './store-fixture.js';
import type { LiveDB } from '../../src/apps/live/types.js';
import { ViewerSessionLog } from '../../src/apps/live/viewer-sessions.js';
import { ViewerRegistry } from '../../src/apps/live/viewers.js';
import { until as waitUntil } from '../helpers/server.js';

let fixture: LiveStoreFixture;
let database: Database<LiveDB>;
let store: LiveStore;
let streamId: string;

before(async () => {
  fixture = await openLiveStore('sessions');
  ({ database, store, streamId } = fixture);
});
after(() => fixture.close());

async function sessions(): Promise<{ viewer: string; open: boolean }[]> {
  const rows = await sql<{ viewer: string; open: boolean }>`select viewer, ended_at is null as open from live_viewer_sessions where stream_id = ${streamId} order by id`.execute(database.db);
  return rows.rows;
}

test('a viewer on both the WebSocket and the playlists counts once, and leaves when both are gone', async () => {
  const changes: number[] = [];
  const joins: string[] = [];
  const reg = new ViewerRegistry({ pollTimeoutMs: 60_000, flushMs: 10, onChange: (c) => changes.push(c.viewers), onJoin: (_s, v, via) => joins.push(`${v}:${via}`) });
  reg.wsJoined('s', 'a');
  reg.polled('s', 'a');
  reg.polled('s', 'b');
  reg.polled('s', 'b');
  assert.equal(reg.count('s'), 2);
  assert.deepEqual(joins, ['a:ws', 'a:hls', 'b:hls'], 'a known viewer polling again does not join again');
  reg.wsLeft('s', 'a');
  assert.equal(reg.count('s'), 2, 'still polling');
  reg.wsJoined('s', 'c');
  assert.equal(reg.count('s'), 3);
  assert.equal(reg.peak('s'), 3);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(changes.at(-1), 3);
  reg.close();
});

test('a count change after a quiet spell goes out at once; a storm inside the window becomes one event', async () => {
  const changes: number[] = [];
  // A window far longer than any scheduling delay: the first event cannot be its trailing edge.
  const reg = new ViewerRegistry({ pollTimeoutMs: 60_000, flushMs: 1500, onChange: (c) => changes.push(c.viewers) });
  const until = async (ok: () => boolean) => {
    for (let i = 0; i < 600 && !ok(); i++) await new Promise((r) => setTimeout(r, 25));
  };
  const t0 = performance.now();
  reg.wsJoined('s', 'first');
  await until(() => changes.length === 1);
  assert.deepEqual(changes, [1]);
  assert.ok(performance.now() - t0 < 1500, 'published on the leading edge, not after the window');
  for (let i = 0; i < 100; i++) reg.wsJoined('s', `v${i}`);
  await until(() => changes.length === 2);
  assert.deepEqual(changes, [1, 101], 'the storm coalesced into one event carrying the latest count');
  reg.close();
});

test('a thousand joins are written by one flush; leaves close them, even within the same batch', async () => {
  const dropped: string[] = [];
  const log = new ViewerSessionLog(store, { flushMs: 60_000, maxPending: 10_000, chunkRows: 400, onDropped: (k) => dropped.push(k), onFailed: (err) => assert.fail(err) });
  const t0 = Date.now();
  for (let i = 0; i < 1000; i++) log.opened(streamId, `v${i}`, 'hls', new Date(t0));
  assert.equal((await sessions()).length, 0, 'nothing is written on the join itself');
  assert.equal(log.pending, 1000);
  await log.flush();
  assert.equal(log.pending, 0);
  const written = await sessions();
  assert.equal(written.length, 1000);
  assert.ok(written.every((s) => s.open));

  // v0 leaves and comes back; a brand-new viewer joins and leaves before any flush.
  log.closed(streamId, 'v0', 'hls', new Date(t0 + 10));
  log.opened(streamId, 'v0', 'hls', new Date(t0 + 20));
  log.opened(streamId, 'brief', 'ws', new Date(t0 + 30));
  log.closed(streamId, 'brief', 'ws', new Date(t0 + 40));
  await log.close();
  const after = await sessions();
  assert.deepEqual(after.filter((s) => s.viewer === 'v0').map((s) => s.open), [false, true], 'the rejoin is a new open session');
  assert.deepEqual(after.filter((s) => s.viewer === 'brief').map((s) => s.open), [false], 'a leave in the same batch as its join closes it');
  assert.equal(after.filter((s) => s.open).length, 1000);
  assert.deepEqual(dropped, []);
});

test('a full queue drops and counts instead of growing', async () => {
  const dropped: string[] = [];
  const log = new ViewerSessionLog(store, { flushMs: 60_000, maxPending: 3, chunkRows: 100, onDropped: (k) => dropped.push(k), onFailed: (err) => assert.fail(err) });
  for (let i = 0; i < 5; i++) log.opened(streamId, `q${i}`, 'hls');
  log.closed(streamId, 'q0', 'hls');
  assert.equal(log.pending, 3);
  assert.deepEqual(dropped, ['open', 'open', 'close']);
  await log.close();
  assert.equal((await sessions()).filter((s) => s.viewer.startsWith('q')).length, 3);
});

test('a flush is armed by the first join or leave that waits, and none while nothing waits', async () => {
  const log = new ViewerSessionLog(store, { flushMs: 50, maxPending: 100, chunkRows: 100, onDropped: (k) => assert.fail(`dropped ${k}`), onFailed: (err) => assert.fail(err) });
  assert.equal(log.scheduled, false, 'nobody watching: no timer');
  log.opened(streamId, 'armed', 'hls');
  assert.equal(log.scheduled, true, 'a join arms the flush');
  await waitUntil('the join to be written by the armed flush', async () => (await sessions()).some((s) => s.viewer === 'armed' && s.open), 10_000, 20);
  await log.flush(); // the statements in flight, if any
  assert.equal(log.scheduled, false, 'written: nothing left to wake for');
  log.closed(streamId, 'armed', 'hls');
  assert.equal(log.scheduled, true, 'a leave arms the flush');
  await waitUntil('the leave to be written by the armed flush', async () => (await sessions()).some((s) => s.viewer === 'armed' && !s.open), 10_000, 20);
  await log.flush();
  assert.equal(log.scheduled, false);
  await log.close();
});
