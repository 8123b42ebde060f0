/**
 * @module bench/live/abr
 * CPU of the ABR ladder: one copy-mode 1080p30 publisher (the same pre-encoded file as the ingest
 * section, no encoder on the publishing side) to a server whose ladder is each of `ladders` in
 * turn (its own server process per ladder, `AIRWAVES_LIVE_ABR`). The ladder's ffmpeg process's
 * CPU (user + system, all threads, from /proc) over the window is the transcoding cost; the
 * server process's CPU is the remux of the source and the renditions' packaging. Also each
 * rendition's frame rate, so a ladder the machine cannot keep up with shows as such.
 */
import { procCpuSeconds, ServerUnderTest } from './server.js';
import { publishers, stopAll } from './ingest.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface AbrResult {
  ladder: string;
  preset: string;
  ffmpegCpuPercent: number;
  serverCpuPercent: number;
  renditions: { name: string; fps: number; bitrateKbps: number }[];
  droppedFrames: number;
  load: string;
}

export async function abrLadders(file: string, ladders: string[], preset: string, windowS: number, load: () => string): Promise<AbrResult[]> {
  const out: AbrResult[] = [];
  for (const ladder of ladders) {
    const server = await ServerUnderTest.start({ env: { AIRWAVES_LIVE_ABR: ladder, AIRWAVES_LIVE_ABR_PRESET: preset } });
    try {
      const key = await server.createKey();
      const [pub] = publishers(file, [`rtmp://127.0.0.1:${server.rtmpPort}/live/${key}`]);
      const id = await server.waitLive(key, 2);
      await sleep(4000); // the ladder's ffmpeg starts, probes and settles
      const before = await server.abr(id);
      if (!before?.pid) throw new Error(`no ABR transcoder runs for ladder ${ladder}`);
      const f0 = procCpuSeconds(before.pid);
      const s0 = server.cpuSeconds();
      const t0 = performance.now();
      await sleep(windowS * 1000);
      const elapsed = (performance.now() - t0) / 1000;
      const ffmpegCpuPercent = ((procCpuSeconds(before.pid) - f0) / elapsed) * 100;
      const serverCpuPercent = ((server.cpuSeconds() - s0) / elapsed) * 100;
      const after = await server.abr(id);
      await stopAll([pub!]);
      out.push({ ladder, preset, ffmpegCpuPercent, serverCpuPercent, renditions: after?.renditions ?? [], droppedFrames: after?.droppedFrames ?? 0, load: load() });
    } finally {
      await server.close();
    }
  }
  return out;
}
