/**
 * @module web/live/main
 * The live UI: the list of live streams (#/), a viewer page (#/watch/<id>: hls.js in low-latency
 * mode, the live viewer count from the stream's event door) and the streamer dashboard
 * (#/studio: keys, copyable ingest URL, go-live state, health graphs, history).
 * `window.__liveStats` exposes the player's state for the browser test.
 */
import Hls from 'hls.js';
import { LOW_LATENCY_HLS } from './player-config.js';
import { api, streamEvents, token, type Sample, type Stream, type StreamKey } from './api.js';

const view = document.getElementById('view')!;
let cleanup: (() => void)[] = [];

declare global {
  interface Window {
    __liveStats?: { viewers: number; status: string; currentTime: number; firstFrameMs: number | null; latencyS: number | null };
  }
}

function h(html: string): void {
  view.innerHTML = html;
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

async function listPage(): Promise<void> {
  const render = async () => {
    const { streams } = await api<{ streams: Stream[] }>('GET', '/api/v1/streams');
    h(streams.length ? `<table><tr><th>stream</th><th>viewers</th><th>quality</th><th>since</th></tr>${streams.map((s) => `<tr><td><a href="#/watch/${s.id}">${esc(s.title)}</a> <span class="muted">${esc(s.owner)}</span></td><td>${s.viewers}</td><td>${s.height ? `${s.height}p` : '—'}</td><td>${s.startedAt ? new Date(s.startedAt).toLocaleTimeString() : ''}</td></tr>`).join('')}</table>` : '<p class="muted">Nobody is live right now.</p>');
  };
  await render();
  const timer = setInterval(() => void render(), 3000);
  cleanup.push(() => clearInterval(timer));
}

async function watchPage(id: string): Promise<void> {
  const started = performance.now();
  const viewer = `web-${crypto.randomUUID()}`;
  const stats: NonNullable<Window['__liveStats']> = { viewers: 0, status: 'loading', currentTime: 0, firstFrameMs: null, latencyS: null };
  window.__liveStats = stats;
  const stream = await api<Stream>('GET', `/api/v1/streams/${id}`);
  h(`<h2>${esc(stream.title)}</h2>
    <div class="row"><span id="status" class="pill">${stream.status}</span><span class="pill">👁 <b id="viewers">${stream.viewers}</b> watching</span><span class="pill">peak <b id="peak">${stream.peakViewers}</b></span><span class="pill" id="latency">latency —</span></div>
    <video id="video" muted autoplay playsinline controls></video>`);
  const video = document.getElementById('video') as HTMLVideoElement;
  const setStatus = (s: string) => {
    stats.status = s;
    const el = document.getElementById('status')!;
    el.textContent = s;
    el.className = s === 'ACTIVE' ? 'pill live' : 'pill';
  };
  setStatus(stream.status);
  // The multivariant playlist: the source alone, or the source and its ABR renditions.
  const src = `${stream.playback.master}?viewer=${viewer}`;
  if (Hls.isSupported()) {
    const hls = new Hls({ ...LOW_LATENCY_HLS });
    hls.loadSource(src);
    hls.attachMedia(video);
    hls.on(Hls.Events.ERROR, (_e, data) => {
      if (data.fatal && data.type === Hls.ErrorTypes.NETWORK_ERROR) setTimeout(() => hls.startLoad(), 1000);
    });
    cleanup.push(() => hls.destroy());
    const timer = setInterval(() => {
      const latency = hls.latency;
      stats.latencyS = Number.isFinite(latency) ? latency : null;
      if (stats.latencyS !== null) document.getElementById('latency')!.textContent = `latency ${stats.latencyS.toFixed(2)} s`;
    }, 500);
    cleanup.push(() => clearInterval(timer));
  } else video.src = src;
  video.addEventListener('timeupdate', () => {
    stats.currentTime = video.currentTime;
    if (stats.firstFrameMs === null && video.currentTime > 0) stats.firstFrameMs = performance.now() - started;
  });
  void video.play().catch(() => {});
  cleanup.push(
    streamEvents(id, viewer, (e) => {
      if (e.type === 'viewer_count_changed') {
        stats.viewers = e.viewers;
        document.getElementById('viewers')!.textContent = String(e.viewers);
        document.getElementById('peak')!.textContent = String(e.peak);
      } else if (e.type === 'stream_ended') setStatus(e.status);
      else if (e.type === 'stream_started') setStatus('ACTIVE');
    }),
  );
}

function sparkline(values: number[], label: string): string {
  const w = 300;
  const hgt = 60;
  const max = Math.max(1, ...values);
  const pts = values.map((v, i) => `${((i / Math.max(1, values.length - 1)) * w).toFixed(1)},${(hgt - (v / max) * (hgt - 4)).toFixed(1)}`).join(' ');
  return `<div><div class="muted">${label} (max ${max})</div><svg width="${w}" height="${hgt}"><polyline fill="none" stroke="#8fb4ff" stroke-width="2" points="${pts}"/></svg></div>`;
}

async function studioPage(): Promise<void> {
  const render = async (newKey?: StreamKey) => {
    const ingest = await api<{ rtmpUrl: string }>('GET', '/api/v1/streams/ingest');
    let body = `<div class="row"><label>Token or API key <input id="tok" type="password" value="${esc(token.get())}" size="40"></label><button id="save">Use</button></div>
      <div class="row">Ingest URL <code id="ingest">${esc(ingest.rtmpUrl)}</code><button id="copy">Copy</button></div>`;
    if (!token.get()) return h(body + '<p class="muted">Paste a streamer token (or the admin API key) to manage keys.</p>');
    try {
      const [{ keys }, { streams }] = await Promise.all([api<{ keys: StreamKey[] }>('GET', '/api/v1/streams/keys'), api<{ streams: Stream[] }>('GET', '/api/v1/streams?status=ALL&limit=20')]);
      if (newKey) body += `<p>New key (shown once): <code class="secret" id="newkey">${esc(newKey.key!)}</code></p>`;
      body += `<h3>Keys</h3><div class="row"><input id="label" placeholder="label"><button id="create">Create key</button></div><table>${keys.map((k) => `<tr><td>${esc(k.label || '—')}</td><td><code>${esc(k.prefix)}…</code></td><td>${k.revokedAt ? 'revoked' : `<button data-rotate="${k.id}">Rotate</button> <button data-revoke="${k.id}">Revoke</button>`}</td></tr>`).join('')}</table>`;
      body += `<h3>Streams</h3><table>${streams.map((s) => `<tr><td><a href="#/watch/${s.id}">${esc(s.title)}</a></td><td><span class="pill ${s.status === 'ACTIVE' ? 'live' : ''}">${s.status}</span></td><td>${s.viewers} now / ${s.peakViewers} peak</td><td>${s.durationMs ? `${Math.round(s.durationMs / 1000)} s` : ''}</td><td><button data-history="${s.id}">History</button></td></tr>`).join('')}</table><div id="history"></div>`;
      h(body);
    } catch (err) {
      h(body + `<p class="secret">${esc((err as Error).message)}</p>`);
    }
    document.getElementById('save')!.onclick = () => {
      token.set((document.getElementById('tok') as HTMLInputElement).value.trim());
      void render();
    };
    document.getElementById('copy')!.onclick = () => void navigator.clipboard?.writeText(ingest.rtmpUrl);
    const create = document.getElementById('create');
    if (create) create.onclick = async () => render(await api<StreamKey>('POST', '/api/v1/streams/keys', { label: (document.getElementById('label') as HTMLInputElement).value }));
    for (const b of view.querySelectorAll<HTMLButtonElement>('[data-rotate]')) b.onclick = async () => render(await api<StreamKey>('POST', `/api/v1/streams/keys/${b.dataset.rotate}/rotate`));
    for (const b of view.querySelectorAll<HTMLButtonElement>('[data-revoke]')) b.onclick = async () => (await api('DELETE', `/api/v1/streams/keys/${b.dataset.revoke}`), render());
    for (const b of view.querySelectorAll<HTMLButtonElement>('[data-history]')) {
      b.onclick = async () => {
        const { samples } = await api<{ samples: Sample[] }>('GET', `/api/v1/streams/${b.dataset.history}/metrics`);
        document.getElementById('history')!.innerHTML = `<div class="row">${sparkline(samples.map((s) => s.viewers), 'viewers')}${sparkline(samples.map((s) => s.bitrateKbps), 'bitrate kbps')}${sparkline(samples.map((s) => s.fps), 'fps')}${sparkline(samples.map((s) => s.droppedFrames), 'dropped frames')}</div>`;
      };
    }
  };
  await render();
  const timer = setInterval(() => {
    if (!document.getElementById('newkey') && document.activeElement?.tagName !== 'INPUT') void render();
  }, 5000);
  cleanup.push(() => clearInterval(timer));
}

async function route(): Promise<void> {
  for (const c of cleanup) c();
  cleanup = [];
  const hash = location.hash || '#/';
  const watch = /^#\/watch\/([0-9a-f-]{36})$/.exec(hash);
  try {
    if (watch) await watchPage(watch[1]!);
    else if (hash === '#/studio') await studioPage();
    else await listPage();
  } catch (err) {
    h(`<p class="secret">${esc((err as Error).message)}</p>`);
  }
}

window.addEventListener('hashchange', () => void route());
void route();
