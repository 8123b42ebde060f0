/**
 * Benchmark entry: `npm run bench -- <name> [options]` runs bench/<name>/index.ts.
 * Each benchmark prints its figures, compares against a peer measured in the same run, and
 * writes JSON and Markdown results to bench/results/.
 */
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(here, d.name, 'index.ts')))
  .map((d) => d.name);
const [name, ...args] = process.argv.slice(2);
if (!name || !available.includes(name)) {
  console.error(`usage: npm run bench -- <${available.join('|')}> [options]`);
  process.exit(2);
}
const mod = (await import(pathToFileURL(join(here, name, 'index.ts')).href)) as { main(args: string[]): Promise<void> };
await mod.main(args);
