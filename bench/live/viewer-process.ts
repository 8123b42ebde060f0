/**
 * @module bench/live/viewer-process
 * A load generator process: simulates many viewers of one stream, outside the server's process
 * as real viewers are (forked by bench/live/viewer-load, several at once). Plain node:http with
 * a keep-alive agent: lean enough that the generators are not the bottleneck they measure.
 *
 * - `llhls`: each viewer does what an LL-HLS player does at the live edge: for the part the
 *   playlist's preload hint names, it asks for that part (held by the server until written) and
 *   for the playlist blocking until that part exists (`_HLS_msn`/`_HLS_part`), at once; then
 *   moves to the next hint. Each answer's arrival is reported with the part it was for, so the
 *   bench can subtract the moment the server wrote the part: the delay of the news reaching
 *   every viewer, which is what a blocking request's "latency" means.
 * - `hls`: a plain HLS player: the playlist every target duration (1 s), each new segment once.
 *   Reported as request durations, for the server under test and nginx alike.
 */
import http from 'node:http';

export interface ViewerJob {
  mode: 'llhls' | 'hls';
  /** URL of the folder holding the playlist and media. */
  base: string;
  playlist: string;
  viewers: number;
  seconds: number;
  /** First viewer number (viewer ids are unique across generator processes). */
  first: number;
}

export interface ViewerReport {
  /** LL-HLS: [msn, part, receivedAt] per answer. */
  playlistArrivals: number[][];
  partArrivals: number[][];
  /** Plain HLS: request durations (ms). */
  playlistMs: number[];
  segmentMs: number[];
  failures: number;
  failureKinds: Record<string, number>;
  requests: number;
  bytes: number;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 100_000 });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function get(url: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.setTimeout(15_000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

async function run(job: ViewerJob): Promise<ViewerReport> {
  const report: ViewerReport = { playlistArrivals: [], partArrivals: [], playlistMs: [], segmentMs: [], failures: 0, failureKinds: {}, requests: 0, bytes: 0 };
  const fail = (kind: string) => {
    report.failures++;
    report.failureKinds[kind] = (report.failureKinds[kind] ?? 0) + 1;
  };
  const deadline = Date.now() + job.seconds * 1000;
  const hintOf = (text: string) => /PRELOAD-HINT:TYPE=PART,URI="seg-(\d+)\.(\d+)\.m4s"/.exec(text);

  const llhlsViewer = async (i: number) => {
    const v = `viewer=load${i}`;
    let text = '';
    try {
      const first = await get(`${job.base}/${job.playlist}?${v}`);
      report.requests++;
      text = first.body.toString();
    } catch {
      return fail('playlist');
    }
    while (Date.now() < deadline) {
      const hint = hintOf(text);
      if (!hint) return fail('no_hint');
      const [msn, part] = [Number(hint[1]), Number(hint[2])];
      const timed = (url: string) => get(url).then((r) => ({ ...r, at: Date.now() }));
      const [pl, media] = await Promise.allSettled([timed(`${job.base}/${job.playlist}?_HLS_msn=${msn}&_HLS_part=${part}&${v}`), timed(`${job.base}/seg-${msn}.${part}.m4s`)]);
      report.requests += 2;
      if (media.status === 'fulfilled' && media.value.status === 200) {
        report.partArrivals.push([msn, part, media.value.at]);
        report.bytes += media.value.body.length;
      } else fail(media.status === 'fulfilled' ? `part_${media.value.status}` : 'part_error');
      if (pl.status === 'fulfilled' && pl.value.status === 200) {
        report.playlistArrivals.push([msn, part, pl.value.at]);
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
    while (Date.now() < deadline) {
      const t0 = performance.now();
      try {
        const res = await get(`${job.base}/${job.playlist}?viewer=load${i}`);
        report.requests++;
        report.playlistMs.push(performance.now() - t0);
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
