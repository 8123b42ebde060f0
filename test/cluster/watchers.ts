/**
 * @module test/cluster/watchers
 * SDK subscribers that record what a channel delivered to them (the `n` of each publication, its
 * offset, and every `recovered` verdict), for the cluster tests' "once, in order, or told"
 * assertions; and a polling wait with a deadline.
 */
import WebSocket from 'ws';
import { AirwavesClient, type Publication } from '../../src/client/index.js';

export interface Watcher {
  client: AirwavesClient;
  got: number[];
  offsets: number[];
  recovered: boolean[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Subscribes an SDK client on `wsUrl` to `channel`; the caller closes `watcher.client`. */
export async function watch(wsUrl: string, channel: string): Promise<Watcher> {
  const client = new AirwavesClient({ url: wsUrl, WebSocket: WebSocket as never, reconnect: { initialDelayMs: 100, maxDelayMs: 400 } });
  await client.connect();
  const w: Watcher = { client, got: [], offsets: [], recovered: [] };
  const sub = client.subscribe(channel, {
    publication: (p: Publication) => {
      w.got.push((p.data as { n: number }).n);
      w.offsets.push(p.offset);
    },
    recovered: (r) => w.recovered.push(r.recovered),
  });
  await sub.ready;
  return w;
}

/** Waits until `cond()` holds, failing with `what` after `timeoutMs`. */
export async function until(cond: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}
