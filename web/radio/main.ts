/**
 * @module web/radio/main
 * The radio player: joins a station a little behind its live edge through the SDK, decodes
 * chunks (Opus through WebCodecs, 16-bit PCM otherwise) and feeds them to the AudioWorklet, which
 * owns the adaptive jitter buffer. Shows the stream's health and reports underruns to the server.
 * Counters are exposed on `window.__radioStats` for tests, and the last ~10 s of worklet reports
 * on `window.__radioTrace` (to see how an underrun came about).
 *
 * Live audio wants the live edge, not the past: the audio subscription is not `recoverable` (a
 * gap is skipped, the worklet crossfades) and `rewind`s a buffer's worth of chunks whenever it
 * starts afresh, on play and after a reconnect, so playback resumes at once — when the station
 * says the stream goes on right after its history (`live`); otherwise it starts at the live edge.
 * After a reconnect, what the rewind replays is played only if it is recent: a ring left from
 * before the format went quiet is not continued by the live stream (STALE_AT_START_MS).
 */
import workletUrl from './player-worklet.ts?worker&url';
import { AirwavesClient, type BinaryPublication, type RecoveredEvent, type Subscription } from '../../src/client/index.js';
import { PLAYER_START_MS } from '../../src/apps/radio/shared/adaptive-buffer.js';
import { CHUNK_MS, FLAG_DISCONTINUITY, CODEC_OPUS, decodeChunk, pcm16ToPlanar, type FormatName } from '../../src/apps/radio/shared/format.js';
// Type only: the worklet posts the buffer's own stats() object, so the page reads the same shape.
import type { JitterBufferStats as WorkletStats } from '../../src/apps/radio/shared/jitter-buffer.js';
import { hubUrl } from '../shared/hub-url.js';

interface StationInfo {
  id: string;
  title: string;
  mood: string;
  statusChannel: string;
  /** `live`: the stream goes on right after its history's newest chunk, so replaying them is safe. */
  formats: Record<FormatName, { channel: string; offset: number; epoch: string; live: boolean }>;
  /** Listener session token for health reports (short-lived; a new play fetches a new one). */
  listenerToken: string;
}

export interface RadioStats {
  station: string;
  format: FormatName | '';
  framesPlayed: number;
  underruns: number;
  bufferMs: number;
  tier: number;
  targetMs: number;
  jitterMs: number;
  peakJitterMs: number;
  latencyMs: number;
  chunksReceived: number;
  /** Chunks not played because they were stale when the stream (re)started (see STALE_AT_START_MS). */
  staleSkipped: number;
  /** Chunks behind the live edge this play asked the history for (0: the stream was not live; it starts at the edge). */
  rewound: number;
  gaps: number;
  playing: boolean;
}

declare global {
  interface Window {
    __radioStats: RadioStats;
    __radioTrace: { t: number; bufferMs: number; tier: number; underruns: number; chunks: number; playing: boolean }[];
    __radioPlayers: { created: number; contexts: number };
  }
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const playButton = $<HTMLButtonElement>('play');
const stationSelect = $<HTMLSelectElement>('station');
const volume = $<HTMLInputElement>('volume');
const stateLine = $('state');
const params = new URLSearchParams(location.search);

const stats: RadioStats = { station: '', format: '', framesPlayed: 0, underruns: 0, bufferMs: 0, tier: 0, targetMs: 0, jitterMs: 0, peakJitterMs: 0, latencyMs: NaN, chunksReceived: 0, staleSkipped: 0, rewound: 0, gaps: 0, playing: false };
window.__radioStats = stats;
window.__radioTrace = [];
window.__radioPlayers = { created: 0, contexts: 0 };
const TRACE_LENGTH = 100;

let ctx: AudioContext | null = null;
let node: AudioWorkletNode | null = null;
let gain: GainNode | null = null;
const client = new AirwavesClient({ url: hubUrl() });
let clockOffsetMs = 0; // server clock − local clock
let current: { info: StationInfo; format: FormatName; subs: Subscription[] } | null = null;
/** The stream skipped (a reconnect past the rewind, a new epoch): the next chunk starts afresh. */
let skipped = false;
/**
 * Audio older than this is not played when a stream (re)starts. A play asks for a rewind only
 * when the station says the stream goes on from its history (`live`); a resubscription after a
 * reconnect rewinds without asking, and the ring may then end with audio the live stream does not
 * continue (a format nobody received for 1.5 s stops being encoded; a restarted server): playing
 * it means a dropout right after. A live ring's rewind is the start tier (160 ms) old, plus delivery.
 * The first chunk young enough ends the check. Age alone cannot tell a ring that stopped a
 * moment ago from a live one, which is why a play asks the station instead.
 */
const STALE_AT_START_MS = 400;
/** Until a chunk young enough arrives after a (re)start: the replay may be stale (above). */
let starting = true;
let decoder: AudioDecoder | null = null;
const opusPending = new Map<number, { captureTs: number; discontinuity: boolean }>();
let reportedUnderruns = 0;
let reportTimer: number | undefined;

function setState(text: string): void {
  stateLine.textContent = text;
}

async function loadStations(): Promise<void> {
  const res = await fetch('/api/v1/radio/stations');
  const body = (await res.json()) as { stations: StationInfo[] };
  stationSelect.replaceChildren(...body.stations.map((s) => new Option(`${s.title} · ${s.mood}`, s.id)));
  const wanted = params.get('station');
  if (wanted && body.stations.some((s) => s.id === wanted)) stationSelect.value = wanted;
}

client.on('disconnected', () => current && setState('connection lost; reconnecting…'));
// The SDK resubscribes by itself; the page renews its listener session and clock.
client.on('connected', () => {
  const was = current;
  if (!was) return;
  void (async () => {
    await syncClock();
    was.info = await fetchStation(was.info.id);
    if (current === was) setState(`playing ${was.info.title} (${was.format === 'opus' ? 'Opus' : 'PCM'})`);
  })().catch((err: Error) => setState(err.message));
});

function onBinary(publication: BinaryPublication): void {
  if (!current || !node) return;
  const chunk = decodeChunk(publication.payload);
  stats.chunksReceived++;
  if (starting) {
    if (Date.now() + clockOffsetMs - chunk.captureTs > STALE_AT_START_MS) {
      stats.staleSkipped++;
      return;
    }
    starting = false;
  }
  // Capture time on the local clock, so the worklet's jitter and our latency share one clock.
  const discontinuity = (chunk.flags & FLAG_DISCONTINUITY) !== 0 || skipped;
  skipped = false;
  if (chunk.codec === CODEC_OPUS) {
    if (!decoder) return;
    if (discontinuity && decoder.state === 'configured') {
      decoder.reset();
      configureDecoder(decoder);
    }
    opusPending.set(chunk.seq, { captureTs: chunk.captureTs, discontinuity });
    if (opusPending.size > 200) opusPending.delete(opusPending.keys().next().value!);
    decoder.decode(new EncodedAudioChunk({ type: 'key', timestamp: chunk.seq * CHUNK_MS * 1000, data: chunk.payload }));
    return;
  }
  const left = new Float32Array(chunk.frames);
  const right = new Float32Array(chunk.frames);
  pcm16ToPlanar(chunk.payload, left, right, chunk.frames);
  node.port.postMessage({ type: 'chunk', seq: chunk.seq, captureTs: chunk.captureTs, left, right, frames: chunk.frames, discontinuity }, [left.buffer, right.buffer]);
}

function configureDecoder(d: AudioDecoder): void {
  d.configure({ codec: 'opus', sampleRate: 48_000, numberOfChannels: 2 });
}

function createDecoder(): AudioDecoder {
  const d = new AudioDecoder({
    output: (data) => {
      const seq = Math.round(data.timestamp / (CHUNK_MS * 1000));
      const meta = opusPending.get(seq);
      opusPending.delete(seq);
      const frames = data.numberOfFrames;
      const left = new Float32Array(frames);
      const right = new Float32Array(frames);
      data.copyTo(left, { planeIndex: 0, format: 'f32-planar' });
      data.copyTo(right, { planeIndex: data.numberOfChannels > 1 ? 1 : 0, format: 'f32-planar' });
      data.close();
      if (!meta || !node) return;
      node.port.postMessage({ type: 'chunk', seq, captureTs: meta.captureTs, left, right, frames, discontinuity: meta.discontinuity }, [left.buffer, right.buffer]);
    },
    error: (e) => setState(`Opus decoder error: ${e.message}`),
  });
  configureDecoder(d);
  return d;
}

async function pickFormat(): Promise<FormatName> {
  const forced = params.get('format');
  if (forced === 'pcm' || forced === 'opus') return forced;
  if (typeof AudioDecoder === 'undefined') return 'pcm';
  try {
    const support = await AudioDecoder.isConfigSupported({ codec: 'opus', sampleRate: 48_000, numberOfChannels: 2 });
    return support.supported ? 'opus' : 'pcm';
  } catch {
    return 'pcm';
  }
}

/** The server's clock against ours: the best of three samples. */
async function syncClock(): Promise<void> {
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const sample = await client.serverClock();
    if (sample.rttMs < best) {
      best = sample.rttMs;
      clockOffsetMs = sample.offsetMs;
    }
  }
}

async function fetchStation(id: string): Promise<StationInfo> {
  const res = await fetch(`/api/v1/radio/stations/${encodeURIComponent(id)}`);
  if (!res.ok) throw new Error(`station ${id}: HTTP ${res.status}`);
  return (await res.json()) as StationInfo;
}

/**
 * One player at a time: a fresh AudioContext with its worklet per play, and on pause or station
 * switch the old one is shut down completely (port detached, node disconnected, decoder and
 * context closed), so a dead player can neither flip the health panel nor report underruns.
 */
async function startAudio(): Promise<void> {
  await stopAudio();
  const context = new AudioContext({ sampleRate: 48_000, latencyHint: 'interactive' });
  ctx = context;
  await context.audioWorklet.addModule(workletUrl);
  if (ctx !== context) return; // stopped while the module loaded
  gain = context.createGain();
  gain.gain.value = Number(volume.value);
  gain.connect(context.destination);
  await context.resume();
}

async function stopAudio(): Promise<void> {
  const old = { ctx, node, decoder };
  ctx = null;
  node = null;
  gain = null;
  decoder = null;
  opusPending.clear();
  if (old.node) {
    old.node.port.onmessage = null;
    old.node.port.close();
    old.node.disconnect();
  }
  if (old.decoder && old.decoder.state !== 'closed') old.decoder.close();
  stats.playing = false;
  if (old.ctx && old.ctx.state !== 'closed') await old.ctx.close();
}

/** Players created in this page (a test reads it: one at a time means created − closed ≤ 1). */
let playersCreated = 0;

function newNode(): void {
  const player = new AudioWorkletNode(ctx!, 'radio-player', { numberOfInputs: 0, numberOfOutputs: 1, outputChannelCount: [2] });
  node = player;
  playersCreated++;
  window.__radioPlayers = { created: playersCreated, contexts: ctx ? 1 : 0 };
  // Underruns are counted per player: the new one starts from zero, and so do the reports.
  reportedUnderruns = 0;
  Object.assign(stats, { underruns: 0, framesPlayed: 0, bufferMs: 0, gaps: 0, staleSkipped: 0, latencyMs: NaN });
  player.connect(gain!);
  player.port.onmessage = (e: MessageEvent<WorkletStats & { type: string }>) => {
    if (e.data.type === 'stats' && player === node) onWorkletStats(e.data);
  };
}

function onWorkletStats(s: WorkletStats): void {
  stats.framesPlayed = s.framesPlayed;
  const trace = window.__radioTrace;
  trace.push({ t: Math.round(performance.now()), bufferMs: Math.round(s.bufferMs), tier: s.tier, underruns: s.underruns, chunks: stats.chunksReceived, playing: s.playing });
  if (trace.length > TRACE_LENGTH) trace.shift();
  stats.underruns = s.underruns;
  stats.bufferMs = s.bufferMs;
  stats.tier = s.tier;
  stats.targetMs = s.targetMs;
  stats.jitterMs = s.jitterMs;
  stats.peakJitterMs = s.peakJitterMs;
  stats.gaps = s.gaps;
  stats.playing = s.playing;
  if (Number.isFinite(s.headCaptureTs) && ctx) {
    // Server time now minus the capture time of what is about to play, plus the device's own delay.
    const deviceMs = ((ctx.outputLatency || 0) + (ctx.baseLatency || 0)) * 1000;
    stats.latencyMs = Date.now() + clockOffsetMs - s.headCaptureTs + deviceMs;
  }
  showHealth(s);
}

/** Plain words for the health panel; the technical values are in each tile's tooltip. */
function showHealth(s: WorkletStats): void {
  const tile = (id: string, text: string, detail: string) => {
    $(id).textContent = text;
    $(id).parentElement!.title = detail;
  };
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  tile('s-buffer', seconds(s.bufferMs), `buffered audio: ${Math.round(s.bufferMs)} ms (target ${s.targetMs} ms)`);
  tile('s-tier', s.tier === 0 ? 'snappy' : s.tier === 1 ? 'normal' : 'extra safe', `buffer tier ${s.tier} · ${s.targetMs} ms: the player holds more audio when the network is uneven`);
  tile('s-jitter', s.jitterMs < 5 ? 'steady' : s.jitterMs < 20 ? 'a little uneven' : 'uneven', `arrival jitter ${s.jitterMs.toFixed(1)} ms (peak ${s.peakJitterMs.toFixed(1)} ms)`);
  tile('s-underruns', s.underruns === 0 ? 'none' : String(s.underruns), `buffer underruns (silence inserted): ${s.underruns}`);
  tile('s-latency', Number.isFinite(stats.latencyMs) ? seconds(stats.latencyMs) : '–', `from the server's capture to your speaker: ${Number.isFinite(stats.latencyMs) ? Math.round(stats.latencyMs) : '?'} ms`);
  if (current) tile('s-format', current.format === 'opus' ? 'compressed' : 'uncompressed', current.format === 'opus' ? 'Opus, 96 kbit/s, decoded with WebCodecs' : '16-bit PCM, 1.5 Mbit/s');
}

function showServerStatus(s: Record<string, unknown>): void {
  $('s-lead').textContent = Number(s.underruns) > 0 ? 'catching up' : 'on time';
  $('s-lead').parentElement!.title = `server lead ${String(s.leadMs)} ms · tier ${String(s.tier)} · synthesis ${String(s.realTimeFactor)}× real time`;
  const l = s.listeners as { pcm: number; opus: number } | undefined;
  if (l) $('s-listeners').textContent = String(l.pcm + l.opus);
}

async function stopStream(): Promise<void> {
  const was = current;
  current = null;
  if (was) await Promise.allSettled(was.subs.map((sub) => sub.unsubscribe()));
}

async function startStream(stationId: string): Promise<void> {
  await client.connect();
  await syncClock();
  const info = await fetchStation(stationId);
  const format = await pickFormat();
  if (!ctx || node) await startAudio(); // a fresh player unless play() just made one
  if (format === 'opus') decoder = createDecoder();
  newNode();
  stats.station = info.id;
  stats.format = format;
  // Start a buffer's worth behind the live edge — the worklet's thick start (PLAYER_START_MS), so
  // playback begins at once (and again after a reconnect), when the stream goes on right after it. Otherwise (a format nobody received for a
  // while, a station just woken) the next chunk is up to one server lead away: replayed audio
  // would play out before it and drop out; the player buffers from the live edge instead.
  const rewind = info.formats[format].live ? Math.ceil(PLAYER_START_MS / CHUNK_MS) : 0;
  stats.rewound = rewind;
  // A skip (a reconnect past the rewind, a new epoch) starts afresh: a crossfade, and the age check again.
  const restarted = ({ recovered }: RecoveredEvent) => {
    if (!recovered) skipped = starting = true;
  };
  const audio = client.subscribe(info.formats[format].channel, { binary: onBinary, recovered: restarted }, { recoverable: false, rewind });
  // Status is a snapshot: the newest one matters, not the ones missed.
  const status = client.subscribe(info.statusChannel, { publication: (p) => showServerStatus(p.data as Record<string, unknown>) }, { recoverable: false });
  current = { info, format, subs: [audio, status] };
  skipped = false;
  starting = true;
  await Promise.all([audio.ready, status.ready]);
  setState(`playing ${info.title} (${format === 'opus' ? 'Opus' : 'PCM'})`);
  showNowPlaying(info, true);
}

/** What is on: the page's now-playing line and the OS media controls (Media Session). */
function showNowPlaying(info: StationInfo | null, playing: boolean): void {
  $('now-playing').textContent = info ? `${playing ? 'Now playing' : 'Paused'}: ${info.title}, a ${info.mood} ambient piece composed live on the server` : '';
  if (!('mediaSession' in navigator)) return;
  navigator.mediaSession.playbackState = playing ? 'playing' : info ? 'paused' : 'none';
  if (info) navigator.mediaSession.metadata = new MediaMetadata({ title: info.title, artist: 'Airwaves Radio', album: `${info.mood} · composed live` });
}

async function report(): Promise<void> {
  if (!current) return;
  const delta = stats.underruns - reportedUnderruns;
  if (delta <= 0) return;
  reportedUnderruns = stats.underruns;
  // The listener session token came with the station; reports without it are refused.
  await fetch(`/api/v1/radio/stations/${current.info.id}/reports`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${current.info.listenerToken}` },
    body: JSON.stringify({
      underruns: delta,
      bufferMs: Math.round(stats.bufferMs),
      jitterMs: Math.round(stats.jitterMs * 10) / 10,
      latencyMs: Number.isFinite(stats.latencyMs) ? Math.round(stats.latencyMs) : undefined,
      tier: stats.tier,
      format: current.format,
    }),
  }).catch(() => {});
}

let lastInfo: StationInfo | null = null;

async function play(): Promise<void> {
  setState('starting…');
  // The context first, as the click's own work: it is running before the stream starts.
  await startAudio();
  await startStream(stationSelect.value);
  lastInfo = current?.info ?? null;
  playButton.textContent = '❚❚ Pause';
  reportTimer ??= window.setInterval(() => void report(), 5000);
}

async function pause(): Promise<void> {
  await report(); // what the live player saw, before it goes
  await stopStream();
  await stopAudio();
  playButton.textContent = '▶ Play';
  setState('paused');
  showNowPlaying(lastInfo, false);
}

function toggle(): void {
  void (current ? pause() : play()).catch((err: Error) => setState(err.message));
}

playButton.addEventListener('click', toggle);

// Space plays and pauses, unless a field or button has the keyboard.
document.addEventListener('keydown', (e) => {
  if (e.code !== 'Space' || e.repeat) return;
  const t = e.target as HTMLElement;
  if (t.closest('input, select, textarea, button')) return;
  e.preventDefault();
  toggle();
});

if ('mediaSession' in navigator) {
  navigator.mediaSession.setActionHandler('play', () => void (current ? undefined : play().catch((err: Error) => setState(err.message))));
  navigator.mediaSession.setActionHandler('pause', () => void (current ? pause() : undefined));
  const step = (by: number) => {
    const n = stationSelect.options.length;
    if (!n) return;
    stationSelect.selectedIndex = (stationSelect.selectedIndex + by + n) % n;
    stationSelect.dispatchEvent(new Event('change'));
  };
  navigator.mediaSession.setActionHandler('nexttrack', () => step(1));
  navigator.mediaSession.setActionHandler('previoustrack', () => step(-1));
}

stationSelect.addEventListener('change', () => {
  if (!current) return;
  void (async () => {
    await report();
    await stopStream();
    await startAudio();
    await startStream(stationSelect.value).catch((err: Error) => setState(err.message));
    lastInfo = current?.info ?? lastInfo;
  })();
});

volume.addEventListener('input', () => {
  if (gain && ctx) gain.gain.setTargetAtTime(Number(volume.value), ctx.currentTime, 0.05);
});

loadStations().catch((err: Error) => setState(`could not load stations: ${err.message}`));
