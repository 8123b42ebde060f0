/**
 * @module bench/live/server-process
 * The server under test, in its own process (forked by bench/live/server.ts from its compiled
 * copy in dist/, with no tsx), as a user runs it:
 * the live app on PGlite in memory, random ports, the scavenger `serve` picks. Load generators live in other processes, so
 * the server's CPU (read from /proc) and its response times are its own.
 *
 * The bench asks it questions over the fork IPC channel (never over HTTP, so the questions do not
 * count as load): create a key, find a key's stream, list the parts in the window with the wall
 * clock each became available, read a broadcast's health, and close.
 */
import { createServer } from '../../src/server.js';
import { createLogger } from '../../src/core/logger.js';
import { createLiveApp, type LiveHandle } from '../../src/apps/live/index.js';
import { Transcoder } from '../../src/apps/live/abr/transcoder.js';
import { applyServerScavenger } from '../../src/core/scavenger.js';
import type { BenchReply, BenchRequest } from './server.js';

const API_KEY = 'bench-admin-api-key-0123456789abcdef-0123';

/** The ABR ladder, when the bench sets one (bench/live/abr); otherwise remux only, the default. */
function abrConfig(): Record<string, string> {
  const ladder = process.env.AIRWAVES_LIVE_ABR;
  return ladder ? { liveAbr: ladder, liveAbrPreset: process.env.AIRWAVES_LIVE_ABR_PRESET ?? 'veryfast' } : {};
}

// The young-generation collector every way of starting the server runs (`serve`, src/core/scavenger.ts):
// without it this process measured V8's parallel scavenger, whose helper threads no user's server runs.
applyServerScavenger();

/** The LL-HLS part target, when the bench run sets the setting's own variable (the fewer-requests-per-viewer lever); 250 ms otherwise. */
function partConfig(): Record<string, number> {
  const ms = process.env.AIRWAVES_LIVE_PART_MS;
  return ms ? { livePartTargetMs: Number(ms) } : {};
}

let handle: LiveHandle | null = null;
// appStartTimeoutMs 10 min: on a loaded machine PGlite's initdb took longer than the 120 s default to start the app; a start that hangs still ends the bench.
const server = await createServer({
  env: {},
  apps: [createLiveApp({ onReady: (h) => void (handle = h) })],
  logger: createLogger('warn'),
  config: { port: 0, host: '127.0.0.1', apiKey: API_KEY, jwtSecret: 'bench-jwt-secret-0123456789abcdef-012345', databaseUrl: 'pglite://memory', liveRtmpPort: 0, maxConnectionsPerIp: 1_000_000, appStartTimeoutMs: 600_000, ...abrConfig(), ...partConfig() },
});
await server.listen();
const { service, rtmpPort } = handle as unknown as LiveHandle;

async function answer(req: BenchRequest): Promise<unknown> {
  switch (req.op) {
    case 'createKey':
      return (await service.store.createKey('bench', 'bench')).key;
    case 'streamOfKey': {
      const k = await service.store.findKey(req.key);
      return k ? service.liveStreamOfKey(k.id) : null;
    }
    case 'parts': {
      const seg = service.broadcastOf(req.streamId)?.segmenter;
      if (!seg) return [];
      const segments = seg.open ? [...seg.segments, seg.open] : seg.segments;
      return segments.flatMap((s) => s.parts.map((p) => ({ msn: p.msn, index: p.index, availableAt: p.availableAt, firstArrivalAt: p.firstArrivalAt, released: p.released })));
    }
    case 'segments':
      return service.broadcastOf(req.streamId)?.segmenter.segments.length ?? 0;
    case 'health':
      return service.broadcastOf(req.streamId)?.health() ?? null;
    case 'abr': {
      const media = service.broadcastOf(req.streamId);
      if (!media) return null;
      return {
        pid: media.tap instanceof Transcoder ? media.tap.pid : undefined,
        renditions: [...media.renditions].map(([name, r]) => ({ name, fps: r.media.health().fps, bitrateKbps: r.media.health().bitrateKbps })),
        droppedFrames: media.health().droppedFrames,
      };
    }
    case 'close':
      await server.close();
      setImmediate(() => process.exit(0));
      return true;
  }
}

process.on('message', (raw) => {
  const req = raw as BenchRequest & { seq: number };
  answer(req).then(
    (value) => process.send!({ seq: req.seq, ok: true, value } satisfies BenchReply),
    (err: Error) => process.send!({ seq: req.seq, ok: false, error: err.message } satisfies BenchReply),
  );
});
// The bench went away (it failed or was killed): do not outlive it.
process.on('disconnect', () => void server.close().finally(() => process.exit(0)));
process.send!({ ready: true, url: server.url, rtmpPort });
