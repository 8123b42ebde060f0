/**
 * bench/live/floor-server.mjs — the floor under our LL-HLS front door: a server with nothing of
 * ours in it that answers bench/live/llhls-load.c's requests with the bytes our server sends (a
 * playlist and a part captured from it, bench/live/floor.ts), on the same part clock (a part every
 * `partMs`), holding blocking requests until their part is out as ours does. Plain JS run by plain
 * `node` (no tsx, no build), forked by bench/live/floor.ts, spoken to over the fork IPC channel
 * with the same `parts` / `close` questions as bench/live/server-process, so the bench's LL-HLS
 * viewer load (bench/live/viewer-load `oursLlhls`) runs against it unchanged.
 *
 * Two modes, the two floors the question needs:
 * - `http`: Node's `http` server, each answer `writeHead(200, flat)` + `end(body)`: what any Node
 *   server pays per request before it does anything of its own.
 * - `net`: a `net` server reading request heads itself and writing a canned HTTP/1.1 answer (header
 *   block made once per answer and second; one write for a playlist, header + part corked into one
 *   writev): what Node's HTTP machinery costs on top of the socket. Keep-alive only, no pipelining
 *   (the generator sends one request per connection at a time), no validation: a floor, not a server.
 */
import { createServer as createHttpServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';

/** @type {{ mode: 'http' | 'net'; partMs: number; partsPerSegment: number; playlist: { headers: string[]; body: string; hint: string }; part: { headers: string[]; bytes: number } }} */
let job;
const parts = []; // PartTiming-shaped, for the bench's `parts` question
const waiting = new Map(); // `${msn}.${part}` → [respond(kind)]
let msn = 100;
let index = 0;
let playlistBody = Buffer.alloc(0);
let partBody = Buffer.alloc(0);

const nextOf = (m, i) => (i + 1 < job.partsPerSegment ? [m, i + 1] : [m + 1, 0]);
const isOut = (m, i) => m < msn || (m === msn && i <= index);

/** The captured playlist with its preload hint pointing at the part after the one just out. */
function renderPlaylist() {
  const [m, i] = nextOf(msn, index);
  playlistBody = Buffer.from(job.playlist.body.replace(job.playlist.hint, `seg-${m}.${i}.m4s`), 'latin1');
}

/** A part is out: answer its held playlists first (as ours does), then its held parts. */
function publish() {
  [msn, index] = nextOf(msn, index);
  renderPlaylist();
  const availableAt = Date.now();
  const t0 = performance.now();
  const held = waiting.get(`${msn}.${index}`) ?? [];
  waiting.delete(`${msn}.${index}`);
  let early = 0;
  for (const w of held) {
    if (w.kind !== 'playlist') continue;
    w.respond();
    early++;
  }
  const earlyMs = performance.now() - t0;
  for (const w of held) if (w.kind === 'part') w.respond();
  parts.push({ msn, index, availableAt, firstArrivalAt: availableAt, released: { early, earlyMs, all: held.length, allMs: performance.now() - t0 } });
  if (parts.length > 400) parts.shift();
}

/** Routes one request target: calls `respond(kind)` now or when its part is out. */
function route(url, respond) {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const file = path.slice(path.lastIndexOf('/') + 1);
  if (file === 'index.m3u8') {
    const query = q < 0 ? '' : url.slice(q + 1);
    const m = /(?:^|&)_HLS_msn=(\d+)/.exec(query);
    const p = /(?:^|&)_HLS_part=(\d+)/.exec(query);
    if (!m) return respond('playlist');
    return hold(Number(m[1]), p ? Number(p[1]) : 0, 'playlist', respond);
  }
  const seg = /^seg-(\d+)\.(\d+)\.m4s$/.exec(file);
  if (seg) return hold(Number(seg[1]), Number(seg[2]), 'part', respond);
  respond('missing');
}

function hold(m, i, kind, respond) {
  if (isOut(m, i)) return respond(kind);
  const key = `${m}.${i}`;
  let list = waiting.get(key);
  if (!list) waiting.set(key, (list = []));
  list.push({ kind, respond: () => respond(kind) });
}

function startHttp() {
  const flat = (headers, length) => [...headers, 'content-length', String(length)];
  const server = createHttpServer({ keepAliveTimeout: 5000 }, (req, res) => {
    route(req.url ?? '', (kind) => {
      if (res.destroyed) return;
      if (kind === 'missing') {
        res.writeHead(404, ['content-length', '0']);
        return res.end();
      }
      const body = kind === 'playlist' ? playlistBody : partBody;
      res.writeHead(200, flat(kind === 'playlist' ? job.playlist.headers : job.part.headers, body.length));
      res.end(body);
    });
  });
  return server;
}

function startNet() {
  let second = -1;
  const blocks = new Map(); // body → header block for this second
  const headerOf = (kind, body) => {
    const now = Math.floor(Date.now() / 1000);
    if (now !== second) {
      second = now;
      blocks.clear();
    }
    let block = blocks.get(body);
    if (block) return block;
    const headers = kind === 'playlist' ? job.playlist.headers : job.part.headers;
    let text = 'HTTP/1.1 200 OK\r\n';
    for (let i = 0; i < headers.length; i += 2) text += `${headers[i]}: ${headers[i + 1]}\r\n`;
    text += `content-length: ${body.length}\r\nDate: ${new Date(now * 1000).toUTCString()}\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\n`;
    block = kind === 'playlist' ? Buffer.concat([Buffer.from(text, 'latin1'), body]) : Buffer.from(text, 'latin1');
    blocks.set(body, block);
    return block;
  };
  return createNetServer({ noDelay: true }, (socket) => {
    let pending = '';
    let busy = false;
    const next = () => {
      const end = pending.indexOf('\r\n\r\n');
      if (busy || end < 0) return;
      const line = pending.slice(0, pending.indexOf('\r\n'));
      pending = pending.slice(end + 4);
      const [method, url] = line.split(' ');
      if (method !== 'GET' || !url) return socket.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nConnection: close\r\n\r\n');
      busy = true;
      route(url, (kind) => {
        busy = false;
        if (socket.destroyed) return;
        if (kind === 'missing') socket.write('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nKeep-Alive: timeout=5\r\n\r\n');
        else if (kind === 'playlist') socket.write(headerOf(kind, playlistBody));
        else {
          socket.cork();
          socket.write(headerOf(kind, partBody));
          socket.write(partBody);
          socket.uncork();
        }
        next();
      });
    };
    socket.setEncoding('latin1');
    socket.on('data', (chunk) => {
      pending += chunk;
      if (pending.length > 16384) return socket.destroy();
      next();
    });
    socket.on('error', () => socket.destroy());
  });
}

process.once('message', (first) => {
  job = first;
  partBody = Buffer.alloc(job.part.bytes, 7);
  renderPlaylist();
  const server = job.mode === 'net' ? startNet() : startHttp();
  server.listen(0, '127.0.0.1', () => {
    // A part every partMs on the wall clock, not drifting with the event loop's lateness.
    const t0 = Date.now();
    let n = 0;
    const tick = () => {
      publish();
      n++;
      setTimeout(tick, Math.max(0, t0 + (n + 1) * job.partMs - Date.now()));
    };
    setTimeout(tick, job.partMs);
    process.on('message', (req) => {
      if (req.op === 'parts') process.send({ seq: req.seq, ok: true, value: parts });
      else if (req.op === 'close') {
        process.send({ seq: req.seq, ok: true, value: true });
        setImmediate(() => process.exit(0));
      } else process.send({ seq: req.seq, ok: false, error: `floor server: no ${req.op}` });
    });
    process.send({ url: `http://127.0.0.1:${server.address().port}`, rtmpPort: 0 });
  });
});
process.on('disconnect', () => process.exit(0));
