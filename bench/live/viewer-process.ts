/**
 * @module bench/live/viewer-process
 * A load generator process: simulates many viewers of one stream, outside the server's process
 * as real viewers are (forked by bench/live/viewer-load, several at once). Requests go through an
 * undici Pool: with `sockets` unset every viewer may hold its own keep-alive connections (as real
 * players do); with `sockets` N the process's plain-HLS viewers share N keep-alive connections,
 * HTTP/1.1 pipelined up to `pipelining` deep (as viewers behind one edge cache look to the origin).
 * Each viewer still names itself (`viewer=` on its playlist requests), so the server counts every
 * one. Fewer sockets is what lets two generator processes on two shared cores issue 2,000
 * viewers' requests on time; the request rate the server answers is the same either way.
 *
 * - `llhls`: each viewer does what an LL-HLS player does at the live edge: for the part the
 *   playlist's preload hint names, it asks for that part (held by the server until written) and
 *   for the playlist blocking until that part exists (`_HLS_msn`/`_HLS_part`), at once; then
 *   moves to the next hint. Each answer's arrival is reported with the part it was for, so the
 *   bench can subtract the moment the server wrote the part: the delay of the news reaching
 *   every viewer, which is what a blocking request's "latency" means.
 * - `hls`: a plain HLS player: the playlist every target duration (1 s), revalidated with its
 *   ETag as a browser cache does, each new segment once.
 *   Reported as request durations, for the server under test and nginx alike.
 */
import { Pool } from 'undici';
import { runqueueWaitSeconds } from './cpu-groups.js';

export interface ViewerJob {
  mode: 'llhls' | 'hls';
  /** URL of the folder holding the playlist and media. */
  base: string;
  playlist: string;
  viewers: number;
  seconds: number;
  /** First viewer number (viewer ids are unique across generator processes). */
  first: number;
  /** Connections this process shares among its viewers (unset: as many as its viewers need). */
  sockets?: number;
  /** Requests in flight per connection when `sockets` is set (HTTP/1.1 pipelining). */
  pipelining?: number;
}

export interface ViewerReport {
  /**
   * LL-HLS: [msn, part, receivedAt, sentAt] per answer. A request sent after its part was
   * published (the viewer was late: a starved generator) did not wait for it, and is timed from
   * its sending instead.
   */
  playlistArrivals: number[][];
  partArrivals: number[][];
  /** Plain HLS: request durations (ms). */
  playlistMs: number[];
  segmentMs: number[];
  failures: number;
  failureKinds: Record<string, number>;
  requests: number;
  bytes: number;
  /** This generator's own CPU (user + system) over its run, seconds. */
  cpuSeconds: number;
  /** Seconds its threads waited for a CPU over its run. */
  waitSeconds: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let pool: Pool | undefined;

/** One GET through the process's pool; the body is read whole (a player reads what it fetched). */
async function get(url: string, etag?: string): Promise<{ status: number; body: Buffer; etag?: string }> {
  const u = new URL(url);
  const res = await pool!.request({ method: 'GET', path: u.pathname + u.search, headers: etag ? { 'if-none-match': etag } : {}, headersTimeout: 15_000, bodyTimeout: 15_000 });
  const tag = res.headers.etag;
  return { status: res.statusCode, body: Buffer.from(await res.body.arrayBuffer()), etag: typeof tag === 'string' ? tag : undefined };
}

async function run(job: ViewerJob): Promise<ViewerReport> {
  const origin = new URL(job.base).origin;
  // LL-HLS requests are held by the server until their part exists: behind a held request on an
  // HTTP/1.1 connection every pipelined one waits too (a first run with shared sockets measured
  // exactly that queue, seconds long). So LL-HLS viewers keep a connection per request in flight,
  // as players do over HTTP/1.1; only plain-HLS viewers may share (`sockets`).
  pool = job.sockets && job.mode === 'hls'
    ? new Pool(origin, { connections: job.sockets, pipelining: job.pipelining ?? 8, keepAliveTimeout: 60_000 })
    : new Pool(origin, { connections: job.viewers * (job.mode === 'llhls' ? 2 : 1), pipelining: 1, keepAliveTimeout: 60_000 });
  const cpu0 = process.cpuUsage();
  const wait0 = runqueueWaitSeconds(process.pid);
  const report: ViewerReport = { playlistArrivals: [], partArrivals: [], playlistMs: [], segmentMs: [], failures: 0, failureKinds: {}, requests: 0, bytes: 0, cpuSeconds: 0, waitSeconds: 0 };
  const fail = (kind: string) => {
    report.failures++;
    report.failureKinds[kind] = (report.failureKinds[kind] ?? 0) + 1;
  };
  const deadline = Date.now() + job.seconds * 1000;
  const hintOf = (text: string) => /PRELOAD-HINT:TYPE=PART,URI="seg-(\d+)\.(\d+)\.m4s"/.exec(text);

  const llhlsViewer = async (i: number) => {
    const v = `viewer=load${i}`;
    await sleep(Math.random() * 1000); // viewers join over a second, not in one millisecond
    let text = '';
    try {
      // The joining fetch is non-blocking: its duration is a plain playlist request's.
      const t0 = performance.now();
      const first = await get(`${job.base}/${job.playlist}?${v}`);
      report.playlistMs.push(performance.now() - t0);
      report.requests++;
      text = first.body.toString();
    } catch {
      return fail('playlist');
    }
    while (Date.now() < deadline) {
      const hint = hintOf(text);
      if (!hint) return fail('no_hint');
      const [msn, part] = [Number(hint[1]), Number(hint[2])];
      const sentAt = Date.now();
      const timed = (url: string) => get(url).then((r) => ({ ...r, at: Date.now() }));
      const [pl, media] = await Promise.allSettled([timed(`${job.base}/${job.playlist}?_HLS_msn=${msn}&_HLS_part=${part}&${v}`), timed(`${job.base}/seg-${msn}.${part}.m4s`)]);
      report.requests += 2;
      if (media.status === 'fulfilled' && media.value.status === 200) {
        report.partArrivals.push([msn, part, media.value.at, sentAt]);
        report.bytes += media.value.body.length;
      } else fail(media.status === 'fulfilled' ? `part_${media.value.status}` : 'part_error');
      if (pl.status === 'fulfilled' && pl.value.status === 200) {
        report.playlistArrivals.push([msn, part, pl.value.at, sentAt]);
        text = pl.value.body.toString();
      } else {
        fail(pl.status === 'fulfilled' ? `playlist_${pl.value.status}` : 'playlist_error');
        await sleep(250);
        try {
          text = (await get(`${job.base}/${job.playlist}?${v}`)).body.toString();
        } catch {
          /* counted above; retried on the next turn */
        }
      }
    }
  };

  const hlsViewer = async (i: number) => {
    await sleep(Math.random() * 1000); // viewers do not all poll in the same millisecond
    const seen = new Set<string>();
    let started = false;
    // Like a browser's cache (or a CDN revalidating): the playlist held is revalidated with its
    // ETag, and a 304 means it has not changed (nginx answers the same way for its files).
    let held: { etag?: string; body: Buffer } | undefined;
    while (Date.now() < deadline) {
      const t0 = performance.now();
      try {
        let res = await get(`${job.base}/${job.playlist}?viewer=load${i}`, held?.etag);
        report.requests++;
        report.playlistMs.push(performance.now() - t0);
        if (res.status === 304 && held) res = { ...res, status: 200, body: held.body };
        else if (res.status === 200) held = { etag: res.etag, body: res.body };
        if (res.status !== 200) fail(`playlist_${res.status}`);
        const uris = res.body
          .toString()
          .split('\n')
          .filter((l) => l && !l.startsWith('#'));
        // A player joining starts near the live edge: it fetches the newest segment only, and
        // the older ones listed are behind it for good (not fetched on the next poll).
        if (!started) for (const uri of uris.slice(0, -1)) seen.add(uri);
        for (const uri of uris) {
          if (seen.has(uri)) continue;
          seen.add(uri);
          const s0 = performance.now();
          const seg = await get(`${job.base}/${uri}`);
          report.requests++;
          report.segmentMs.push(performance.now() - s0);
          report.bytes += seg.body.length;
          if (seg.status !== 200) fail(`segment_${seg.status}`);
        }
        started = true;
      } catch {
        fail('error');
      }
      await sleep(Math.max(0, 1000 - (performance.now() - t0)));
    }
  };

  const one = job.mode === 'llhls' ? llhlsViewer : hlsViewer;
  await Promise.all(Array.from({ length: job.viewers }, (_, k) => one(job.first + k)));
  await pool.close();
  const cpu = process.cpuUsage(cpu0);
  report.cpuSeconds = (cpu.user + cpu.system) / 1e6;
  report.waitSeconds = runqueueWaitSeconds(process.pid) - wait0;
  return report;
}

process.on('disconnect', () => process.exit(0));
process.once('message', (job) => {
  run(job as ViewerJob).then(
    (report) => process.send!(report, () => process.exit(0)),
    (err: Error) => {
      console.error(err);
      process.exit(1);
    },
  );
});
