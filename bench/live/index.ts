/**
 * @module bench/live
 * `npm run bench -- live [--seconds 10] [--viewers 200,1000,2000] [--generators 2] [--generator c|node] [--sockets N [--pipelining 8]] [--ws 1000]
 *   [--publishers 1,10,50] [--window 8] [--warmup 4] [--ladders 720/360/720,360] [--abr-preset veryfast]
 *   [--only glass,delivery,viewers,ws,ingest,abr] [--hls off] [--peer off] [--profile DIR] [--server-cpu-quota 1.0] [--out NAME]`
 * (`--profile` runs the server under `node --cpu-prof`, the profile written to DIR on close;
 * `--server-cpu-quota` puts the server in a cgroup v1 CPU group of that many cores and the load
 * generators in another, and reports both sides' CPU and the server's throttling: bench/live/cpu-groups)
 * The server runs in its own process (bench/live/server-process, the live app on PGlite in
 * memory); load generators run in others. Measured, in this order:
 * 1. glass — glass-to-glass latency read back from displayed frames in Chromium (bench/live/glass):
 *    ffmpeg burns the capture clock into each frame; LL-HLS and HLS with hls.js, DASH with dash.js.
 * 2. delivery — from a part's/segment's first frame arriving over RTMP to a lean client holding it.
 * 3. viewers — N LL-HLS viewers (blocking reload + preload-hinted parts) and N plain-HLS polling
 *    viewers of our server, beside N plain-HLS viewers of nginx serving nginx-rtmp's HLS files.
 * 4. ws — N WebSocket viewers on the event door: a viewer joining and leaving, the count change
 *    reaching all of them (several rounds, right after the N joined at once).
 * 5. ingest — CPU per stream for 1/10/50 copy-mode 1080p30 publishers, ours beside nginx-rtmp,
 *    both read from /proc; after one first stream (reported apart: its one-time costs), on the
 *    warmed process, as a long-running server.
 * 6. abr — CPU of the ABR ladder's ffmpeg per ladder (bench/live/abr), on the same 1080p30 input.
 * Writes bench/results/live.json and live.md with the load average beside every figure.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { AUTOPLAY, launchChromium } from '../../test/helpers/chromium.js';
import { dist, llhlsLatency, PartClock, segmentLatency, wsViewers, type Dist } from './delivery.js';
import { measureGlass, publishWithClock, type GlassResult } from './glass.js';
import { embeddedIngest, idleCpu, nginxIngest, publishers, settleAfterStream, sourceFile, stopAll, type IngestResult } from './ingest.js';
import { ServerUnderTest, TICKS } from './server.js';
import { abrLadders } from './abr.js';
import { hlsPolling, oursLlhls, startNginxHls, type Generators, type LoadResult } from './viewer-load.js';
import { BenchCpuGroups, describeSplit, type SideCpu } from './cpu-groups.js';
import { buildCGenerator } from './c-generator.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function arg(args: string[], name: string, fallback: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
}

const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');
const ms = (d: Dist | undefined) => (d && d.n ? `p50 ${d.p50.toFixed(0)} · p95 ${d.p95.toFixed(0)} · p99 ${d.p99.toFixed(0)} · max ${d.max.toFixed(0)} ms (n=${d.n})` : 'no samples');
const side = (c: SideCpu | undefined) => (c ? `${c.cpuPercent.toFixed(0)} %${c.throttledPercent === null ? '' : `, throttled ${c.throttledPercent.toFixed(0)} %`}${c.runqueueWaitPercent === undefined ? '' : `, waited ${c.runqueueWaitPercent.toFixed(0)} %`}` : '—');
/** Server CPU time per request answered (µs): what one more viewer costs, whatever the generators managed. */
const perRequest = (r: LoadResult) => (r.split && r.requests ? `${((r.split.server.cpuPercent / 100) * r.seconds * 1e6 / r.requests).toFixed(0)} µs` : '—');
const secs = (d: Dist) => (d.n ? `${(d.p50 / 1000).toFixed(2)} s / ${(d.p95 / 1000).toFixed(2)} s` : 'no samples');

export async function main(args: string[]): Promise<void> {
  const seconds = Number(arg(args, 'seconds', '10'));
  const viewerCounts = arg(args, 'viewers', '200,1000,2000').split(',').map(Number);
  const sockets = Number(arg(args, 'sockets', '0'));
  const generators: Generators = { processes: Number(arg(args, 'generators', '2')), ...(sockets ? { sockets, pipelining: Number(arg(args, 'pipelining', '8')) } : {}) };
  const nodeGeneratorText = `${generators.processes} processes of their own${sockets ? `, each sharing ${sockets} keep-alive connections pipelined ${generators.pipelining} deep among its plain-HLS viewers (LL-HLS viewers keep a connection per held request)` : ', each viewer on its own keep-alive connections'}`;
  const wsCount = Number(arg(args, 'ws', '1000'));
  const publisherCounts = arg(args, 'publishers', '1,10,50').split(',').map(Number);
  const windowS = Number(arg(args, 'window', '8'));
  const warmupS = Number(arg(args, 'warmup', '4'));
  const only = new Set(arg(args, 'only', 'glass,delivery,viewers,ws,ingest,abr').split(','));
  const ladders = arg(args, 'ladders', '720/360/720,360').split('/');
  const abrPreset = arg(args, 'abr-preset', 'veryfast');
  const loadBefore = load();
  const dir = mkdtempSync(join(tmpdir(), 'airwaves-bench-live-'));
  // LL-HLS viewers from the compiled generator (bench/live/llhls-load.c) unless `--generator node`.
  const compiled = arg(args, 'generator', 'c') === 'c' ? buildCGenerator(dir) : null;
  if (compiled) generators.compiled = compiled;
  const llGeneratorText = compiled ? `LL-HLS: ${generators.processes} compiled epoll processes (bench/live/llhls-load.c); plain HLS: ` : '';
  const profile = arg(args, 'profile', '');
  const quotaText = arg(args, 'server-cpu-quota', '');
  const groups = BenchCpuGroups.create(quotaText ? Number(quotaText) : null);
  const server = await ServerUnderTest.start(profile ? { cpuProfileDir: profile } : {});
  groups.addServer(server.pid);
  console.log(`live bench: server pid ${server.pid} at ${server.url}, RTMP ${server.rtmpPort}; load ${load()}`);
  const result: Record<string, unknown> = { at: '', args: args.join(' '), loadBefore, seconds };
  const md: string[] = [];

  try {
    await sections();
  } catch (err) {
    // A failed section must not lose the others' figures: they are written below with the error.
    console.error('live bench section failed:', err);
    result.error = String((err as Error).stack ?? err);
    md.push(`## Error\n\nA section failed and the run stopped there: \`${String((err as Error).message)}\`\n`);
  }

  async function sections(): Promise<void> {
    // 1 + 2: one 640x360 stream with the capture clock burned in, encoded live.
    if (only.has('glass') || only.has('delivery')) {
      const key = await server.createKey();
      const ff = publishWithClock(`rtmp://127.0.0.1:${server.rtmpPort}/live/${key}`);
      const id = await server.waitLive(key);
      const base = `${server.url}/api/v1/streams/${id}/media`;
      if (only.has('glass')) {
        const browser = await launchChromium([AUTOPLAY]);
        const glass: (GlassResult & { load: string })[] = [];
        for (const [player, file] of [['llhls', 'index.m3u8'], ['hls', 'plain.m3u8'], ['dash', 'manifest.mpd']] as const) {
          const g = await measureGlass(browser, server.url, `${base}/${file}?viewer=glass-${player}`, player, seconds);
          glass.push({ ...g, load: load() });
          console.log(`glass-to-glass ${player}: ${ms(g.latency)}; ${g.unreadable} unreadable frames; first frame ${g.startupS.toFixed(2)} s after load; load ${load()}`);
        }
        await browser.close();
        result.glass = glass;
        md.push(`## Glass-to-glass latency, read back from displayed frames

  ffmpeg encodes a 640x360 30 fps test pattern live (x264 veryfast zerolatency, 1 s GOP, 1.5 Mb/s) with its capture clock
  burned in as a 24-block code; headless Chromium plays it (hls.js with web/live/player-config.ts: LL-HLS as the /live/ page
  plays it, plain HLS with hls.js defaults plus 1.25x catch-up; dash.js DASH with its defaults),
  and for every presented frame (\`requestVideoFrameCallback\`) reads the code back from a canvas: latency = presentation
  time − capture time, same clock. Each player settles 4 s after its first frame, then ${seconds} s of frames are read.

  | protocol | p50 / p95 | distribution | unreadable frames | first frame after page load | load |
  |---|---|---|---|---|---|
  ${glass.map((g) => `| ${{ llhls: 'LL-HLS', hls: 'HLS', dash: 'DASH' }[g.player]} | ${secs(g.latency)} | ${ms(g.latency)} | ${g.unreadable} | ${g.startupS.toFixed(2)} s | ${g.load} |`).join('\n')}
  `);
      }
      if (only.has('delivery')) {
        const clock = new PartClock(server, id);
        const [ll, hls, dash] = await Promise.all([llhlsLatency(base, clock, seconds), segmentLatency(base, clock, seconds, 'hls'), segmentLatency(base, clock, seconds, 'dash')]);
        await clock.stop();
        const delivery = { llhls: dist(ll), hls: dist(hls), dash: dist(dash), load: load() };
        result.delivery = delivery;
        for (const k of ['llhls', 'hls', 'dash'] as const) console.log(`delivery ${k}: ${ms(delivery[k])}`);
        md.push(`## Delivery (server side of the latency)

  From a part's (LL-HLS) or segment's (HLS, DASH) first frame arriving over RTMP to a lean client (plain fetch loop, another
  process) holding it. Load ${delivery.load}.

  | protocol | delivery |
  |---|---|
  | LL-HLS part | ${ms(delivery.llhls)} |
  | HLS segment | ${ms(delivery.hls)} |
  | DASH segment | ${ms(delivery.dash)} |
  `);
      }
      ff.kill('SIGINT');
      await new Promise((r) => ff.once('exit', r));
      await sleep(1000);
    }

    // 3: viewers of one pre-encoded 640x360 stream (published with -c copy: no encoder on the CPU).
    if (only.has('viewers')) {
      const file = await sourceFile(dir, '640x360', '1M');
      const key = await server.createKey();
      const [pub] = publishers(file, [`rtmp://127.0.0.1:${server.rtmpPort}/live/${key}`]);
      groups.addGenerator(pub!.pid);
      const id = await server.waitLive(key);
      const base = `${server.url}/api/v1/streams/${id}/media`;
      const ours: { llhls: LoadResult; hls: LoadResult | null }[] = [];
      for (const n of viewerCounts) {
        const llhls = await oursLlhls(server, id, n, generators, seconds, load, groups);
        console.log(`ours LL-HLS ${n} viewers: server CPU per request ${perRequest(llhls)}; blocking playlist answer after part published ${ms(llhls.playlistDelay)}; server answering a part's held requests: playlists ${ms(llhls.releaseEarly)}, all ${ms(llhls.releaseAll)}, ${(llhls.releasedPerPart ?? 0).toFixed(0)} per part; part ${ms(llhls.partDelay)}; joining (non-blocking) playlist ${ms(llhls.joinPlaylist)}; ${llhls.lateRequests} requests sent after their part was out; ${llhls.failures} failed of ${llhls.requests} ${JSON.stringify(llhls.failureKinds)}; ${describeSplit(llhls.split!)}; load ${llhls.load}`);
        await sleep(2000);
        if (arg(args, 'hls', 'on') !== 'on') {
          ours.push({ llhls, hls: null });
          continue;
        }
        const hls = await hlsPolling(base, 'plain.m3u8', server.pid, n, generators, seconds, load, groups);
        console.log(`ours HLS ${n} viewers: playlist ${ms(hls.playlist)}; segment ${ms(hls.segment)}; ${hls.failures} failed of ${hls.requests} ${JSON.stringify(hls.failureKinds)}; ${describeSplit(hls.split!)}; load ${hls.load}`);
        ours.push({ llhls, hls });
        await sleep(2000);
      }
      await stopAll([pub!]);
      const theirs: LoadResult[] = [];
      if (arg(args, 'peer', 'on') === 'on' && arg(args, 'hls', 'on') === 'on') {
        const nginx = await startNginxHls();
        groups.addServer(nginx.pid); // the same quota as ours
        const [npub] = publishers(file, [nginx.rtmpUrl]);
        groups.addGenerator(npub!.pid);
        await sleep(6000); // a few fragments in the playlist
        for (const n of viewerCounts) {
          const r = await hlsPolling(nginx.hlsBase, 'bench.m3u8', nginx.pid, n, generators, seconds, load, groups);
          console.log(`nginx HLS ${n} viewers: playlist ${ms(r.playlist)}; segment ${ms(r.segment)}; ${r.failures} failed of ${r.requests} ${JSON.stringify(r.failureKinds)}; ${describeSplit(r.split!)}; load ${r.load}`);
          theirs.push(r);
          await sleep(2000);
        }
        await stopAll([npub!]);
        await nginx.stop();
      }
      result.viewers = { generators, ours, nginx: theirs };
      md.push(`## Viewers of one stream (generators: ${llGeneratorText}${nodeGeneratorText}; ${seconds} s per run)

  One 640x360 stream (~1.1 Mb/s, published with \`-c copy\`). ${groups.quota === null ? 'No CPU groups: server and generators compete with everything else on the machine.' : `The server (and, for its rows, nginx) runs in a cgroup v1 CPU group limited to ${groups.quota} core; the viewer generators and the publisher in a second group without a ceiling (both weighted high against the rest of the machine). Throttled = percent of 100 ms CFS periods in which the server had used its quota.`} Waited = time its threads were runnable but had no CPU (schedstat), in percent of the window.
  Ours LL-HLS: each viewer joins with one non-blocking playlist request (its duration: "joining playlist"), then holds a
  blocking playlist request (\`_HLS_msn\`/\`_HLS_part\`) and the preload-hinted part at once, like hls.js at the live edge.
  A blocking request is meant to wait for the next part, so it is timed from the moment the server published that part
  (its clock, asked over IPC) to the viewer holding the answer; a request sent after its part was already out (a late
  viewer: the generator fell behind) is timed from its sending ("late" counts them).
  Plain HLS (ours and nginx): playlist every second (non-blocking), each new segment once; request durations.
  nginx: nginx-rtmp \`hls on\` (1 s fragments, MPEG-TS) and nginx serving the files, one worker process.

  Server side (its clock, per part released in the run): the time from the start of a part's release to the last
  blocking playlist it released being written ("playlists") and to the last held request ("all"), with the mean number of
  held requests a part released: what the server itself adds, whatever the viewers' side does.

  | viewers | blocking playlist (from part published) | part (from published) | server: answering a part's held requests | joining playlist (non-blocking) | late | failed / requests | server CPU | server CPU per request | generators CPU | load |
  |---|---|---|---|---|---|---|---|---|---|---|
  ${ours.map(({ llhls: r }) => `| ${r.viewers} | ${ms(r.playlistDelay)} | ${ms(r.partDelay)} | playlists ${ms(r.releaseEarly)}; all ${ms(r.releaseAll)}; ${(r.releasedPerPart ?? 0).toFixed(0)} per part | ${ms(r.joinPlaylist)} | ${r.lateRequests} | ${r.failures} / ${r.requests} | ${side(r.split?.server)} | ${perRequest(r)} | ${side(r.split?.generators)} | ${r.load} |`).join('\n')}

  | viewers | ours HLS playlist | ours HLS segment | failed / requests | our CPU | nginx HLS playlist | nginx HLS segment | failed / requests | nginx CPU | generators CPU (ours; nginx) | load (ours; nginx) |
  |---|---|---|---|---|---|---|---|---|---|---|
  ${ours.flatMap(({ hls }) => (hls ? [hls] : [])).map((r, i) => { const t = theirs[i]; if (!t) return `| ${r.viewers} | ${ms(r.playlist)} | ${ms(r.segment)} | ${r.failures} / ${r.requests} | ${side(r.split?.server)} | not run | | | | ${side(r.split?.generators)} | ${r.load} |`; return `| ${r.viewers} | ${ms(r.playlist)} | ${ms(r.segment)} | ${r.failures} / ${r.requests} | ${side(r.split?.server)} | ${ms(t.playlist)} | ${ms(t.segment)} | ${t.failures} / ${t.requests} | ${side(t.split?.server)} | ${side(r.split?.generators)}; ${side(t.split?.generators)} | ${r.load}; ${t.load} |`; }).join('\n')}
  `);
    }

    // 4: WebSocket viewers (this process is the generator; the server is the other process).
    if (only.has('ws')) {
      const key = await server.createKey();
      const file = await sourceFile(dir, '640x360', '1M');
      const [pub] = publishers(file, [`rtmp://127.0.0.1:${server.rtmpPort}/live/${key}`]);
      const id = await server.waitLive(key, 1);
      const ws = await wsViewers(`${server.url.replace('http', 'ws')}/api/v1/streams/${id}/ws`, wsCount);
      const wsLoad = load();
      console.log(`${wsCount} WebSocket viewers, ${ws.rounds} rounds: join (from the joiner's open) ${ms(ws.join)}; join (from its connect) ${ms(ws.joinFromConnect)}; leave ${ms(ws.leave)}; missed ${ws.missed}; load ${wsLoad}`);
      await stopAll([pub!]);
      result.wsViewers = { viewers: wsCount, ...ws, load: wsLoad };
      md.push(`## WebSocket viewers: a count change reaching every viewer (target 500 ms)

  ${wsCount} WebSocket viewers on the event door join at once (generator: the bench process); half a second later, while
  their viewer sessions are still being written, one more viewer joins and leaves, ${ws.rounds} times. Each figure is over
  every viewer and round: from the joiner's socket opening (the server has counted it), from its first connect (TCP and
  upgrade included), and from the leaver's close(), to each of the ${wsCount} holding the new count. Load ${wsLoad}.

  | change | to every viewer | missed (not within 10 s) |
  |---|---|---|
  | join (from the joiner's open) | ${ms(ws.join)} | ${ws.missed} in all |
  | join (from the joiner's connect) | ${ms(ws.joinFromConnect)} | |
  | leave (from close()) | ${ms(ws.leave)} | |
  `);
    }

    // 5: ingest CPU, ours and nginx-rtmp's, on the same pre-encoded 1080p30 file.
    if (only.has('ingest')) {
      const file = await sourceFile(dir);
      await sleep(2000);
      // The first 1080p stream this process ingests pays one-time costs (JIT, pools and heap
      // growing to its size, first rows): measured like the others, reported apart, and the
      // steady windows below run on the warmed process, as a server running for days does.
      const first = await embeddedIngest(file, server, windowS, 1, warmupS);
      const firstLoad = load();
      console.log(`first stream (one-time costs included): ${first.cpuPercent.toFixed(2)} % CPU (main thread ${first.mainThreadPercent.toFixed(2)} %); load ${firstLoad}`);
      // Its end: the last rows written, its media retention over, the memory it freed collected.
      const tail = await settleAfterStream(server);
      console.log(`first stream's tail (its end until the process is quiet): ${tail.cpuSeconds.toFixed(2)} CPU s over ${tail.seconds.toFixed(0)} s`);
      const idle = await idleCpu(server, windowS);
      console.log(`idle (no publisher): ${idle.toFixed(2)} % CPU`);
      const ingest: { ours: IngestResult; nginx: IngestResult; load: string }[] = [];
      for (const n of publisherCounts) {
        const ours = await embeddedIngest(file, server, windowS, n, warmupS);
        ours.cpuPerStreamPercent = Math.max(0, ours.cpuPercent - idle) / n;
        const nginx = await nginxIngest(file, n, windowS, warmupS);
        ingest.push({ ours, nginx, load: load() });
        console.log(`${n} publishers (1080p30 copy): ours ${ours.cpuPercent.toFixed(1)} % CPU (${ours.cpuPerStreamPercent.toFixed(2)} %/stream above idle, min fps ${ours.fpsMin}, dropped ${ours.droppedFrames}); nginx-rtmp ${nginx.cpuPercent.toFixed(1)} % (${nginx.cpuPerStreamPercent.toFixed(2)} %/stream); ratio ${(ours.cpuPerStreamPercent / nginx.cpuPerStreamPercent).toFixed(2)}; load ${load()}`);
      }
      result.idleCpuPercent = idle;
      result.ingestFirstStream = { ...first, load: firstLoad };
      result.ingestFirstStreamTail = tail;
      result.ingest = ingest;
      result.ingestWarmupS = warmupS;
      md.push(`## Ingest CPU per stream (pre-encoded 1080p30 ~4 Mb/s H.264 + AAC, \`ffmpeg -re -stream_loop -1 -c copy\`; ${windowS} s window after ${warmupS} s of publishing)

  Both servers' CPU is read from /proc (user + system, all threads; "main" is our main thread's share, the rest is V8's
  GC helpers, libuv and PGlite's worker). **Steady state** (what a server running for days pays): the rows below run on a
  process that has already ingested one 1080p stream (first line: that stream, one-time costs included — JIT of the remux
  path, pools and heap growing to a 1080p stream, its first rows — not a per-stream cost). Its end costs the process ${tail.cpuSeconds.toFixed(2)} CPU s
  more until it is quiet (${tail.seconds.toFixed(0)} s: V8's memory reducer collecting what the stream allocated, on the main thread
  and in PGlite's worker, up to ~80 s after the end; a cost of the stream, not of idling). Settled, our process idles at ${idle.toFixed(2)} % CPU with no publisher; "ours per stream" is (ours CPU − idle) / publishers. nginx-rtmp runs
  \`hls on\` (remux to MPEG-TS files), a fresh process for each row. Resolution: /proc counts CPU in ${1000 / TICKS} ms ticks, so
  over a ${windowS} s window one tick is ${(100 / TICKS / windowS).toFixed(3)} % of a core; at one publisher (~1 % of a core each side)
  one tick on either side moves the ratio by about ${(100 / TICKS / windowS).toFixed(3)}. Repeating a count (\`--publishers 1,1,1\`)
  alternates ours and nginx, so the spread between rows shows the load's drift too.

  | publishers | ours CPU (main thread) | ours per stream | min fps | dropped | nginx-rtmp CPU | nginx per stream | ours / nginx | load after |
  |---|---|---|---|---|---|---|---|---|
  | 1, first stream of the process (one-time costs) | ${first.cpuPercent.toFixed(1)} % (${first.mainThreadPercent.toFixed(1)} %) | ${Math.max(0, first.cpuPercent - idle).toFixed(2)} % | ${first.fpsMin} | ${first.droppedFrames} | | | | ${firstLoad} |
  ${ingest.map((r) => `| ${r.ours.publishers} | ${r.ours.cpuPercent.toFixed(1)} % (${r.ours.mainThreadPercent.toFixed(1)} %) | ${r.ours.cpuPerStreamPercent.toFixed(2)} % | ${r.ours.fpsMin} | ${r.ours.droppedFrames} | ${r.nginx.cpuPercent.toFixed(1)} % | ${r.nginx.cpuPerStreamPercent.toFixed(2)} % | ${(r.ours.cpuPerStreamPercent / r.nginx.cpuPerStreamPercent).toFixed(2)} | ${r.load} |`).join('\n')}
  `);
    }

    // 6: the ABR ladder's CPU, one server process per ladder, on the same 1080p30 input.
    if (only.has('abr')) {
      const file = await sourceFile(dir);
      const abr = await abrLadders(file, ladders, abrPreset, windowS, load);
      for (const r of abr) console.log(`ABR ladder ${r.ladder} (${r.preset}): ffmpeg ${r.ffmpegCpuPercent.toFixed(0)} % CPU, server ${r.serverCpuPercent.toFixed(0)} %; renditions ${r.renditions.map((x) => `${x.name} ${x.fps} fps ${x.bitrateKbps} kb/s`).join(', ')}; load ${r.load}`);
      result.abr = abr;
      md.push(`## ABR ladder CPU (one copy-mode 1080p30 ~4 Mb/s source; x264 \`${abrPreset}\` zerolatency; ${windowS} s window)

  One server process per ladder (\`AIRWAVES_LIVE_ABR\`); the ladder's ffmpeg decodes the source once, scales and encodes
  each rendition. CPU in percent of one core, from /proc (all threads); the server's figure includes the source's remux
  and the renditions' packaging. A rendition below 30 fps means the machine did not keep up.

  | ladder | ffmpeg CPU | server CPU | renditions (fps, kb/s) | load |
  |---|---|---|---|---|
  ${abr.map((r) => `| ${r.ladder} | ${r.ffmpegCpuPercent.toFixed(0)} % | ${r.serverCpuPercent.toFixed(0)} % | ${r.renditions.map((x) => `${x.name}: ${x.fps} fps, ${x.bitrateKbps} kb/s`).join('; ')} | ${r.load} |`).join('\n')}
  `);
    }
  }

  await server.close();
  groups.remove();
  rmSync(dir, { recursive: true, force: true });
  result.at = new Date().toISOString();
  result.loadAfter = load();
  const name = arg(args, 'out', 'live');
  writeFileSync(`bench/results/${name}.json`, JSON.stringify(result, null, 2) + '\n');
  writeFileSync(
    `bench/results/${name}.md`,
    `# Live benchmark (\`npm run bench -- live ${args.join(' ')}\`)

${result.at}. Load average (1/5/15 min) before: ${loadBefore}; after: ${String(result.loadAfter)}. The machine has 2 cores,
shared with other helpers' work while this ran: every figure is under that load. The server under test is its own
process; load generators (viewer processes, Chromium, ffmpeg) run beside it on the same 2 cores.

${md.join('\n').replace(/^ {2}/gm, '')}`, // section texts are indented with their code
  );
  console.log(`wrote bench/results/${name}.json and ${name}.md`);
}
