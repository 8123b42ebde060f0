/**
 * A client's member list after its own reconnect (src/client/presence-sync.ts), on two nodes on
 * a real redis-server and on one node alone: client A's socket is cut and kept out while, on
 * the channel, B joins and leaves, C joins and D (whom A knew) leaves. Once A is back, the list A
 * built from its join/leave events alone equals `presence` (asked of either node): D and the old
 * connections of A and of its neighbour A2 told as `leave` and C and A's new connection as `join`, all marked `resync`,
 * nothing about B, then one `presenceSync` with the full set. A second client cut the same way
 * without presence interest shows the loss the re-read repairs: it never hears of C.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { AirwavesClient, type PresenceEntry, type PresenceSyncEvent, type Subscription } from '../../src/client/index.js';
import type { AirwavesConfig } from '../../src/config.js';
import { startServer } from '../helpers/server.js';
import { freePort } from '../helpers/redis.js';
import { twoNodesOnRedis, type Reachable } from './two-nodes.js';
import { until } from './watchers.js';

const NAMESPACES = [{ name: 'room', subscribe: 'anonymous', publish: 'anonymous', presence: true, historySize: 10 }] as unknown as AirwavesConfig['namespaces'];
const WAIT_MS = 30_000;

/** A `ws` WebSocket class whose sockets the test can cut, and keep out (dialling a closed port) until let back. */
async function cuttableWebSocket() {
  const away = `ws://127.0.0.1:${await freePort()}/ws`; // nothing listens there: a dial fails at once
  const sockets = new Set<WebSocket>();
  let open = true;
  class Cuttable extends WebSocket {
    constructor(url: string) {
      super(open ? url : away);
      sockets.add(this);
    }
  }
  return {
    Ctor: Cuttable,
    cut() {
      open = false;
      for (const s of sockets) s.terminate();
      sockets.clear();
    },
    letBack() {
      open = true;
    },
  };
}

/** A client's member list, built only from the join/leave events its subscription hears. */
interface Member {
  client: AirwavesClient;
  sub: Subscription;
  view: Map<string, PresenceEntry>;
  events: { event: 'join' | 'leave'; client: string; resync: boolean }[];
  syncs: PresenceSyncEvent[];
}

async function member(url: string, Ctor: new (url: string) => WebSocket, channel: string, presence: boolean): Promise<Member> {
  const client = new AirwavesClient({ url, WebSocket: Ctor as never, reconnect: { initialDelayMs: 50, maxDelayMs: 300 } });
  await client.connect();
  const m: Member = { client, sub: undefined as never, view: new Map(), events: [], syncs: [] };
  m.sub = client.subscribe(
    channel,
    {
      join: (e) => {
        m.view.set(e.info.client, e.info);
        m.events.push({ event: 'join', client: e.info.client, resync: e.resync === true });
      },
      leave: (e) => {
        m.view.delete(e.info.client);
        m.events.push({ event: 'leave', client: e.info.client, resync: e.resync === true });
      },
      presenceSync: (e) => m.syncs.push(e),
    },
    { presence },
  );
  await m.sub.ready;
  return m;
}

const idOf = (c: AirwavesClient) => c.connection!.client;
const sorted = (ids: Iterable<string>) => [...ids].sort();

/**
 * The scenario: A (and the uninterested A2) on `home`; D, B and C on `other` (D before the cut);
 * `listed(channel)` reads presence on each node.
 */
async function scenario(home: Reachable, other: Reachable, channel: string, listedOnNodes: () => Promise<string[][]>, opened: AirwavesClient[]): Promise<void> {
  const plain = (node: Reachable) => {
    const c = new AirwavesClient({ url: node.wsUrl, WebSocket: WebSocket as never });
    opened.push(c);
    return c;
  };
  const d = plain(other);
  await d.connect();
  await d.subscribe(channel).ready;

  const net = await cuttableWebSocket();
  const a = await member(home.wsUrl, net.Ctor, channel, true);
  const a2 = await member(home.wsUrl, net.Ctor, channel, false);
  opened.push(a.client, a2.client);
  const aOld = idOf(a.client);
  await until(() => a.syncs.length >= 1, "A's first presence read", WAIT_MS);
  assert.ok(a.view.has(idOf(d)) && a.view.has(aOld), `the first read tells A of D and of itself: ${JSON.stringify(a.syncs[0])}`);
  await until(() => a.view.has(idOf(a2.client)), "A hearing of A2", WAIT_MS);
  const a2Old = idOf(a2.client);
  const before = a.events.length;
  const a2Before = a2.events.length;
  net.cut();
  await until(() => a.client.state !== 'connected' && a2.client.state !== 'connected', 'A and A2 cut off', WAIT_MS);

  // While A is away: B joins and leaves, C joins, D leaves.
  const b = plain(other);
  await b.connect();
  await b.subscribe(channel).ready;
  const bId = idOf(b);
  await b.unsubscribe(channel);
  const c = plain(other);
  await c.connect();
  await c.subscribe(channel).ready;
  const cId = idOf(c);
  await d.unsubscribe(channel);
  let lists: string[][] = [];
  const settled = async () => {
    lists = await listedOnNodes();
    return lists.every((l) => l.includes(cId) && !l.includes(bId) && !l.includes(idOf(d)) && !l.includes(aOld) && !l.includes(a2Old));
  };
  const deadline = Date.now() + WAIT_MS;
  while (!(await settled())) {
    assert.ok(Date.now() < deadline, `presence settles while A is away: ${JSON.stringify(lists)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(a.events.length, before, 'A heard nothing while away');

  net.letBack();
  await until(() => a.syncs.length >= 2 && a.client.state === 'connected', "A's presence re-read after its reconnect", WAIT_MS);
  await until(() => a2.client.state === 'connected' && a2.sub.state === 'subscribed', 'A2 resubscribed', WAIT_MS);
  const aNew = idOf(a.client);
  assert.notEqual(aNew, aOld, 'A is a new connection');

  const answered = (await a.client.presence(channel)).clients.map((e) => e.client);
  assert.deepEqual(sorted(a.view.keys()), sorted(answered), "A's list from events alone equals presence");
  for (const list of await listedOnNodes()) assert.deepEqual(sorted(list), sorted(answered), 'and what every node answers');
  assert.ok(answered.includes(cId) && answered.includes(aNew) && !answered.includes(bId), `presence after the cut: ${JSON.stringify(answered)}`);

  const told = a.events.slice(before);
  const resynced = told.filter((e) => e.resync);
  assert.deepEqual(
    sorted(resynced.filter((e) => e.event === 'leave').map((e) => e.client)),
    sorted([idOf(d), aOld, a2Old]),
    `D and A's and A2's old connections told as leave: ${JSON.stringify(told)}`,
  );
  const joinedResync = resynced.filter((e) => e.event === 'join').map((e) => e.client);
  assert.ok(joinedResync.includes(cId) && joinedResync.includes(aNew), `C and A's new connection told as join: ${JSON.stringify(told)}`);
  assert.ok(!told.some((e) => e.client === bId), 'nothing about B, who came and went while A was away');
  const sync = a.syncs[1];
  const synced = sync.clients.map((e) => e.client);
  assert.ok(synced.includes(cId) && synced.includes(aNew) && ![bId, idOf(d), aOld, a2Old].some((id) => synced.includes(id)), `presenceSync carries the set after the cut: ${JSON.stringify(synced)}`);
  assert.deepEqual(sorted(sync.left.map((e) => e.client)), sorted([idOf(d), aOld, a2Old]), 'and what left');

  // Without presence interest the loss is there: A2 never hears of C.
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(!a2.events.slice(a2Before).some((e) => e.client === cId), 'a subscription without presence interest misses the join sent while it was away');
  assert.equal(a2.syncs.length, 0, 'and reads no presence');
}

describe('client presence after its own reconnect', () => {
  const opened: AirwavesClient[] = [];
  const stops: (() => Promise<void>)[] = [];
  after(async () => {
    for (const c of opened) c.close();
    for (const stop of stops) await stop();
  });

  test('two nodes on real Redis: A on node A, the others on node B', { timeout: 120_000 }, async () => {
    const rig = await twoNodesOnRedis('prs', { namespaces: NAMESPACES });
    stops.push(() => rig.close());
    const listed = async () => Promise.all([rig.a, rig.b].map(async (n) => (await n.hub.presenceOf('room:resync')).map((e) => e.client)));
    await scenario(rig.a, rig.b, 'room:resync', listed, opened);
  });

  test('one node (memory engine)', { timeout: 120_000 }, async () => {
    const node = await startServer({ namespaces: NAMESPACES });
    stops.push(() => node.close());
    const listed = async () => [(await node.hub.presenceOf('room:solo')).map((e) => e.client)];
    await scenario(node, node, 'room:solo', listed, opened);
  });
});
