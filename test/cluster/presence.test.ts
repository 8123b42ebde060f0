/**
 * Presence across nodes on a real redis-server: a client joining on node A is in the presence
 * list that node B answers within 200 ms, a client leaving is gone from it, and the clients of a
 * node killed with SIGKILL (a real process, no goodbye) disappear once their expiry passes.
 * Join and leave events cross nodes too: a subscriber on node B is told of a client joining and
 * leaving on node A (once each, not told of its own join), and of a killed node's clients leaving
 * once their expiry passes.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sleep } from '../helpers/server.js';
import type { AirwavesConfig } from '../../src/config.js';
import { NodeProcess } from './nodes.js';
import { twoNodesOnRedis, type Node, type Reachable, type TwoNodes } from './two-nodes.js';

const PRESENCE_NAMESPACES = [{ name: 'room', subscribe: 'anonymous' as const, publish: 'anonymous' as const, presence: true, historySize: 10 }];
const TTL_MS = 1500;

describe('presence across nodes (real Redis)', () => {
  let rig: TwoNodes;
  let a: Node;
  let b: Node;

  before(async () => {
    rig = await twoNodesOnRedis('pr', { namespaces: PRESENCE_NAMESPACES as unknown as AirwavesConfig['namespaces'], presenceTtlMs: TTL_MS });
    ({ a, b } = rig);
  });

  after(() => rig?.close());

  const client = (node: Reachable) => rig.client(node);

  const listed = async (node: Node, channel: string) => (await node.hub.presenceOf(channel)).map((e) => e.client);

  test('a client joining on node A is in node B\'s presence list within 200 ms, and gone after it leaves', async () => {
    const ch = 'room:join';
    const watcher = await client(b);
    await watcher.subscribe(ch).ready;
    const joiner = await client(a);
    const joined = Date.now();
    await joiner.subscribe(ch).ready;
    let seen: string[] = [];
    while (seen.length < 2) {
      seen = (await watcher.presence(ch)).clients.map((e) => e.client);
      if (Date.now() - joined > 200) break;
      await sleep(5);
    }
    const elapsed = Date.now() - joined;
    assert.equal(seen.length, 2, `both clients listed on node B within 200 ms (took ${elapsed} ms)`);
    assert.deepEqual(await listed(a, ch), seen, 'both nodes answer the same list, in join order');
    await joiner.unsubscribe(ch);
    await sleep(100);
    assert.equal((await listed(b, ch)).length, 1, 'the client that left is gone on node B');
  });

  test('a client joining and leaving on node A produces one join and one leave event for a subscriber on node B', async () => {
    const ch = 'room:events';
    const events: { event: string; client: string }[] = [];
    const watcher = await client(b);
    const sub = watcher.subscribe(ch, {
      join: (e) => events.push({ event: 'join', client: e.info.client }),
      leave: (e) => events.push({ event: 'leave', client: e.info.client }),
    });
    await sub.ready;
    const neighbour = await client(b); // a join on B itself: told once, not twice
    await neighbour.subscribe(ch).ready;
    const joiner = await client(a);
    await joiner.subscribe(ch).ready;
    const deadline = Date.now() + 10_000;
    while (events.length < 2 && Date.now() < deadline) await sleep(20);
    const [, neighbourId, joinerId] = await listed(a, ch); // in join order: watcher, neighbour, joiner
    await joiner.unsubscribe(ch);
    while (events.length < 3 && Date.now() < deadline) await sleep(20);
    await sleep(300); // nothing more arrives
    assert.deepEqual(events, [
      { event: 'join', client: neighbourId },
      { event: 'join', client: joinerId },
      { event: 'leave', client: joinerId },
    ]);
  });

  test('the clients of a node killed with SIGKILL are gone from the other nodes\' lists once their expiry passes', async () => {
    const ch = 'room:crash';
    const doomed = await NodeProcess.start({
      id: 'pr-doomed',
      redisUrl: rig.redis.url,
      // The hub alone (no app, so no database to open): quicker to start, and two runs of this file at once do not share one.
      env: { AIRWAVES_APPS: '', AIRWAVES_NAMESPACES: JSON.stringify(PRESENCE_NAMESPACES), AIRWAVES_PRESENCE_TTL_MS: String(TTL_MS) },
    });
    try {
      for (let i = 0; i < 3; i++) await (await client(doomed)).subscribe(ch).ready;
      const survivor = await client(b);
      const left: string[] = [];
      await survivor.subscribe(ch, { leave: (e) => left.push(e.info.client) }).ready;
      await sleep(50);
      assert.equal((await listed(b, ch)).length, 4, 'three clients on the doomed node and one on B');
      await sleep(TTL_MS); // heartbeats keep live clients listed past one expiry
      assert.equal((await listed(b, ch)).length, 4, 'live clients stay listed while their node refreshes them');
      await doomed.kill('SIGKILL');
      const killed = Date.now();
      let count = 4;
      while (count > 1 && Date.now() - killed < TTL_MS * 2 + 1000) {
        await sleep(50);
        count = (await listed(b, ch)).length;
      }
      const gone = Date.now() - killed;
      assert.equal(count, 1, 'only the survivor is left');
      assert.ok(gone <= TTL_MS + 200, `gone within the expiry (${gone} ms after the kill; expiry ${TTL_MS} ms)`);
      // Taken out by a list or another node's heartbeat, each announced once as a leave.
      const leaveDeadline = Date.now() + 10_000;
      while (left.length < 3 && Date.now() < leaveDeadline) await sleep(20);
      await sleep(TTL_MS / 2);
      assert.equal(left.length, 3, `the survivor was told of the three clients leaving (${left.join(', ')})`);
      assert.equal(new Set(left).size, 3, 'each once');
    } finally {
      await doomed.kill('SIGKILL');
    }
  });
});
