import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, RawClient, sleep } from '../helpers/server.js';

type Server = Awaited<ReturnType<typeof startServer>>;

describe('delivery and recovery', () => {
  let server: Server;
  before(async () => {
    server = await startServer({
      publishRatePerSecond: 5000,
      commandRatePerSecond: 10000,
      namespaces: [
        { name: 'chat', publish: 'anonymous', historySize: 1000 },
        { name: 'tiny', publish: 'anonymous', historySize: 5 },
        { name: 'nohist', publish: 'anonymous', historySize: 0 },
      ] as never,
    });
  });
  after(() => server.close());

  test('a subscriber receives every publication in offset order with its data', async () => {
    const sub = await RawClient.open(server.wsUrl);
    const pub = await RawClient.open(server.wsUrl);
    const reply = await sub.request('subscribe', { channel: 'chat:order' });
    assert.equal(reply.ok, true);
    const acks = await Promise.all(Array.from({ length: 500 }, (_, i) => pub.request('publish', { channel: 'chat:order', data: { i } })));
    assert.ok(acks.every((a) => a.ok));
    await sub.waitFor(() => sub.publications('chat:order').length === 500);
    const got = sub.publications('chat:order');
    assert.deepEqual(got.map((f) => f.offset), Array.from({ length: 500 }, (_, i) => i + 1));
    assert.deepEqual(got.map((f) => (f.data as { i: number }).i).sort((a, b) => a - b), Array.from({ length: 500 }, (_, i) => i));
    // Publications that arrived in the same turn share one WebSocket frame.
    assert.ok(sub.textFrames.length < 501, `expected batching, got ${sub.textFrames.length} frames`);
    sub.close();
    pub.close();
  });

  test('a client that reconnects with its last offset receives every missed message in order, then live ones', async () => {
    const pub = await RawClient.open(server.wsUrl);
    let sub = await RawClient.open(server.wsUrl);
    const first = await sub.request('subscribe', { channel: 'chat:recover' });
    const epoch = (first.result as { epoch: string }).epoch;
    for (let i = 0; i < 5; i++) await pub.request('publish', { channel: 'chat:recover', data: i });
    await sub.waitFor(() => sub.publications('chat:recover').length === 5);
    const last = sub.publications('chat:recover').at(-1)!.offset!;
    sub.close();
    await sub.closed;
    for (let i = 5; i < 25; i++) await pub.request('publish', { channel: 'chat:recover', data: i });
    sub = await RawClient.open(server.wsUrl);
    const again = await sub.request('subscribe', { channel: 'chat:recover', since: { offset: last, epoch } });
    assert.deepEqual(again.result, { channel: 'chat:recover', epoch, offset: 25, recovered: true, replayed: 20 });
    await pub.request('publish', { channel: 'chat:recover', data: 25 });
    await sub.waitFor(() => sub.publications('chat:recover').length === 21);
    assert.deepEqual(sub.publications('chat:recover').map((f) => f.data), Array.from({ length: 21 }, (_, i) => i + 5));
    sub.close();
    pub.close();
  });

  test('a gap beyond history answers recovered:false so the client refetches', async () => {
    const pub = await RawClient.open(server.wsUrl);
    const sub = await RawClient.open(server.wsUrl);
    const first = await sub.request('subscribe', { channel: 'tiny:x' });
    const epoch = (first.result as { epoch: string }).epoch;
    await sub.request('unsubscribe', { channel: 'tiny:x' });
    for (let i = 0; i < 20; i++) await pub.request('publish', { channel: 'tiny:x', data: i });
    const again = await sub.request('subscribe', { channel: 'tiny:x', since: { offset: 0, epoch } });
    assert.equal((again.result as { recovered: boolean }).recovered, false);
    sub.close();
    pub.close();
  });

  test('a wrong epoch answers recovered:false and replays nothing', async () => {
    const pub = await RawClient.open(server.wsUrl);
    await pub.request('publish', { channel: 'chat:epoch', data: 1 });
    const sub = await RawClient.open(server.wsUrl);
    const r = await sub.request('subscribe', { channel: 'chat:epoch', since: { offset: 0, epoch: 'not-the-epoch' } });
    assert.equal((r.result as { recovered: boolean }).recovered, false);
    assert.equal((r.result as { replayed: number }).replayed, 0);
    await sleep(30);
    assert.equal(sub.publications('chat:epoch').length, 0);
    sub.close();
    pub.close();
  });

  test('without history, a client already at the top still recovers', async () => {
    const sub = await RawClient.open(server.wsUrl);
    const r = await sub.request('subscribe', { channel: 'nohist:a' });
    const { epoch, offset } = r.result as { epoch: string; offset: number };
    await sub.request('unsubscribe', { channel: 'nohist:a' });
    const again = await sub.request('subscribe', { channel: 'nohist:a', since: { offset, epoch } });
    assert.equal((again.result as { recovered: boolean }).recovered, true);
    sub.close();
  });

  test('history returns the newest publications', async () => {
    const pub = await RawClient.open(server.wsUrl);
    for (let i = 0; i < 8; i++) await pub.request('publish', { channel: 'chat:hist', data: i });
    const r = await pub.request('history', { channel: 'chat:hist', limit: 3 });
    const pubs = (r.result as { publications: { data: number; offset: number }[] }).publications;
    assert.deepEqual(pubs.map((p) => p.data), [5, 6, 7]);
    pub.close();
  });
});
