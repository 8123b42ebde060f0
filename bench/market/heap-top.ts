/**
 * @module bench/market/heap-top
 * The allocation sites of a sampled heap profile (`--heap-profile` / `--heap-survivors` of the
 * market bench), heaviest first, each with the few frames that called it:
 * `npx tsx bench/market/heap-top.ts x.bare.heapprofile [--top 25] [--frames 4]`. On a survivors'
 * profile the sizes are what outlived a scavenge: what the old generation fills with.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
export interface ProfileNode {
  callFrame: CallFrame;
  selfSize: number;
  children: ProfileNode[];
}

/** `name file:line` with the path cut to what follows the repository root or node_modules. */
function frameName(f: CallFrame): string {
  const file = f.url.replace(/^.*\/(src|bench|node_modules)\//, '$1/').replace(/^node:/, '');
  return `${f.functionName || '(anonymous)'} ${file ? `${file}:${f.lineNumber + 1}` : ''}`.trim();
}

/** Every node with bytes of its own: its size and its stack, innermost first. */
export function sites(head: ProfileNode): { bytes: number; stack: string[] }[] {
  const out: { bytes: number; stack: string[] }[] = [];
  const walk = (node: ProfileNode, path: string[]) => {
    const stack = [frameName(node.callFrame), ...path];
    if (node.selfSize > 0) out.push({ bytes: node.selfSize, stack });
    for (const c of node.children) walk(c, stack);
  };
  walk(head, []);
  return out.sort((a, b) => b.bytes - a.bytes);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' }, frames: { type: 'string', default: '4' } } });
  const profile = JSON.parse(readFileSync(positionals[0] ?? 0, 'utf8')) as { head: ProfileNode };
  const all = sites(profile.head);
  const total = all.reduce((s, x) => s + x.bytes, 0);
  console.log(`${(total / 1e6).toFixed(2)} MB sampled in ${all.length} sites`);
  for (const s of all.slice(0, Number(values.top))) {
    console.log(`${(s.bytes / 1e3).toFixed(1).padStart(9)} KB ${((100 * s.bytes) / total).toFixed(1).padStart(5)} %  ${s.stack.slice(0, Number(values.frames)).join(' < ')}`);
  }
}
