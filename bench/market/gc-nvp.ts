/**
 * @module bench/market/gc-nvp
 * Reads V8's `--trace-gc-nvp` lines (stdin or a file) and tells what the scavenges' pauses are
 * made of: `npx tsx bench/market/gc-nvp.ts run.log [--after-ms 60000]`. A bench log (`node
 * --trace-gc-nvp --import tsx bench/run.ts market …`) is split at each rung's result line: one
 * summary per rung (its settling time and its window), with the rung's rate and scavenger mode.
 *
 * The phases that matter for a tiny-survivor scavenge: `scavenge.roots` (stack, handles, the
 * old-to-new remembered set), `scavenge.parallel` (copying the survivors: the main thread's share
 * of it, plus its wait for the helper threads to finish theirs), `background.scavenge.parallel`
 * (the helpers' own time in that phase) and `time_to_safepoint`. When `scavenge.parallel` is long
 * while `new_space_survived` is a few KB, the pause is a wait for a helper thread the OS has not
 * scheduled, not work. Each rung's mark-compacts are listed with their pause and whether V8's
 * memory reducer started them (`reduce_memory=1`): a timer, not the old generation's limit.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { percentile } from '../shared/percentile.js';

/** One `gc=s` line as name → number (the leading `[pid:isolate] N ms:` becomes `at`). */
export function parseNvp(line: string): Record<string, number> | null {
  const head = /^\[\d+:0x[0-9a-f]+\]\s+(\d+) ms: (.*)$/.exec(line.trim());
  if (!head) return null;
  const fields: Record<string, number> = { at: Number(head[1]) };
  for (const pair of head[2].split(' ')) {
    const eq = pair.indexOf('=');
    if (eq < 0) continue;
    const value = pair.slice(eq + 1);
    fields[pair.slice(0, eq)] = value === 's' ? 0 : value === 'mc' || value === 'mmc' ? 1 : Number.parseFloat(value);
  }
  return line.includes(' gc=s ') ? fields : null;
}

/** A mark-compact's line: when, its pause (ms), whether V8 ran it to reduce memory, and which isolate printed it. */
export interface MarkCompact {
  at: number;
  pause: number;
  /** `reduce_memory=1`: started by V8's memory reducer (its watchdog runs one when none has for ~100 s), not by the old generation's limit. */
  reduceMemory: boolean;
  isolate: string;
}

/** One `gc=mc` / `gc=mmc` line, else null. */
export function parseMarkCompact(line: string): MarkCompact | null {
  const head = /^\[\d+:(0x[0-9a-f]+)\]\s+(\d+) ms: (.*)$/.exec(line.trim());
  if (!head || !/ gc=m?mc /.test(line)) return null;
  const field = (name: string) => new RegExp(`(?:^| )${name}=([^ ]+)`).exec(head[3])?.[1];
  return { at: Number(head[2]), pause: Number.parseFloat(field('pause') ?? 'NaN'), reduceMemory: field('reduce_memory') === '1', isolate: head[1] };
}

export interface ScavengeSummary {
  count: number;
  /** p50 / p99 / max of each phase, ms (bytes for the sizes). */
  phases: Record<string, { p50: number; p99: number; max: number }>;
  /** Scavenges over 2 ms, and how many of those spent most of their pause in the parallel phase. */
  over2ms: number;
  over2msMostlyParallel: number;
  /** Scavenges over 2 ms by the phase that holds most of their excess over the rung's median scavenge ({@link slowPhase}). */
  over2msByPhase: Record<string, number>;
  /** Median bytes survived by the scavenges over 2 ms (against `phases.new_space_survived.p50` for all): more copying, or the same work stretched? */
  over2msSurvivedP50: number;
}

/** The phases a scavenge's pause is split into; what none of them claims is `unclaimed`. */
const TIMED = ['time_to_safepoint', 'scavenge.roots', 'scavenge.parallel', 'scavenge.sweep_array_buffers', 'scavenge.free_remembered_set', 'scavenge.update_refs', 'scavenge.weak', 'heap.external_weak_global_handles'];

/** A scavenge's pause less every phase {@link TIMED} lists: the time no phase claims (ms). */
export function unclaimedMs(f: Record<string, number>): number {
  return f.pause - TIMED.reduce((sum, name) => sum + (f[name] ?? 0), 0);
}

/**
 * Which phase made a slow scavenge slow: the one furthest above its median in the rung
 * (`median`: phase → ms), with `unclaimed` (the pause less every listed phase) as one more. Work
 * grows where the work is (copying survivors shows in `scavenge.parallel` with `new_space_survived`,
 * a large remembered set in `scavenge.roots`); a thread the OS took the core from grows whichever
 * phase it was in, whatever its work.
 */
export function slowPhase(f: Record<string, number>, median: Record<string, number>): string {
  let best = 'unclaimed', excess = unclaimedMs(f) - (median.unclaimed ?? 0);
  for (const name of TIMED) {
    const over = (f[name] ?? 0) - (median[name] ?? 0);
    if (over > excess) [best, excess] = [name, over];
  }
  return best;
}

const PHASES = ['pause', 'time_to_safepoint', 'scavenge.roots', 'scavenge.parallel', 'background.scavenge.parallel', 'scavenge.sweep_array_buffers', 'scavenge.free_remembered_set', 'heap.external.epilogue', 'new_space_survived', 'promoted'];

export function summarise(lines: string[], afterMs = 0): ScavengeSummary {
  const all = lines.map(parseNvp).filter((f): f is Record<string, number> => f !== null && f.at >= afterMs);
  const phases: ScavengeSummary['phases'] = {};
  for (const name of PHASES) {
    const xs = all.map((f) => f[name] ?? 0).sort((a, b) => a - b);
    phases[name] = { p50: percentile(xs, 50), p99: percentile(xs, 99), max: xs.at(-1) ?? 0 };
  }
  const long = all.filter((f) => f.pause > 2);
  const median: Record<string, number> = { unclaimed: percentile(all.map(unclaimedMs).sort((a, b) => a - b), 50) };
  for (const name of TIMED) median[name] = percentile(all.map((f) => f[name] ?? 0).sort((a, b) => a - b), 50);
  const over2msByPhase: Record<string, number> = {};
  for (const f of long) {
    const phase = slowPhase(f, median);
    over2msByPhase[phase] = (over2msByPhase[phase] ?? 0) + 1;
  }
  return { count: all.length, phases, over2ms: long.length, over2msMostlyParallel: long.filter((f) => f['scavenge.parallel'] > f.pause / 2).length, over2msByPhase, over2msSurvivedP50: percentile(long.map((f) => f.new_space_survived ?? 0).sort((a, b) => a - b), 50) };
}

/**
 * Splits a bench log at its rung result lines: the GC lines before each rung's line are that
 * rung's, from its last `# window start` line (rig.ts prints one as a window opens; logs from
 * before it have none, and then the rung's settling time is counted too). A rung's mark-compacts are those of the measured process's isolate (the one that printed
 * the most GC lines: tsx's loader thread prints its own, which perf_hooks does not see).
 */
export function byRung(lines: string[]): { rung: string; summary: ScavengeSummary; markCompacts: MarkCompact[] }[] {
  const out: { rung: string; summary: ScavengeSummary; markCompacts: MarkCompact[] }[] = [];
  const main = mainIsolate(lines);
  let pending: string[] = [];
  for (const line of lines) {
    if (line.startsWith('{"offeredMsgsPerSec"')) {
      const r = JSON.parse(line) as { offeredMsgsPerSec: number; gcMode?: string; cpuMode?: string; abSweep?: string; gcPauseP99Ms: number; load: number[]; mainThreadWait?: { waitMsPerSec: number } | null };
      const markCompacts = pending.map(parseMarkCompact).filter((m): m is MarkCompact => m !== null && m.isolate === main);
      out.push({ rung: `${r.offeredMsgsPerSec} ${[r.gcMode, r.cpuMode, r.abSweep && `${r.abSweep}-sweep`].filter(Boolean).join(' ')} (perf_hooks p99 ${r.gcPauseP99Ms.toFixed(2)} ms${r.mainThreadWait ? `, main thread waited ${r.mainThreadWait.waitMsPerSec} ms/s` : ''}, load ${r.load.join('/')})`, summary: summarise(pending), markCompacts });
      pending = [];
    } else if (line.startsWith('# window start')) pending = [];
    else pending.push(line);
  }
  return out;
}

/** The isolate address that printed the most GC lines. */
function mainIsolate(lines: string[]): string | null {
  const counts = new Map<string, number>();
  for (const line of lines) {
    const m = /^\[\d+:(0x[0-9a-f]+)\]/.exec(line.trim());
    if (m) counts.set(m[1], (counts.get(m[1]) ?? 0) + 1);
  }
  let best: string | null = null;
  for (const [isolate, n] of counts) if (best === null || n > counts.get(best)!) best = isolate;
  return best;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { 'after-ms': { type: 'string', default: '0' }, 'by-rung': { type: 'boolean', default: false } } });
  const lines = readFileSync(positionals[0] ?? 0, 'utf8').split('\n');
  if (!values['by-rung']) console.log(JSON.stringify(summarise(lines, Number(values['after-ms'])), null, 1));
  else {
    const cell = (p: { p50: number; p99: number; max: number }) => `${p.p50} / ${p.p99} / ${p.max}`;
    const shown = ['pause', 'scavenge.roots', 'scavenge.parallel', 'background.scavenge.parallel', 'scavenge.sweep_array_buffers', 'new_space_survived', 'promoted'];
    const mcs = (m: MarkCompact[]) => (m.length ? m.map((x) => `${x.pause} ms${x.reduceMemory ? ' (memory reducer)' : ''}`).join(', ') : '0');
    const byPhase = (s: ScavengeSummary) => Object.entries(s.over2msByPhase).sort((a, b) => b[1] - a[1]).map(([phase, n]) => `${phase.replace('scavenge.', '')} ${n}`).join(', ');
    console.log(`| rung | scavenges | >2 ms (mostly parallel phase) | >2 ms by the phase of their excess | >2 ms: survived p50 | ${shown.join(' | ')} (p50 / p99 / max) | mark-compacts |`);
    console.log(`|---|---|---|---|---|${shown.map(() => '---').join('|')}|---|`);
    for (const { rung, summary: s, markCompacts } of byRung(lines)) console.log(`| ${rung} | ${s.count} | ${s.over2ms} (${s.over2msMostlyParallel}) | ${byPhase(s) || '–'} | ${s.over2msSurvivedP50} | ${shown.map((n) => cell(s.phases[n])).join(' | ')} | ${mcs(markCompacts)} |`);
  }
}
