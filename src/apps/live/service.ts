/**
 * @module apps/live/service
 * The live app's core: decides who may publish (key check, per-IP throttle of failed keys, one
 * broadcast per key), runs each accepted broadcast through its lifecycle in the database
 * (ACTIVE on publish, COMPLETED when the publisher stops, FAILED when ingest breaks), samples
 * ingest health and viewers every few seconds into the time series and the metrics, and pushes
 * the stream events on the hub. Both ingest paths use it: the embedded RTMP listener and
 * nginx-rtmp's callbacks.
 *
 * The sampler runs from the first live stream to the end of the last, and the batch writers arm a
 * write only while something waits for one: with no stream and no viewer the app has no timer, so
 * an idle server is not woken by it ({@link LiveService.armedTimers}).
 */
import { TokenBucket } from '../../core/token-bucket.js';
import type { Logger } from '../../core/logger.js';
import type { HubApi } from '../../hub/hub-api.js';
import { Broadcast } from './broadcast.js';
import { LOBBY_CHANNEL, statsChannel, viewerChannel, type LiveEvent } from './events.js';
import { forgetStream, type LiveMetrics } from './metrics.js';
import type { PublishDecision, PublishRequest, SessionObserver } from './rtmp/session.js';
import type { LiveStore, StreamRow } from './store.js';
import type { SampleView, StreamView } from './types.js';
import { ViewerRegistry } from './viewers.js';
import { LOOPBACK } from './access.js';
import { ViewerSessionLog } from './viewer-sessions.js';
import { SampleLog, type SampleRow } from './sample-log.js';
import { Transcoder } from './abr/transcoder.js';
import type { RenditionSpec } from './abr/ladder.js';

/**
 * How often the waiting time-series rows are written (./sample-log.ts): a row a minute per stream
 * costs nothing next to one INSERT per tick; history reads include the rows still waiting, and a
 * stream's rows are written when it ends, so only a crash can cost the last half-minute.
 */
const SAMPLE_WRITE_EVERY_MS = 30_000;
const STREAM_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface LiveSettings {
  partTargetMs: number;
  segmentTargetMs: number;
  windowSegments: number;
  sampleIntervalMs: number;
  hlsViewerTimeoutMs: number;
  viewerFlushMs: number;
  /** How often queued viewer-session joins and leaves are written (apps/live/viewer-sessions). */
  viewerSessionFlushMs: number;
  keyFailuresPerMinute: number;
  /** RTMP application name publishers use (rtmp://host/<app>/<key>). */
  rtmpApp: string;
  /** The ABR ladder (apps/live/abr); no specs: remux only. */
  abr: { specs: RenditionSpec[]; preset: string };
  /** Where the server mounted the app's routes (its scope's prefix, `/api/v1/streams` by default). */
  apiPrefix: string;
}

interface LiveBroadcast {
  row: StreamRow;
  /** Null when nginx-rtmp does the ingest (no media passes through this process). */
  media: Broadcast | null;
  startedAt: number;
  quality: string;
  lastSegmentAt: number;
  ending: boolean;
  /** The peak last written to the stream's row (the sampler writes it only when it grows). */
  storedPeak?: number;
}

export class LiveService {
  readonly viewers: ViewerRegistry;
  private readonly live = new Map<string, LiveBroadcast>();
  /** Ended broadcasts' media, kept a while so players fetch the last parts and see ENDLIST. */
  private readonly recent = new Map<string, Broadcast>();
  private readonly failures = new Map<string, TokenBucket>();
  /** Runs while some stream is live (started with the first, stopped after the last). */
  private sampler: NodeJS.Timeout | null = null;
  /** Viewer sessions go to the database in batches, off every request's path. */
  private readonly sessions: ViewerSessionLog;
  /** The streams' time series goes to the database in batches too (./sample-log.ts). */
  private readonly samples: SampleLog;
  /** In-process listeners of every stream event (the WebSocket door). */
  readonly listeners = new Set<(streamId: string, event: LiveEvent) => void>();

  constructor(
    readonly store: LiveStore,
    private readonly hub: HubApi,
    private readonly metrics: LiveMetrics,
    private readonly log: Logger,
    readonly settings: LiveSettings,
  ) {
    this.viewers = new ViewerRegistry({
      pollTimeoutMs: settings.hlsViewerTimeoutMs,
      flushMs: settings.viewerFlushMs,
      onChange: (c) => {
        this.metrics.streamViewers.set({ stream: c.streamId }, c.viewers);
        this.metrics.peakViewers.set({ stream: c.streamId }, c.peak);
        this.emit(c.streamId, { type: 'viewer_count_changed', streamId: c.streamId, viewers: c.viewers, peak: c.peak, at: new Date().toISOString() });
      },
      onJoin: (streamId, viewer, transport) => {
        if (this.live.has(streamId)) this.sessions.opened(streamId, viewer.slice(0, 120), transport);
      },
      onLeave: (streamId, viewer, transport) => {
        // After a stream ends its sessions are closed all at once (end): nothing to queue.
        if (this.live.has(streamId)) this.sessions.closed(streamId, viewer.slice(0, 120), transport);
      },
    });
    this.sessions = new ViewerSessionLog(store, {
      flushMs: settings.viewerSessionFlushMs,
      maxPending: 50_000,
      chunkRows: 250, // short statements: the embedded database answers one at a time, and other queries wait behind each
      onDropped: (kind) => this.metrics.viewerSessionsDropped.inc({ kind }),
      onFailed: (err, rows) => {
        this.metrics.viewerSessionsDropped.inc({ kind: 'failed' }, rows);
        this.log.warn({ err, rows }, 'viewer sessions not recorded');
      },
    });
    this.samples = new SampleLog(store, {
      writeEveryMs: SAMPLE_WRITE_EVERY_MS,
      maxPending: 100_000,
      onDropped: (rows) => this.metrics.samplesDropped.inc(rows),
      onFailed: (err, rows) => this.log.warn({ err, rows }, 'stream samples not stored yet (kept for the next write)'),
    });
  }

  /**
   * The timers this app has armed now, by what they are for: none while nothing streams and nobody
   * watches (each one would wake an otherwise idle process; test/live/idle checks it).
   */
  armedTimers(): string[] {
    const armed: [string, boolean][] = [
      ['sampler', this.sampler !== null],
      ['sample writes', this.samples.scheduled],
      ['viewer-session writes', this.sessions.scheduled],
      ['HLS viewer sweep', this.viewers.sweeping],
    ];
    return armed.filter(([, on]) => on).map(([name]) => name);
  }

  private startSampler(): void {
    if (this.sampler) return;
    this.sampler = setInterval(() => this.sample(), this.settings.sampleIntervalMs);
    this.sampler.unref();
  }

  private stopSampler(): void {
    if (this.sampler) clearInterval(this.sampler);
    this.sampler = null;
  }

  get activeCount(): number {
    return this.live.size;
  }

  broadcastOf(streamId: string): Broadcast | null {
    return this.live.get(streamId)?.media ?? this.recent.get(streamId) ?? null;
  }

  /** The live broadcast of a key, if any (revoking a key ends it). */
  liveStreamOfKey(keyId: string): string | null {
    for (const [id, b] of this.live) if (b.row.key_id === keyId) return id;
    return null;
  }

  isLive(streamId: string): boolean {
    return this.live.has(streamId);
  }

  /** The RTMP listener's view of this service. */
  rtmpObserver(): SessionObserver {
    return {
      authorize: (req) => this.authorizeRtmp(req),
      onProtocolError: (kind, ip, err) => {
        this.metrics.rtmpProtocolErrors.inc({ kind });
        this.log.warn({ ip, kind, reason: err.message }, 'RTMP connection closed: malformed input');
      },
      onDropped: (kind) => this.metrics.rtmpDropped.inc({ kind }),
      onConnectionRefused: (reason, ip, detail) => {
        this.metrics.rtmpRejected.inc({ reason });
        this.log.warn({ ip, reason }, `RTMP connection refused: ${detail}`);
      },
    };
  }

  /**
   * The key check both ingest paths share: refuses while the address is throttled, an unknown or
   * revoked key, and a key already live. Returns the stream now ACTIVE.
   */
  async admit(key: string, ip: string, ingest: 'embedded' | 'nginx'): Promise<{ ok: true; row: StreamRow } | { ok: false; code: 'BadName' | 'Throttled'; reason: string }> {
    const bucket = this.failures.get(ip);
    if (bucket && bucket.available() < 1) return this.refuse('throttled', ip, 'Throttled', `too many bad stream keys from ${ip}; retry in a minute`);
    const found = key ? await this.store.findKey(key) : undefined;
    if (!found) {
      let b = this.failures.get(ip);
      if (!b) {
        b = new TokenBucket({ capacity: this.settings.keyFailuresPerMinute, refillPerSecond: this.settings.keyFailuresPerMinute / 60 });
        this.failures.set(ip, b);
        if (this.failures.size > 10_000) this.failures.delete(this.failures.keys().next().value!);
      }
      b.take(1);
      return this.refuse(key ? 'bad_key' : 'no_key', ip, 'BadName', key ? 'unknown or revoked stream key' : 'no stream key in the publish name');
    }
    const row = await this.store.startStream(found, ingest);
    if (!row) return this.refuse('already_live', ip, 'BadName', 'this key is already live');
    return { ok: true, row };
  }

  private refuse(reason: string, ip: string, code: 'BadName' | 'Throttled', message: string): { ok: false; code: 'BadName' | 'Throttled'; reason: string } {
    this.metrics.rtmpRejected.inc({ reason });
    this.log.warn({ ip, reason }, `publish refused: ${message}`);
    return { ok: false, code, reason: message };
  }

  private async authorizeRtmp(req: PublishRequest): Promise<PublishDecision> {
    if (req.app !== this.settings.rtmpApp) {
      this.metrics.rtmpRejected.inc({ reason: 'bad_app' });
      this.log.warn({ ip: req.ip, app: req.app }, `publish refused: application "${req.app}" (publish to rtmp://host/${this.settings.rtmpApp}/<key>)`);
      return { ok: false, code: 'BadName', reason: `unknown application "${req.app}"` };
    }
    const relayed = req.name.split('?')[0] ?? '';
    if (STREAM_ID.test(relayed)) return this.authorizeRelay({ ...req, name: relayed });
    const admitted = await this.admit(req.name, req.ip, 'embedded');
    if (!admitted.ok) return admitted;
    const media = this.mediaFor(admitted.row);
    this.started(admitted.row, media);
    return { ok: true, sink: media };
  }

  /**
   * nginx-rtmp relaying a stream it ingests (`push` in ops/nginx-rtmp/nginx.conf), published under
   * the stream id its on_publish was answered with: the media of an ACTIVE nginx-ingested stream
   * that has none yet. Loopback only, like the callbacks themselves; the lifecycle stays nginx's.
   */
  private authorizeRelay(req: PublishRequest): PublishDecision {
    const b = this.live.get(req.name);
    const why = !LOOPBACK.test(req.ip) ? 'relays come from loopback' : !b || b.row.ingest !== 'nginx' ? 'no nginx-ingested stream is live under this id' : b.media ? 'this stream already has its media' : null;
    if (why || !b) return this.refuse('bad_relay', req.ip, 'BadName', why ?? 'not a relay');
    b.media = this.mediaFor(b.row);
    this.log.info({ streamId: b.row.id }, 'nginx-rtmp relays the media of the stream');
    return { ok: true, sink: b.media };
  }

  /** A broadcast's media pipeline; its end (publisher or relay gone) ends the stream. */
  private mediaFor(row: StreamRow): Broadcast {
    const media = this.sourceFor(row);
    if (this.settings.abr.specs.length) media.tap = this.ladderFor(row, media);
    return media;
  }

  private ladderFor(row: StreamRow, media: Broadcast): Transcoder {
    return new Transcoder({
      specs: this.settings.abr.specs,
      preset: this.settings.abr.preset,
      partTargetMs: this.settings.partTargetMs,
      segmentTargetMs: this.settings.segmentTargetMs,
      windowSegments: this.settings.windowSegments,
      source: media.segmenter,
      log: this.log.child({ streamId: row.id }),
      onDropped: (frames) => this.metrics.abrDropped.inc(frames),
      onFailed: (reason) => this.metrics.abrFailures.inc({ reason }),
      onRunningChange: (delta) => this.metrics.abrRenditions.inc(delta),
    });
  }

  private sourceFor(row: StreamRow): Broadcast {
    return new Broadcast({
      partTargetMs: this.settings.partTargetMs,
      segmentTargetMs: this.settings.segmentTargetMs,
      windowSegments: this.settings.windowSegments,
      onPart: (part, encodeMs) => {
        this.metrics.segmentGeneration.observe(encodeMs / 1000);
        this.metrics.ingestLatency.observe(Math.max(0, part.availableAt - part.firstArrivalAt) / 1000);
      },
      onSegment: () => {
        const b = this.live.get(row.id);
        if (b) b.lastSegmentAt = Date.now();
      },
      onBadPayload: (kind, err) => {
        this.metrics.badPayloads.inc({ kind });
        this.log.warn({ streamId: row.id, kind, reason: err.message }, 'media payload skipped');
      },
      onEnd: (reason, detail) => {
        const failed = reason === 'error' || (reason === 'disconnect' && detail !== undefined);
        this.end(row.id, failed ? 'FAILED' : 'COMPLETED', reason, detail ?? null).catch((err: Error) => this.log.error({ err, streamId: row.id }, 'stream end not recorded'));
      },
    });
  }

  /** Registers a broadcast as live and announces it. */
  started(row: StreamRow, media: Broadcast | null): void {
    const now = Date.now();
    this.live.set(row.id, { row, media, startedAt: now, quality: '', lastSegmentAt: now, ending: false });
    this.startSampler();
    this.metrics.activeStreams.set(this.live.size);
    this.log.info({ streamId: row.id, ingest: row.ingest }, 'stream ACTIVE');
    this.emit(row.id, { type: 'stream_started', streamId: row.id, stream: this.view(row), at: new Date(now).toISOString() });
  }

  /** Ends a live broadcast (publisher stopped, ingest failed, or DELETE). Idempotent. */
  async end(streamId: string, status: 'COMPLETED' | 'FAILED', reason: string, detail: string | null = null): Promise<StreamRow | null> {
    const b = this.live.get(streamId);
    if (b?.ending) return null;
    if (b) b.ending = true;
    const peak = this.viewers.peak(streamId);
    if (b?.media) {
      b.media.segmenter.finish();
      b.media.disconnect();
      this.recent.set(streamId, b.media);
      setTimeout(() => this.recent.delete(streamId), Math.max(30_000, this.settings.hlsViewerTimeoutMs * 2)).unref();
    }
    const row = await this.store.endStream(streamId, status, peak, status === 'FAILED' ? (detail ?? reason) : null);
    this.live.delete(streamId);
    if (this.live.size === 0) this.stopSampler();
    this.metrics.activeStreams.set(this.live.size);
    this.metrics.streamEnds.inc({ status, reason });
    if (b?.quality) this.metrics.streamsByHeight.dec({ height: b.quality.split('x')[1] ?? '0' });
    if (b) this.metrics.streamDuration.observe((Date.now() - b.startedAt) / 1000);
    forgetStream(this.metrics, streamId);
    await this.sessions.flush(); // the joins still queued, so the close below ends them too
    await this.samples.flush(); // the stream's history is complete once it has ended
    await this.store.closeAllViewerSessions(streamId).catch(() => {});
    // Viewers keep the count until they leave; the stream's entry goes once its players are gone.
    setTimeout(() => this.viewers.forget(streamId), this.settings.hlsViewerTimeoutMs).unref();
    if (!row) return null;
    this.log.info({ streamId, status, reason, detail }, `stream ${status}`);
    const view = this.view(row);
    this.emit(streamId, { type: 'stream_ended', streamId, status, durationMs: view.durationMs, peakViewers: view.peakViewers, reason: row.failure_reason, at: new Date().toISOString() });
    return row;
  }

  /** The stream as the API shows it. */
  view(row: StreamRow): StreamView {
    const started = row.started_at ? new Date(row.started_at).getTime() : null;
    const ended = row.ended_at ? new Date(row.ended_at).getTime() : null;
    const live = this.live.has(row.id);
    const base = `${this.settings.apiPrefix}/${row.id}/media`;
    return {
      id: row.id,
      keyId: row.key_id,
      owner: row.owner,
      title: row.title,
      status: row.status,
      ingest: row.ingest,
      createdAt: new Date(row.created_at).toISOString(),
      startedAt: started ? new Date(started).toISOString() : null,
      endedAt: ended ? new Date(ended).toISOString() : null,
      durationMs: started ? (ended ?? Date.now()) - started : null,
      failureReason: row.failure_reason,
      viewers: this.viewers.count(row.id),
      peakViewers: Math.max(row.peak_viewers, live ? this.viewers.peak(row.id) : 0),
      codecs: row.codecs,
      width: row.width,
      height: row.height,
      playback: { llhls: `${base}/index.m3u8`, hls: `${base}/plain.m3u8`, dash: `${base}/manifest.mpd`, master: `${base}/master.m3u8` },
    };
  }

  private emit(streamId: string, event: LiveEvent): void {
    if (event.type !== 'stream_health') for (const listener of this.listeners) listener(streamId, event);
    const channels = event.type === 'stream_started' || event.type === 'stream_ended' ? [viewerChannel(streamId), statsChannel(streamId), LOBBY_CHANNEL] : event.type === 'stream_health' ? [statsChannel(streamId)] : [viewerChannel(streamId), statsChannel(streamId)];
    for (const channel of channels) {
      this.metrics.broadcasts.inc({ type: event.type });
      this.hub.publish(channel, event).catch((err: Error) => {
        this.metrics.broadcastErrors.inc({ type: event.type });
        this.log.warn({ err, channel, type: event.type }, 'stream event not published');
      });
    }
  }

  /**
   * Every few seconds: one time-series row per live stream, gauges, health to the dashboard. The
   * rows wait in the sample log, which writes every stream's in one INSERT now and then, and a
   * stream's peak is queued only when it grew: a statement per stream and tick (and then one per
   * tick) through the embedded database (PGlite, WASM in a worker) was the largest CPU cost of
   * ingest, above the remux itself (bench live ingest, --cpu-prof).
   */
  private sample(): void {
    const now = Date.now();
    const rows: SampleRow[] = [];
    for (const [streamId, b] of this.live) {
      if (b.ending) continue;
      const viewers = this.viewers.count(streamId);
      this.metrics.viewers.observe(viewers);
      const peak = this.viewers.peak(streamId);
      this.metrics.peakViewers.set({ stream: streamId }, peak);
      this.metrics.streamViewers.set({ stream: streamId }, viewers);
      if (!b.media) continue;
      const health = b.media.health(now);
      this.metrics.ingestBitrate.set({ stream: streamId }, health.bitrateKbps);
      this.metrics.droppedFrames.set({ stream: streamId }, health.droppedFrames);
      this.metrics.segmentInterval.set({ stream: streamId }, (now - b.lastSegmentAt) / 1000);
      const quality = health.width ? `${health.width}x${health.height}` : '';
      if (quality && quality !== b.quality) {
        if (b.quality) this.metrics.streamsByHeight.dec({ height: b.quality.split('x')[1]! });
        this.metrics.streamsByHeight.inc({ height: String(health.height) });
        b.quality = quality;
        this.store.describeMedia(streamId, { codecs: health.codecs, width: health.width, height: health.height }).catch(() => {});
        this.emit(streamId, { type: 'quality_changed', streamId, width: health.width, height: health.height, codecs: health.codecs, bitrateKbps: health.bitrateKbps, at: new Date(now).toISOString() });
      }
      this.emit(streamId, { type: 'stream_health', streamId, viewers, health, at: new Date(now).toISOString() });
      rows.push({ streamId, at: new Date(now), viewers, bitrateKbps: health.bitrateKbps, fps: health.fps, droppedFrames: health.droppedFrames, segmentMs: health.lastSegmentMs });
      if (peak > (b.storedPeak ?? 0)) {
        this.samples.peak(streamId, peak);
        b.storedPeak = peak;
      }
    }
    this.samples.add(rows);
  }

  /** A stream's time series within [from, to]: what the database holds, then the rows not written yet. */
  async history(streamId: string, from: Date | null, to: Date | null, limit: number): Promise<SampleView[]> {
    const stored = await this.store.samples(streamId, from, to, limit);
    // A row is one (stream, at): one whose write landed while this read ran is in both lists once.
    const storedAt = new Set(stored.map((s) => s.at));
    const waiting = this.samples.waiting(streamId, from, to).filter((s) => !storedAt.has(s.at));
    if (!waiting.length) return stored;
    return [...stored, ...waiting].sort((a, b) => Date.parse(a.at) - Date.parse(b.at)).slice(0, limit);
  }

  async close(): Promise<void> {
    this.stopSampler();
    for (const id of [...this.live.keys()]) await this.end(id, 'FAILED', 'shutdown', 'the server shut down during the broadcast').catch(() => {});
    this.viewers.close();
    await this.sessions.close();
    await this.samples.close();
  }
}
