/**
 * @module test/live/api
 * The live API's access rules and validation, without media: keys need a streamer token or the
 * admin key, a streamer sees and changes only their own keys and streams, a key is shown once
 * and stored hashed, rotation and revocation take effect at once, every route is in the OpenAPI
 * document, and bad input gets a precise 400/404/409.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mintToken } from '../../src/auth/tokens.js';
import { hashKey } from '../../src/apps/live/store.js';
import { RawClient, TEST_JWT_SECRET } from '../helpers/server.js';
import { startLive, type LiveTestServer } from './harness.js';

let live: LiveTestServer;
let alice: string;
let bob: string;
let viewer: string;

before(async () => {
  live = await startLive();
  alice = await mintToken({ sub: 'alice', roles: ['streamer'] }, TEST_JWT_SECRET);
  bob = await mintToken({ sub: 'bob', roles: ['streamer'] }, TEST_JWT_SECRET);
  viewer = await mintToken({ sub: 'carol', roles: ['viewer'] }, TEST_JWT_SECRET);
});
after(async () => {
  await live.server.close();
});

test('keys: streamer or admin only, shown once, stored hashed, owned', async () => {
  assert.equal((await live.api('POST', '/api/v1/streams/keys', { label: 'x' }, '')).status, 401);
  assert.equal((await live.api('POST', '/api/v1/streams/keys', { label: 'x' }, viewer)).status, 403);
  const created = await live.api<{ id: string; key: string; owner: string; prefix: string; ingestUrl: string }>('POST', '/api/v1/streams/keys', { label: 'main' }, alice);
  assert.equal(created.status, 201);
  assert.equal(created.body.owner, 'alice');
  assert.ok(created.body.key.startsWith(created.body.prefix));
  assert.match(created.body.ingestUrl, /^rtmp:\/\/.+:\d+\/live$/);
  const row = await live.service.store.getKey(created.body.id);
  assert.equal(row!.key_hash, hashKey(created.body.key), 'only the SHA-256 is stored');
  assert.ok(!JSON.stringify(row).includes(created.body.key), 'the key itself is nowhere in the row');

  const listed = await live.api<{ keys: Record<string, unknown>[] }>('GET', '/api/v1/streams/keys', undefined, alice);
  assert.equal(listed.body.keys.length, 1);
  assert.equal(listed.body.keys[0]!.key, undefined, 'a listing never shows the key');
  assert.equal((await live.api<{ keys: unknown[] }>('GET', '/api/v1/streams/keys', undefined, bob)).body.keys.length, 0);
  assert.equal((await live.api('POST', `/api/v1/streams/keys/${created.body.id}/rotate`, undefined, bob)).status, 403);
  assert.equal((await live.api('POST', '/api/v1/streams/keys', { owner: 'bob' }, alice)).status, 403, 'only the admin creates keys for others');

  const rotated = await live.api<{ key: string }>('POST', `/api/v1/streams/keys/${created.body.id}/rotate`, undefined, alice);
  assert.equal(rotated.status, 200);
  assert.notEqual(rotated.body.key, created.body.key);
  assert.equal(await live.service.store.findKey(created.body.key), undefined, 'the old secret stops working');
  assert.ok(await live.service.store.findKey(rotated.body.key));
  assert.equal((await live.api('DELETE', `/api/v1/streams/keys/${created.body.id}`, undefined, alice)).status, 200);
  assert.equal(await live.service.store.findKey(rotated.body.key), undefined, 'a revoked key stops working');
  assert.equal((await live.api('DELETE', `/api/v1/streams/keys/${created.body.id}`, undefined, alice)).status, 409);
});

test('streams: schedule, list, end; owners only; precise errors', async () => {
  const key = await live.api<{ id: string }>('POST', '/api/v1/streams/keys', { label: 'k' }, alice);
  const s = await live.api<{ id: string; status: string; playback: { llhls: string } }>('POST', '/api/v1/streams', { title: 'Morning show', keyId: key.body.id }, alice);
  assert.equal(s.status, 201);
  assert.equal(s.body.status, 'PENDING');
  assert.equal(s.body.playback.llhls, `/api/v1/streams/${s.body.id}/media/index.m3u8`);
  assert.equal((await live.api('POST', '/api/v1/streams', { title: 'Hijack', keyId: key.body.id }, bob)).status, 403);
  const bad = await live.api<{ error: { code: string; message: string } }>('POST', '/api/v1/streams', { title: '', keyId: 'nope' }, alice);
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.code, 'bad_request');
  const all = await live.api<{ streams: { id: string }[] }>('GET', '/api/v1/streams?status=PENDING&owner=alice', undefined, '');
  assert.ok(all.body.streams.some((x) => x.id === s.body.id), 'the public list filters by status and owner');
  assert.equal((await live.api<{ streams: unknown[] }>('GET', '/api/v1/streams', undefined, '')).body.streams.length, 0, 'the default list is ACTIVE streams');
  assert.equal((await live.api('GET', `/api/v1/streams/${s.body.id}/metrics`, undefined, bob)).status, 403);
  assert.equal((await live.api('GET', `/api/v1/streams/${s.body.id}/metrics?from=2030-01-01T00:00:00Z&to=2020-01-01T00:00:00Z`, undefined, alice)).status, 400);
  assert.equal((await live.api('DELETE', `/api/v1/streams/${s.body.id}`, undefined, bob)).status, 403);
  const ended = await live.api<{ status: string }>('DELETE', `/api/v1/streams/${s.body.id}`, undefined, alice);
  assert.equal(ended.body.status, 'COMPLETED');
  assert.equal((await live.api('DELETE', `/api/v1/streams/${s.body.id}`, undefined, alice)).status, 409);
  assert.equal((await live.api('GET', '/api/v1/streams/00000000-0000-4000-8000-000000000000', undefined, '')).status, 404);
  const media = await fetch(`${live.server.url}/api/v1/streams/${s.body.id}/media/index.m3u8`);
  assert.equal(media.status, 404);
  assert.equal(((await media.json()) as { error: { code: string } }).error.code, 'not_live');
});

test('nginx callbacks refuse an unknown key with 403 and every route is in the OpenAPI document', async () => {
  const form = (name: string) => fetch(`${live.server.url}/api/v1/streams/nginx/on_publish`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ call: 'publish', app: 'live', name, addr: '10.9.8.7' }).toString(), redirect: 'manual' });
  assert.equal((await form('live_wrong')).status, 403);
  const key = await live.api<{ key: string }>('POST', '/api/v1/streams/keys', { label: 'nginx' }, alice);
  const ok = await form(key.body.key);
  assert.equal(ok.status, 302);
  const streamId = ok.headers.get('location')!;
  assert.equal((await live.api<{ status: string; ingest: string }>('GET', `/api/v1/streams/${streamId}`, undefined, '')).body.ingest, 'nginx');
  const doc = (await fetch(`${live.server.url}/openapi.json`).then((r) => r.json())) as { paths: Record<string, unknown> };
  for (const path of ['/api/v1/streams', '/api/v1/streams/{id}', '/api/v1/streams/{id}/metrics', '/api/v1/streams/{id}/ws', '/api/v1/streams/keys', '/api/v1/streams/keys/{keyId}/rotate', '/api/v1/streams/{id}/media/{file}', '/api/v1/streams/nginx/on_publish']) {
    assert.ok(doc.paths[path], `${path} is documented`);
  }
});

test("mounted under another segment, the app's playback URLs and event door follow the mount", async () => {
  const moved = await startLive({}, {}, 'video');
  try {
    const key = await moved.api<{ id: string }>('POST', '/api/v1/video/keys', { label: 'moved' });
    assert.equal(key.status, 201);
    const s = await moved.api<{ id: string; playback: { llhls: string; hls: string; dash: string; master: string } }>('POST', '/api/v1/video', { title: 'Elsewhere', keyId: key.body.id });
    assert.equal(s.status, 201);
    assert.deepEqual(Object.values(s.body.playback).map((u) => u.startsWith(`/api/v1/video/${s.body.id}/media/`)), [true, true, true, true]);
    const media = await fetch(moved.server.url + s.body.playback.llhls);
    assert.equal(((await media.json()) as { error: { code: string } }).error.code, 'not_live', 'the media route answers at the advertised URL');
    const door = await RawClient.open(moved.server.wsUrl.replace('/ws', `/api/v1/video/${s.body.id}/ws`));
    const first = await door.waitPush((f) => (f.data as { type?: string } | undefined)?.type === 'viewer_count_changed', 20_000);
    assert.equal((first.data as { viewers: number }).viewers, 1);
    door.ws.close();
    await door.closed;
  } finally {
    await moved.server.close();
  }
});
