/**
 * @module test/repo/import-cycles
 * Zero import loops in src/ and web/: every relative import (type-only ones included, and
 * `export … from`) is followed, and a depth-first search finds no module that reaches itself.
 * Loops hide layering mistakes the per-folder lint rules cannot see (two modules of one layer
 * needing each other), and make module initialisation order fragile.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = process.cwd();
const IMPORT = /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s+['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)|^import\s+['"](\.{1,2}\/[^'"]+)['"]/gm;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = join(dir, d.name);
    if (d.isDirectory()) return sources(p);
    return /\.tsx?$/.test(d.name) && !d.name.endsWith('.d.ts') ? [p] : [];
  });
}

/** The file an ESM specifier ending in .js names (its .ts or .tsx source). */
function target(from: string, spec: string): string | undefined {
  const base = resolve(dirname(from), spec);
  for (const candidate of [base.replace(/\.js$/, '.ts'), base.replace(/\.js$/, '.tsx'), base]) if (existsSync(candidate) && /\.tsx?$/.test(candidate)) return candidate;
  return undefined;
}

export function importGraph(roots: string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of roots.flatMap((r) => sources(join(ROOT, r)))) {
    const deps: string[] = [];
    for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const t = target(file, m[1] ?? m[2] ?? m[3]);
      if (t) deps.push(t);
    }
    graph.set(file, deps);
  }
  return graph;
}

export function cycles(graph: Map<string, string[]>): string[][] {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (node: string): void => {
    state.set(node, 'open');
    stack.push(node);
    for (const dep of graph.get(node) ?? []) {
      if (state.get(dep) === 'open') found.push([...stack.slice(stack.indexOf(dep)), dep].map((p) => relative(ROOT, p)));
      else if (!state.has(dep)) visit(dep);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return found;
}

test('the search sees imports: src/hub/hub.ts reaches src/protocol and a known two-module loop is found', () => {
  const graph = importGraph(['src']);
  const hub = graph.get(join(ROOT, 'src/hub/hub.ts')) ?? [];
  assert.ok(hub.includes(join(ROOT, 'src/hub/channels.ts')), 'hub.ts imports channels.ts');
  assert.ok(graph.size > 100, `read the whole tree (${graph.size} modules)`);
  const a = join(ROOT, 'a.ts');
  const b = join(ROOT, 'b.ts');
  assert.deepEqual(cycles(new Map([[a, [b]], [b, [a]]])), [['a.ts', 'b.ts', 'a.ts']]);
});

test('no import loops in src/ and web/', () => {
  const found = cycles(importGraph(['src', 'web']));
  assert.deepEqual(found, [], `import loops:\n${found.map((c) => c.join(' -> ')).join('\n')}`);
});
