/**
 * @module test/helpers/chromium
 * The system Chromium through playwright-core, as every browser test and benchmark starts it:
 * headless, no sandbox (root in CI), no GPU, no background traffic (loopback only).
 * `CHROMIUM_PATH` overrides /usr/bin/chromium.
 */
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] as const;

/** Lets a muted or unmuted <video>/<audio> play without a click (players under test start by themselves). */
export const AUTOPLAY = '--autoplay-policy=no-user-gesture-required';

/** Launches Chromium with the common flags plus `extraArgs` (e.g. {@link AUTOPLAY}). */
export function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: [...CHROMIUM_ARGS, ...extraArgs] });
}
