/**
 * Browser-test plumbing shared by the studio UI test and benchmark: build the UI when it is
 * missing, and the shared Chromium launch (test/helpers/chromium).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { launchChromium } from '../helpers/chromium.js';

export { launchChromium };

export const repoRoot = join(import.meta.dirname, '../..');

/** Builds the web UIs with Vite unless dist/web/studio is already there. */
export function ensureStudioBuilt(): void {
  if (existsSync(join(repoRoot, 'dist/web/studio/index.html'))) return;
  execFileSync('npx', ['vite', 'build', '--logLevel', 'warn'], { cwd: repoRoot, stdio: 'inherit' });
}
