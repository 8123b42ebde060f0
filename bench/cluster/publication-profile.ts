/**
 * @module bench/cluster/publication-profile
 * `npx tsx bench/cluster/publication-profile.ts DIR [CHANNELS] [SUBS] [SECONDS]`: one Redis node
 * under a publication-heavy load (CHANNELS channels at 10 msg/s, SUBS subscribers each), run with
 * `--cpu-prof` into DIR: where a node's CPU per publication goes (the cost a many-channel load
 * shape pays before its fan-outs; docs/cluster.md "The load shape of the cross-node target").
 */
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { startRedis } from '../../test/helpers/redis.js';
import { NodeProcess } from '../../test/cluster/nodes.js';
import { Child, drainReceivers, type PublisherResult } from '../hub/ipc.js';
import { HOST, sampleProc } from '../hub/servers.js';
import { channelName } from '../hub/wire.js';
import { BENCH_API_KEY } from './rig.js';

const here = dirname(fileURLToPath(import.meta.url));
const [dir, channels = '40', subs = '5', seconds = '15'] = process.argv.slice(2);
const n = Number(channels), s = Number(subs), ms = Number(seconds) * 1000;
const redis = await startRedis();
const node = await NodeProcess.start({
  id: 'profile', redisUrl: redis.url, nodeArgs: dir === '-' ? [] : ['--cpu-prof', '--cpu-prof-dir', dir],
  env: {
    AIRWAVES_APPS: '', AIRWAVES_DATA_DIR: mkdtempSync(join(tmpdir(), 'aw-prof-')), AIRWAVES_API_KEY: BENCH_API_KEY, AIRWAVES_MAX_CONNECTIONS_PER_IP: '1000000',
    AIRWAVES_COMMAND_RATE: '1000000', AIRWAVES_PUBLISH_RATE: '1000000', AIRWAVES_PUBLISH_BYTES_RATE: '1000000000',
    AIRWAVES_NAMESPACES: JSON.stringify([{ name: 'bench', publish: 'anonymous', subscribe: 'anonymous', historySize: 1000, maxMessageBytes: 65536 }]),
  },
});
const receiver = new Child(join(here, '..', 'hub', 'receiver.ts'), 'profile-receiver');
const publisher = new Child(join(here, 'phased-publisher.ts'), 'profile-publisher');
await publisher.call({ type: 'connect', host: HOST, port: node.port }, 60_000);
const indexes = Array.from({ length: n }, (_, i) => i);
await receiver.call({ type: 'connect', kind: 'airwaves', host: HOST, port: node.port, subscriptions: indexes.flatMap((i) => Array.from({ length: s }, () => channelName(i))), concurrency: 20 }, 120_000);
for (const step of [1, 2]) {
  await receiver.call({ type: 'step', step });
  const before = sampleProc(node.pid!);
  const publisherBefore = sampleProc(publisher.pid);
  const r = await publisher.call<PublisherResult>({ type: 'run', step, rate: 10, durationMs: ms, payloadBytes: 200, startAtUs: null, channels: indexes.map((index) => ({ index, phaseUs: Math.round((index * 1e5) / n) })) }, ms * 3 + 30_000);
  const { reports } = await drainReceivers([receiver], r.published, new Map(indexes.map((i) => [channelName(i), s])), { quietMs: 1000, maxMs: 15_000 });
  const cpu = sampleProc(node.pid!).cpuSeconds - before.cpuSeconds;
  const publisherCpu = sampleProc(publisher.pid).cpuSeconds - publisherBefore.cpuSeconds;
  const got = reports[0].received;
  console.log(`step ${step}: ${r.total} publications, ${got} deliveries, node CPU ${(cpu * 1000).toFixed(0)} ms: ${((cpu * 1e6) / r.total).toFixed(0)} µs per publication with its ${s} deliveries; publisher ${((publisherCpu * 1e6) / r.total).toFixed(0)} µs per publication; lost ${reports[0].lost}`);
}
await Promise.all([receiver.stop(), publisher.stop()]);
await node.stop();
await redis.close();
process.exit(0);
