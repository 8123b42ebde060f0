/**
 * Test harness for the live app: a real server with the live app on random ports (HTTP and
 * RTMP, in-memory PGlite), helpers for its API, and ffmpeg publishing a test pattern.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { AUTOPLAY, launchChromium as launchSystemChromium } from '../helpers/chromium.js';
import { TEST_API_KEY, startServer, sleep } from '../helpers/server.js';
import { createLiveApp, type LiveHandle } from '../../src/apps/live/index.js';
import type { LiveSettings } from '../../src/apps/live/service.js';
import type { AirwavesConfig } from '../../src/config.js';

export const API_KEY = TEST_API_KEY;

/** `apiSegment` mounts the app elsewhere than /api/v1/streams (the app must follow its mount). */
export async function startLive(settings: Partial<LiveSettings> = {}, config: Partial<AirwavesConfig> = {}, apiSegment?: string) {
  let handle: LiveHandle | null = null;
  const app = createLiveApp({ settings, onReady: (h) => void (handle = h) });
  const server = await startServer(
    // No limit on the app's start: on a loaded machine PGlite's initdb alone took over the 120 s default.
    { databaseUrl: 'pglite://memory', liveRtmpPort: 0, liveSampleIntervalMs: 500, appStartTimeoutMs: 0, ...config },
    { apps: [apiSegment ? { ...app, apiSegment } : app] },
  );
  if (!handle) throw new Error('live app did not start');
  const h = handle as LiveHandle;
  const api = async <T = Record<string, unknown>>(method: string, path: string, body?: unknown, token = API_KEY): Promise<{ status: number; body: T }> => {
    const res = await fetch(server.url + path, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
  };
  return { server, service: h.service, rtmpPort: h.rtmpPort, api, rtmpUrl: (key: string) => `rtmp://127.0.0.1:${h.rtmpPort}/live/${key}` };
}

export type LiveTestServer = Awaited<ReturnType<typeof startLive>>;

/** ffmpeg publishing testsrc2 + a sine at real time, H.264 (1 s GOP) + AAC, for `seconds`. */
export function publish(url: string, seconds: number, extra: { size?: string } = {}): ChildProcess & { exited: Promise<number | null>; stderr: NonNullable<ChildProcess['stderr']> } {
  const args = ['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', `testsrc2=size=${extra.size ?? '640x360'}:rate=30`, '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', String(seconds), '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-g', '30', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '64k', '-f', 'flv', url];
  const child = spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] }) as ChildProcess & { exited: Promise<number | null>; stderr: NonNullable<ChildProcess['stderr']> };
  child.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  return child;
}

/** Polls `check` until it returns a value (not undefined/false) or `timeoutMs` passes. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 15_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

export async function run(cmd: string, args: string[], input?: Buffer): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  if (input) child.stdin.end(input);
  else child.stdin.end();
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, stdout, stderr };
}

/** Headless Chromium as the live browser tests run it (autoplay allowed, nothing from the network). */
export function launchChromium(): Promise<Browser> {
  return launchSystemChromium([AUTOPLAY]);
}

/** The body of a GET of `url`, asserting a 200 (a media part the test is about to decode). */
export async function bytes(url: string): Promise<Buffer> {
  const res = await fetch(url);
  assert.equal(res.status, 200, url);
  return Buffer.from(await res.arrayBuffer());
}

/** Writes `parts` (an init segment and a media segment) to `dir`/`name` and decodes its video with ffprobe: size and frames read. */
export async function probe(dir: string, name: string, ...parts: Buffer[]): Promise<{ width: number; height: number; frames: number }> {
  const file = join(dir, name);
  writeFileSync(file, Buffer.concat(parts));
  const r = await run('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-count_frames', '-show_entries', 'stream=width,height,nb_read_frames', '-of', 'json', file]);
  assert.equal(r.code, 0, r.stderr);
  const s = (JSON.parse(r.stdout) as { streams: { width: number; height: number; nb_read_frames: string }[] }).streams[0]!;
  return { width: s.width, height: s.height, frames: Number(s.nb_read_frames) };
}
