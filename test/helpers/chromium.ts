/**
 * @module test/helpers/chromium
 * The system Chromium through playwright-core, as every browser test and benchmark starts it:
 * headless, no sandbox (root in CI), no GPU, no background traffic (loopback only).
 * `CHROMIUM_PATH` overrides /usr/bin/chromium.
 */
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] as const;

/** Launches Chromium with the common flags plus `extraArgs` (e.g. `--autoplay-policy=no-user-gesture-required`). */
export function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: [...CHROMIUM_ARGS, ...extraArgs] });
}
