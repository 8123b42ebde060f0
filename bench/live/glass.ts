/**
 * @module bench/live/glass
 * Glass-to-glass latency read back from the frames a browser displays. ffmpeg stamps every frame
 * with the wall clock at capture: `setpts` sets the frame's time to RTCTIME (ms), `geq` draws
 * its low 24 bits as a strip of 24 black/white blocks (16×24 px each) in the top-left corner, and
 * the time is then reset for encoding. Chromium plays the stream (hls.js with web/live/player-config's
 * settings for LL-HLS and plain HLS, dash.js DASH with its defaults); for every frame presented (`requestVideoFrameCallback`) the page draws the video into
 * a canvas, reads the blocks back and records presentation time − capture time. Same machine,
 * same clock: no synchronisation error, and what is measured is what a viewer sees.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import type { Browser } from 'playwright-core';
import { LOW_LATENCY_HLS, PLAIN_HLS } from '../../web/live/player-config.js';
import { dist, type Dist } from './delivery.js';

const require = createRequire(import.meta.url);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const CODE_BITS = 24;
export const BLOCK = 16;

/** The filter that burns the capture clock (ms, low 24 bits) into the picture. */
export const CLOCK_FILTER = [
  'format=yuv420p,settb=1/1000,setpts=RTCTIME/1000,split[main][strip]',
  `[strip]crop=${CODE_BITS * BLOCK}:${BLOCK + 8}:0:0,geq=lum='if(mod(floor(mod(floor(T*1000),16777216)/pow(2,floor(X/${BLOCK}))),2),235,16)':cb=128:cr=128[code]`,
  '[main][code]overlay=0:0,setpts=PTS-STARTPTS',
].join(';');

/** Publishes a 640x360 30 fps test pattern stamped with the capture clock (x264 zerolatency, 1 s GOP). */
export function publishWithClock(rtmpUrl: string): ChildProcess {
  return spawn(
    'ffmpeg',
    ['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-filter_complex', `[0:v]${CLOCK_FILTER}[v]`, '-map', '[v]', '-map', '1:a', '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-g', '30', '-b:v', '1500k', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-f', 'flv', rtmpUrl],
    { stdio: 'ignore' },
  );
}

export type Player = 'llhls' | 'hls' | 'dash';

export interface GlassResult {
  player: Player;
  latency: Dist;
  /** Frames whose code did not decode to a plausible time (counted, not used). */
  unreadable: number;
  /** Seconds from page load to the first presented frame. */
  startupS: number;
}

/** In the page: plays `url` with the player, then records presentation − capture per frame. */
function pageScript([player, url, bits, block, hlsConfig]: [Player, string, number, number, Record<string, unknown>]): void {
  interface Players {
    Hls: new (config: Record<string, unknown>) => { loadSource(url: string): void; attachMedia(v: HTMLVideoElement): void };
    dashjs: { MediaPlayer(): { create(): { initialize(v: HTMLVideoElement, url: string, autoplay: boolean): void } } };
  }
  type FrameVideo = HTMLVideoElement & { requestVideoFrameCallback(cb: (now: number, meta: { expectedDisplayTime: number }) => void): number };
  const w = window as unknown as Players & { __glass: { samples: number[]; unreadable: number; firstAt: number | null; recording: boolean } };
  const video = document.createElement('video') as FrameVideo;
  video.muted = true;
  video.autoplay = true;
  video.playsInline = true;
  document.body.append(video);
  const state = (w.__glass = { samples: [] as number[], unreadable: 0, firstAt: null as number | null, recording: false });
  if (player === 'dash') {
    const p = w.dashjs.MediaPlayer().create();
    p.initialize(video, url, true);
  } else {
    // LL-HLS as the viewer page plays it, plain HLS as we recommend (web/live/player-config).
    const hls = new w.Hls(hlsConfig);
    hls.loadSource(url);
    hls.attachMedia(video);
  }
  const canvas = document.createElement('canvas');
  canvas.width = bits * block;
  canvas.height = block;
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  const onFrame = (_now: number, meta: { expectedDisplayTime: number }) => {
    state.firstAt ??= performance.now();
    if (state.recording) {
      ctx.drawImage(video, 0, 0, bits * block, block, 0, 0, bits * block, block);
      const px = ctx.getImageData(0, 0, bits * block, block).data;
      let code = 0;
      for (let k = 0; k < bits; k++) if (px[((block >> 1) * bits * block + k * block + (block >> 1)) * 4]! > 128) code += 2 ** k;
      const shown = performance.timeOrigin + meta.expectedDisplayTime;
      const modulus = 2 ** bits;
      const latency = (((Math.floor(shown) % modulus) - code) % modulus + modulus) % modulus;
      if (latency < 60_000) state.samples.push(latency);
      else state.unreadable++;
    }
    video.requestVideoFrameCallback(onFrame);
  };
  video.requestVideoFrameCallback(onFrame);
}

/**
 * Opens a page on `origin` (same origin as the media: no CORS needed), plays `url` with `player`,
 * waits `settleS` after the first frame, then records `seconds` of frames.
 */
export async function measureGlass(browser: Browser, origin: string, url: string, player: Player, seconds: number, settleS = 4): Promise<GlassResult> {
  const page = await browser.newPage();
  try {
    // An empty page on the media's origin (served by the browser itself: no CORS, no app CSP).
    await page.route(`${origin}/__glass`, (route) => route.fulfill({ contentType: 'text/html', body: '<!doctype html><html><body style="margin:0"></body></html>' }));
    // tsx compiles this file keeping function names (`__name(fn, "name")`): give the page that helper.
    await page.addInitScript('window.__name = (fn) => fn');
    await page.goto(`${origin}/__glass`);
    await page.addScriptTag({ path: player === 'dash' ? require.resolve('dashjs/dist/dash.all.min.js') : require.resolve('hls.js/dist/hls.min.js') });
    const t0 = Date.now();
    await page.evaluate(pageScript, [player, url, CODE_BITS, BLOCK, { ...(player === 'llhls' ? LOW_LATENCY_HLS : PLAIN_HLS) }] as [Player, string, number, number, Record<string, unknown>]);
    await page.waitForFunction(() => (window as unknown as { __glass: { firstAt: number | null } }).__glass.firstAt !== null, undefined, { timeout: 60_000, polling: 100 });
    const startupS = (Date.now() - t0) / 1000;
    await sleep(settleS * 1000);
    await page.evaluate(() => void ((window as unknown as { __glass: { recording: boolean } }).__glass.recording = true));
    await sleep(seconds * 1000);
    const { samples, unreadable } = await page.evaluate(() => (window as unknown as { __glass: { samples: number[]; unreadable: number } }).__glass);
    return { player, latency: dist(samples), unreadable, startupS };
  } finally {
    await page.close();
  }
}
