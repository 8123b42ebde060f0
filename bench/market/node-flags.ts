/**
 * @module bench/market/node-flags
 * `--node-flags "<flags>"`: the market benchmark measures the gateway + hub in its own process, so
 * a node start-up flag for "the server" (`--no-memory-reducer`, `--trace-gc-nvp`, a semi-space
 * size) is a flag of the bench's own node. Some only work at start-up (V8 reads
 * `--memory-reducer` when the heap is set up; `v8.setFlagsFromString` later does nothing, market6's
 * probe), so the bench starts itself again under node with them, once, and the report records the
 * flags the measured process ran with (`process.execArgv`).
 *
 * @example
 * npx tsx bench/run.ts market --parts ladder --node-flags "--no-memory-reducer --trace-gc-nvp"
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The flags of `wanted` (split on spaces) that this node was not started with. */
export function missingNodeFlags(wanted: string, execArgv: readonly string[]): string[] {
  return wanted.split(' ').filter((flag) => flag !== '' && !execArgv.includes(flag));
}

/**
 * The node arguments that run the market bench again with `flags` added: the flags, tsx's loader
 * (unless node already has it), bench/run.ts, then `market` and the bench's own arguments.
 */
export function rerunArgs(flags: readonly string[], execArgv: readonly string[], benchArgs: readonly string[]): string[] {
  const loader = execArgv.some((a) => a.includes('tsx')) ? [] : ['--import', 'tsx'];
  const runTs = fileURLToPath(new URL('../run.ts', import.meta.url));
  return [...execArgv, ...flags, ...loader, runTs, 'market', ...benchArgs];
}

/** This node's own flags, without the module loaders (tsx's `--import` / `--require` and their files). */
export function ownNodeFlags(execArgv: readonly string[] = process.execArgv): string[] {
  const out: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const a = execArgv[i];
    if (a === '--import' || a === '--require' || a === '--loader') i++;
    else if (!/^--(import|require|loader)=/.test(a)) out.push(a);
  }
  return out;
}

/**
 * When `wanted` holds a flag this process lacks: runs the bench again under node with the flags
 * (its output on this terminal) and exits with its status. Otherwise returns at once.
 */
export function ensureNodeFlags(wanted: string, benchArgs: readonly string[]): void {
  const missing = missingNodeFlags(wanted, process.execArgv);
  if (missing.length === 0) return;
  console.log(`# --node-flags: starting the bench again under node ${missing.join(' ')}`);
  const run = spawnSync(process.execPath, rerunArgs(missing, process.execArgv, benchArgs), { stdio: 'inherit' });
  process.exit(run.status ?? 1);
}
