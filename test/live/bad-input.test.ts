/**
 * @module test/live/bad-input
 * Bad input at ingest, each while a real ffmpeg broadcast is running on the same server: a wrong
 * key, no key, a malformed handshake, a corrupt and an empty video payload, a publisher that
 * vanishes mid-chunk. Each gets a log line and a metric, the process never crashes, and the good
 * stream keeps producing segments throughout. Then key guessing from one address is throttled.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { publish, startLive, waitFor, type LiveTestServer } from './harness.js';
import { RawPublisher } from './rtmp-client.js';

let live: LiveTestServer;

before(async () => {
  live = await startLive({ keyFailuresPerMinute: 50 });
});
after(async () => {
  await live.server.close();
});

const metric = async (pattern: RegExp): Promise<number> => {
  const text = await fetch(`${live.server.url}/metrics`).then((r) => r.text());
  const m = pattern.exec(text);
  return m ? Number(m[1]) : 0;
};

async function newKey(): Promise<{ id: string; key: string }> {
  const r = await live.api<{ id: string; key: string }>('POST', '/api/v1/streams/keys', { label: 'k' });
  assert.equal(r.status, 201);
  return r.body;
}

test('bad input at ingest is refused or skipped with a metric while a good stream keeps flowing', { timeout: 180_000 }, async () => {
  const good = await newKey();
  const ffmpeg = publish(live.rtmpUrl(good.key), 14);
  const streamId = await waitFor('the good stream ACTIVE', () => live.service.liveStreamOfKey(good.id) ?? undefined);
  await waitFor('first segment', () => (live.service.broadcastOf(streamId)?.segmenter.segments.length ?? 0) >= 1, 20_000);
  const segmentsNow = () => live.service.broadcastOf(streamId)!.segmenter.segments.at(-1)!.msn;

  // A wrong key: ffmpeg gives up, nothing goes live.
  const wrong = publish(live.rtmpUrl('live_not-a-real-key'), 3);
  assert.notEqual(await wrong.exited, 0);
  assert.equal(await metric(/live_rtmp_rejected_total\{reason="bad_key"\} (\d+)/), 1);

  // No key at all.
  const nokey = await RawPublisher.open(live.rtmpPort);
  assert.equal(await nokey.publish(''), 'NetStream.Publish.BadName');
  await nokey.until(() => nokey.closed);
  assert.equal(await metric(/live_rtmp_rejected_total\{reason="no_key"\} (\d+)/), 1);

  // The same key twice: the second publisher is refused, the first keeps going.
  const twice = await RawPublisher.open(live.rtmpPort);
  assert.equal(await twice.publish(good.key), 'NetStream.Publish.BadName');
  assert.equal(await metric(/live_rtmp_rejected_total\{reason="already_live"\} (\d+)/), 1);

  // A malformed handshake (an HTTP request to the RTMP port). Counted as a rise, not an absolute:
  // on a machine shared with other suites, a stray loopback client of a closed server whose port
  // this listener reused also sends non-RTMP bytes here (a parallel run once counted 94).
  const handshakeErrors = () => metric(/live_rtmp_protocol_errors_total\{kind="handshake"\} (\d+)/);
  const handshakesBefore = await handshakeErrors();
  const junk = connect(live.rtmpPort, '127.0.0.1');
  junk.on('error', () => {});
  junk.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  await new Promise((resolve) => junk.once('close', resolve));
  assert.ok((await handshakeErrors()) >= handshakesBefore + 1, "the malformed handshake is counted");

  // Corrupt and empty video payloads on an accepted stream: skipped and counted, stream stays up.
  const second = await newKey();
  const corrupt = await RawPublisher.open(live.rtmpPort);
  assert.equal(await corrupt.publish(second.key), 'NetStream.Publish.Start');
  corrupt.video(0, Buffer.from([0x17, 0x01, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 1, 2, 3]));
  corrupt.video(40, Buffer.alloc(0));
  await waitFor('bad payload metrics', async () => (await metric(/live_bad_payloads_total\{kind="corrupt"\} (\d+)/)) === 1 && (await metric(/live_bad_payloads_total\{kind="empty"\} (\d+)/)) === 1);
  assert.equal(corrupt.closed, false, 'a bad payload does not end the publish');

  // It then vanishes in the middle of a chunk: the stream FAILS with the reason.
  const secondStream = live.service.liveStreamOfKey(second.id)!;
  const header = Buffer.from([0x06, 0, 0, 80, 0, 0x10, 0, 0x09, 1, 0, 0, 0]); // csid 6, type 0, 4096-byte video message
  corrupt.socket.write(Buffer.concat([header, Buffer.alloc(60, 0x17)]));
  await new Promise((r) => setTimeout(r, 100));
  corrupt.close();
  const failed = await waitFor('FAILED', async () => {
    const s = await live.api<{ status: string; failureReason: string | null }>('GET', `/api/v1/streams/${secondStream}`);
    return s.body.status === 'FAILED' ? s.body : undefined;
  });
  assert.match(failed.failureReason ?? '', /unfinished chunk/);

  // Media before publish is dropped and counted, not accepted.
  const early = await RawPublisher.open(live.rtmpPort);
  await early.handshake();
  early.video(0, Buffer.from([0x17, 0x00, 0, 0, 0]));
  await waitFor('dropped metric', async () => (await metric(/live_rtmp_dropped_messages_total\{kind="media_before_publish"\} (\d+)/)) >= 1);
  early.close();

  // The good stream kept producing segments through all of it.
  const before = segmentsNow();
  await waitFor('two more segments on the good stream', () => segmentsNow() >= before + 2, 10_000);
  assert.equal(await ffmpeg.exited, 0);
  // The listener reads a publisher in batches (up to 40 ms apart): the unpublish lands just after.
  const done = await waitFor('the good stream completed', async () => {
    const r = await live.api<{ status: string }>('GET', `/api/v1/streams/${streamId}`);
    return r.body.status === 'ACTIVE' ? undefined : r.body.status;
  }, 5000);
  assert.equal(done, 'COMPLETED');
});

test('key guessing from one address is throttled, and then even a valid key is refused unchecked', { timeout: 90_000 }, async () => {
  const throttled = await startLive({ keyFailuresPerMinute: 3 });
  try {
    const valid = (await throttled.api<{ key: string }>('POST', '/api/v1/streams/keys', { label: 'v' })).body.key;
    const codes: string[] = [];
    for (let i = 0; i < 5; i++) {
      const c = await RawPublisher.open(throttled.rtmpPort);
      codes.push(await c.publish(`live_guess-${i}`));
      c.close();
    }
    assert.deepEqual(codes, Array(5).fill('NetStream.Publish.BadName'));
    const text = await fetch(`${throttled.server.url}/metrics`).then((r) => r.text());
    assert.match(text, /live_rtmp_rejected_total\{reason="bad_key"\} 3/);
    assert.match(text, /live_rtmp_rejected_total\{reason="throttled"\} 2/);
    const c = await RawPublisher.open(throttled.rtmpPort);
    assert.equal(await c.publish(valid), 'NetStream.Publish.BadName', 'a throttled address cannot publish even with a good key');
    c.close();
  } finally {
    await throttled.server.close();
  }
});
