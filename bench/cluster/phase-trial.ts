/**
 * @module bench/cluster/phase-trial
 * `npx tsx bench/cluster/phase-trial.ts NODES S ROUNDS [MODES]`: one quota'd rig of NODES Redis
 * nodes at s subscribers per channel per node, stepping through the publish phase modes in turn
 * (staggered, aligned, free by default) ROUNDS times, so each mode meets the same machine. It is
 * the evidence behind the rig's `phases` (docs/cluster.md "What a second node lost"): per step
 * the p99, each node's throttling, and the whole machine's CPU.
 */
import { loadavg } from 'node:os';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CPU_CGROUP_ROOT, GROUP_PREFIX, checkCpuController, removeStaleGroups } from './cgroup.js';
import { reaper } from './reaper.js';
import type { PublishPhases } from './rig.js';
import { withRig, type SearchOptions } from './search.js';

const [nodes, s, rounds] = process.argv.slice(2, 5).map(Number);
/** Variants stepped through in turn: a phase mode, or `nodes=W` / `load=W`, the cpu.shares of the node groups / the generators' group. */
const variants = (process.argv[5] ?? 'staggered,aligned,free').split(',');
const modes = variants.filter((v) => !v.includes('=')) as PublishPhases[];
const quota = { cores: 0.25, periodUs: 10_000 };
const opts: SearchOptions = {
  channelsPerNode: 1, channelRate: 10, payloadBytes: 200, p99LimitMs: 50, phases: modes[0] ?? 'staggered',
  durationMs: 3000, stepDurationMs: 3000, warmupMs: 1000, quota, saturation: true, ladder: [s], fixedSubscribers: s,
  halfLoadSteps: 0, rigWarmupMs: 6000, retries: 0, disturbedReruns: 0, freshRigReruns: 0,
};
reaper.install(console.log);
checkCpuController();
removeStaleGroups();
await withRig(`trial${nodes}`, { engine: 'redis', nodes }, opts, async (rig) => {
  await rig.grow(s);
  for (let i = 0; i < 3; i++) await rig.step(2000);
  for (let round = 1; round <= rounds; round++) {
    for (const mode of variants) {
      const [what, weight] = mode.split('=');
      if (weight === undefined) rig.opts.phases = mode as PublishPhases;
      else
        for (const dir of readdirSync(CPU_CGROUP_ROOT).filter((d) => d.startsWith(`${GROUP_PREFIX}${process.pid}-trial${nodes}-`))) {
          if ((what === 'load') === dir.endsWith('-load')) writeFileSync(join(CPU_CGROUP_ROOT, dir, 'cpu.shares'), weight);
        }
      const r = await rig.step(3000);
      console.log(
        `${nodes} nodes s=${s} round ${round} ${mode.padEnd(12)} p50 ${r.latencyMs.p50} p99 ${r.latencyMs.p99} ms (same ${r.sameNodeLatencyMs?.p99 ?? '–'} cross ${r.crossNodeLatencyMs?.p99 ?? '–'})` +
          ` nodes ${r.cpuPercent.nodes.join('+')}% throttled ${r.throttledPercent?.join('/')}% stall ${r.stallMs?.join('/')} ms` +
          ` µs/delivery ${r.cpuUsPerDelivery.nodes} redis ${r.cpuPercent.redis}% gens ${Math.round(r.cpuPercent.receivers.reduce((a, b) => a + b, 0) + r.cpuPercent.publishers.reduce((a, b) => a + b, 0))}%` +
          ` machine ${r.cpuPercent.machine}% other ${r.cpuPercent.other}% lost ${r.lost} load ${loadavg()[0].toFixed(2)} ${r.pass ? 'pass' : 'FAIL'}`,
      );
    }
  }
});
process.exit(0);
