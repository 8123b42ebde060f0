/**
 * Browser-test plumbing shared by the studio UI test and benchmark: build the UI when it is
 * missing, launch the system Chromium through playwright-core.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

export const repoRoot = join(import.meta.dirname, '../..');

/** Builds the web UIs with Vite unless dist/web/studio is already there. */
export function ensureStudioBuilt(): void {
  if (existsSync(join(repoRoot, 'dist/web/studio/index.html'))) return;
  execFileSync('npx', ['vite', 'build', '--logLevel', 'warn'], { cwd: repoRoot, stdio: 'inherit' });
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}
