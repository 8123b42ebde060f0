/**
 * @module bench/market/cpu-split
 * Where the gateway's thread spends its time, by pipeline stage, from a CPU profile of the
 * market bench (`--cpu-profile x.cpuprofile` writes one per ladder): `npx tsx
 * bench/market/cpu-split.ts x.ladder.cpuprofile`. It says which stage per-venue parse workers
 * (docs/market.md) would take off the main thread, and what would stay.
 *
 * Each sample goes to the innermost frame of its stack that belongs to a stage, so a runtime
 * call (Buffer.byteLength, a socket write) counts for the stage that made it: parsing inside the
 * ws receive path counts as parse, the receiver's own framing as receive.
 */
import { readFileSync } from 'node:fs';

interface CpuNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}
interface CpuProfile {
  nodes: CpuNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Stages in the order a venue message meets them; the first rule that matches a frame wins. */
const STAGES: [stage: string, match: (url: string, fn: string) => boolean][] = [
  ['parse (scanners, JSON)', (u) => /apps\/market\/venues\/(.*\/)?(parse[^/]*|json-cursor)\.ts/.test(u)],
  ['books and sync (per venue)', (u) => /apps\/market\/(book\.ts|venues\/)/.test(u)],
  ['dispatch, orchestrator (shared)', (u) => /apps\/market\/(pipeline|pool)/.test(u)],
  ['hub publish and encode', (u) => /src\/hub\/(hub|publish-pipeline|frame-encoding|engines\/)/.test(u)],
  ['fan-out: per-subscriber queue and socket writes', (u) => /src\/hub\/(channels|client-session|flush)\.ts/.test(u)],
  ['receive (ws framing, socket reads)', (u) => /node_modules\/ws\//.test(u)],
  ['bench rig (IPC, histograms)', (u) => /\/bench\//.test(u)],
  ['metrics (scrape)', (u) => /prom-client|core\/metrics/.test(u)],
  ['garbage collector', (_u, f) => f === '(garbage collector)'],
  ['idle', (_u, f) => f === '(idle)'],
];

export function cpuSplit(profile: CpuProfile): { stage: string; ms: number; share: number }[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const stageOf = new Map<number, string>();
  const classify = (id: number): string => {
    const known = stageOf.get(id);
    if (known) return known;
    let stage = 'other (node internals, program)';
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const f = byId.get(at)!.callFrame;
      const hit = STAGES.find(([, match]) => match(f.url, f.functionName));
      if (hit) {
        stage = hit[0];
        break;
      }
    }
    stageOf.set(id, stage);
    return stage;
  };
  const us = new Map<string, number>();
  profile.samples.forEach((id, i) => us.set(classify(id), (us.get(classify(id)) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const busy = [...us].filter(([s]) => s !== 'idle').reduce((a, [, v]) => a + v, 0);
  return [...us].sort((a, b) => b[1] - a[1]).map(([stage, t]) => ({ stage, ms: Math.round(t / 1000), share: stage === 'idle' ? Number.NaN : t / busy }));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = cpuSplit(JSON.parse(readFileSync(process.argv[2], 'utf8')) as CpuProfile);
  console.log('| stage | ms | share of busy time |\n|---|---|---|');
  for (const r of rows) console.log(`| ${r.stage} | ${r.ms} | ${Number.isNaN(r.share) ? '–' : `${(100 * r.share).toFixed(1)} %`} |`);
}
