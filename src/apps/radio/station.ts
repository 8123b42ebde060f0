/**
 * @module apps/radio/station
 * One live station: paces chunks onto the hub on a fixed schedule, keeps synthesis a safe lead
 * ahead of that schedule, and adapts the lead in four tiers.
 *
 * Timeline: chunk `seq` is due at t0 + seq·20 ms (wall clock). The station publishes each chunk
 * into the hub at its due time, once per format that has a listener — encoded once, fanned out
 * by the hub to every subscriber; the hub's channel history is the broadcast ring new listeners
 * start from. The capture timestamp in each chunk is its due time.
 *
 * Lead tiers: synthesis is requested for every chunk due before now + lead. The tier rises at
 * once on a server underrun (a chunk not ready when due) or when synthesis round trips plus their
 * jitter approach the lead, or when players report frequent underruns; it falls one step after
 * 30 s of calm. Tier changes never change what listeners hear.
 *
 * Resting: a station nobody has listened to for `restAfterMs` (no subscriber on its streams or
 * its status channel) stops composing and synthesising — its timers stop, the worker gets no
 * requests — so an idle server does not spend a core on music nobody hears. {@link Station.wake}
 * (a listener asking for the station over HTTP, or subscribing to one of its channels) puts it
 * back on air: the stream goes on from the next sequence number (no discontinuity in sequence),
 * the next chunk due one lead from the wake-up, both formats encoded for the format grace so the
 * listener who woke it finds its stream. What the hub's history still holds from before the rest
 * lets a player start at once; the first new chunk follows one lead (40–400 ms) later. A station
 * starts resting: it composes nothing until its first listener wakes it.
 *
 * Joining at the live edge: a player replays the newest chunks of a format's history to start at
 * once, which is only safe when the stream goes on right after them. {@link Station.continuesLive}
 * says so: the newest chunk published carried the format, and so does every chunk rendered since
 * (a format out of its grace, or a station that just woke, has a gap ahead). Asking for the
 * station (wake()) restarts the format grace, so a format that continues live when asked still
 * does when the listener's subscription lands.
 */
import type { HubApi } from '../../hub/hub-api.js';
import type { Logger } from '../../core/logger.js';
import { CHANNELS, CHUNK_FRAMES, CHUNK_MS, CODEC_OPUS, CODEC_PCM16, FLAG_DISCONTINUITY, SAMPLE_RATE, encodeChunk, radioChannels } from './shared/format.js';
import type { SynthEngine } from './synth/engine.js';
import type { RenderedChunk, StationSpec } from './synth/protocol.js';
import type { RadioMetrics } from './metrics.js';

/**
 * The lead never adds listener latency (chunks still go out at their due time), so the top tier
 * is generous: it is what rides out a worker thread starved of CPU on a busy machine.
 */
export const SERVER_LEAD_TIERS_MS = [40, 80, 160, 400] as const;
/** Chunks asked of the worker in one request at most (bounds one request's latency). */
const MAX_BATCH = 10;
/** Behind schedule by more than this, the timeline is moved instead of bursting to catch up. */
const RESYNC_MS = 2000;
const CALM_MS = 30_000;
const FORMAT_GRACE_MS = 1500;
/** Default of `restAfterMs` (AIRWAVES_RADIO_REST_AFTER_MS). */
export const REST_AFTER_MS = 30_000;

export const nowMs = (): number => performance.timeOrigin + performance.now();

export interface StationStatus {
  station: string;
  seq: number;
  tier: number;
  leadMs: number;
  /** Synthesised audio waiting to be published, ms. */
  depthMs: number;
  /** Publish-time jitter (EMA), ms. */
  jitterMs: number;
  synthLatencyMs: number;
  underruns: number;
  clientUnderruns: number;
  listeners: { pcm: number; opus: number };
  realTimeFactor: number;
  ts: number;
}

interface ReadyChunk {
  seq: number;
  chunk: RenderedChunk;
}

/** Distinct listener sessions reporting underruns within a minute before the lead rises. */
export const CLIENT_UNDERRUN_SESSIONS = 3;

export class Station {
  readonly channels: ReturnType<typeof radioChannels>;
  private t0 = 0;
  private nextPublishSeq = 0;
  private nextRenderSeq = 0;
  private readonly ready: ReadyChunk[] = [];
  private inFlight = false;
  private timer?: NodeJS.Timeout;
  private statusTimer?: NodeJS.Timeout;
  private running = false;
  /** On air (running) but composing nothing: nobody has listened for restAfterMs. */
  private resting = false;
  private lastAudienceAt = 0;
  // Start one tier up: a cold start on a busy machine is when synthesis is least predictable.
  private tierIndex = 2;
  private lastTroubleAt = 0;
  private lastTierChangeAt = 0;
  private underrunSeq = -1;
  private jitterEma = 0;
  private synthLatencyEma = 0;
  private synthJitterEma = 0;
  private lastPublished: Record<'pcm' | 'opus', number> = { pcm: -2, opus: -2 };
  private readonly lastListenedAt: Record<'pcm' | 'opus', number> = { pcm: -Infinity, opus: -Infinity };
  /** First seq of the newest unbroken run of requested chunks carrying each format (Infinity: broken). */
  private readonly encodedSince: Record<'pcm' | 'opus', number> = { pcm: Infinity, opus: Infinity };
  private phraseWindow: { at: number; phrases: number }[] = [];
  underruns = 0;
  clientUnderruns = 0;
  /** Listener session → when it last reported underruns (the last minute's reporters). */
  private recentClientUnderruns = new Map<string, number>();

  constructor(
    readonly spec: StationSpec & { title?: string },
    private readonly deps: { hub: HubApi; engine: SynthEngine; metrics: RadioMetrics; logger: Logger; restAfterMs?: number },
  ) {
    this.channels = radioChannels(spec.id);
  }

  get tier(): number {
    return this.tierIndex;
  }

  get leadMs(): number {
    return SERVER_LEAD_TIERS_MS[this.tierIndex];
  }

  private dueOf(seq: number): number {
    return this.t0 + seq * CHUNK_MS;
  }

  get isResting(): boolean {
    return this.resting;
  }

  start(): void {
    this.running = true;
    this.lastTroubleAt = this.lastTierChangeAt = this.lastAudienceAt = nowMs();
    this.recordTierMetrics();
    // Nobody can listen before the station exists: it goes on air with its first listener
    // (wake()), so a server nobody listens to never composes, not even for its first restAfterMs.
    this.resting = true;
    this.deps.metrics.resting.set({ station: this.spec.id }, 1);
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    if (this.statusTimer) clearInterval(this.statusTimer);
  }

  /**
   * Someone is about to listen: back on air if resting (the next chunk due one lead from now),
   * and either way the rest countdown and the format grace start again, so both formats are
   * encoded until the listener's subscription lands.
   */
  wake(): void {
    const now = nowMs();
    this.lastAudienceAt = now;
    this.lastListenedAt.pcm = this.lastListenedAt.opus = now;
    if (!this.running || !this.resting) return;
    this.resting = false;
    // The ring's newest audio is from before the rest: the stream no longer continues it on time.
    this.breakRuns();
    // The first time on air, the first chunk is due after the largest lead (as a start was before
    // stations started resting): the first requests of a fresh process are never late.
    const lead = this.nextPublishSeq === 0 ? SERVER_LEAD_TIERS_MS[SERVER_LEAD_TIERS_MS.length - 1] : this.leadMs;
    this.t0 = now + lead - this.nextPublishSeq * CHUNK_MS;
    this.lastTroubleAt = now;
    this.deps.metrics.resting.set({ station: this.spec.id }, 0);
    this.deps.logger.info({ station: this.spec.id, leadMs: this.leadMs }, 'radio station back on air');
    this.statusTimer = setInterval(() => this.publishStatus(), 1000);
    this.statusTimer.unref();
    this.tick();
  }

  /** Nobody listens and nothing is in flight: stop asking the worker for music until wake(). */
  private rest(): void {
    this.resting = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.statusTimer) clearInterval(this.statusTimer);
    this.statusTimer = undefined;
    // What was rendered ahead is dropped: the stream resumes from the next unpublished chunk.
    this.ready.length = 0;
    this.nextRenderSeq = this.nextPublishSeq;
    this.deps.metrics.resting.set({ station: this.spec.id }, 1);
    this.deps.logger.info({ station: this.spec.id, idleMs: this.restAfterMs }, 'radio station resting: nobody listens');
  }

  private get restAfterMs(): number {
    return this.deps.restAfterMs ?? REST_AFTER_MS;
  }

  private hasAudience(): boolean {
    const { hub } = this.deps;
    return hub.subscriberCount(this.channels.pcm) + hub.subscriberCount(this.channels.opus) + hub.subscriberCount(this.channels.status) > 0;
  }

  private tick = (): void => {
    this.timer = undefined;
    if (!this.running || this.resting) return;
    let now = nowMs();
    if (this.hasAudience()) this.lastAudienceAt = now;
    else if (now - this.lastAudienceAt > this.restAfterMs && !this.inFlight) return this.rest();
    if (this.ready.length === 0 && !this.inFlight && now - this.dueOf(this.nextPublishSeq) > RESYNC_MS) {
      // The process stalled (or the worker restarted): move the timeline rather than burst.
      this.t0 = now - this.nextPublishSeq * CHUNK_MS + this.leadMs;
      this.breakRuns();
      this.deps.logger.warn({ station: this.spec.id }, 'radio station fell behind schedule; timeline moved');
    }
    while (this.ready.length > 0 && this.dueOf(this.ready[0].seq) <= now) this.publish(this.ready.shift()!, now);
    now = nowMs();
    const due = this.dueOf(this.nextPublishSeq);
    if (this.ready.length === 0 && due <= now && this.underrunSeq !== this.nextPublishSeq) {
      this.underrunSeq = this.nextPublishSeq;
      this.underruns++;
      this.deps.metrics.underruns.inc({ station: this.spec.id, side: 'server' });
      this.raiseTier(now, 'server underrun');
    }
    this.requestSynthesis(now);
    this.schedule(now);
  };

  private schedule(now: number): void {
    if (!this.running || this.timer) return;
    const next = this.ready.length > 0 ? this.dueOf(this.ready[0].seq) : now + CHUNK_MS / 2;
    this.timer = setTimeout(this.tick, Math.max(0, Math.min(CHUNK_MS, next - now)));
  }

  private requestSynthesis(now: number): void {
    if (this.inFlight) return;
    const wantThrough = Math.floor((now + this.leadMs - this.t0) / CHUNK_MS);
    if (this.nextRenderSeq > wantThrough) return;
    const count = Math.min(MAX_BATCH, wantThrough - this.nextRenderSeq + 1);
    const formats = { pcm: this.wants('pcm', now), opus: this.wants('opus', now) };
    this.inFlight = true;
    const started = performance.now();
    const firstSeq = this.nextRenderSeq;
    for (const format of ['pcm', 'opus'] as const) {
      if (!formats[format]) this.encodedSince[format] = Infinity;
      else if (this.encodedSince[format] === Infinity) this.encodedSince[format] = firstSeq;
    }
    this.nextRenderSeq += count;
    this.deps.engine
      .render(this.spec.id, count, formats)
      .then((result) => {
        const latency = performance.now() - started;
        this.deps.metrics.synthesisLatency.observe({ station: this.spec.id }, latency / 1000);
        this.synthJitterEma += (Math.abs(latency - this.synthLatencyEma) - this.synthJitterEma) / 16;
        this.synthLatencyEma += (latency - this.synthLatencyEma) / 16;
        result.chunks.forEach((chunk, i) => this.ready.push({ seq: firstSeq + i, chunk }));
        this.notePhrases(result.phrasesComposed);
        this.deps.metrics.realTimeFactor.set(this.deps.engine.realTimeFactor);
      })
      .catch((err: Error) => {
        // The chunks were not rendered: ask again for the same range.
        this.nextRenderSeq = firstSeq;
        if (this.running) this.deps.logger.warn({ err: err.message, station: this.spec.id }, 'synthesis request failed');
      })
      .finally(() => {
        this.inFlight = false;
        if (!this.running || this.resting) return;
        const t = nowMs();
        this.adaptTier(t);
        if (this.timer) clearTimeout(this.timer);
        this.timer = undefined;
        this.tick();
      });
  }

  /**
   * A format is encoded while it has listeners, and for a short grace after the last one leaves:
   * a listener who reloads or hops back finds a continuous stream and a filled ring.
   */
  private wants(format: 'pcm' | 'opus', now: number): boolean {
    if (this.deps.hub.subscriberCount(this.channels[format]) > 0) {
      this.lastListenedAt[format] = now;
      return true;
    }
    return now - this.lastListenedAt[format] < FORMAT_GRACE_MS;
  }

  /** The audio published so far is not followed on schedule (a wake-up, a moved timeline). */
  private breakRuns(): void {
    this.encodedSince.pcm = this.encodedSince.opus = Infinity;
  }

  /**
   * Whether `format`'s history ends at the live edge and goes on without a gap: its newest chunk
   * is the newest published, and every chunk rendered since carries the format too. Only then
   * may a player start by replaying the history's newest chunks.
   */
  continuesLive(format: 'pcm' | 'opus'): boolean {
    const last = this.lastPublished[format];
    return this.running && !this.resting && last === this.nextPublishSeq - 1 && this.encodedSince[format] <= last;
  }

  private publish(item: ReadyChunk, now: number): void {
    const { seq, chunk } = item;
    const due = this.dueOf(seq);
    const late = Math.max(0, now - due);
    this.deps.metrics.deliveryJitter.observe({ station: this.spec.id }, late / 1000);
    this.jitterEma += (late - this.jitterEma) / 16;
    this.nextPublishSeq = seq + 1;
    const header = { seq, captureTs: due, frames: CHUNK_FRAMES, channels: CHANNELS, sampleRate: SAMPLE_RATE };
    if (chunk.pcm) {
      const flags = this.lastPublished.pcm === seq - 1 ? 0 : FLAG_DISCONTINUITY;
      this.send(this.channels.pcm, encodeChunk({ ...header, codec: CODEC_PCM16, flags }, chunk.pcm), 'pcm');
      this.lastPublished.pcm = seq;
    }
    if (chunk.opus) {
      const flags = this.lastPublished.opus === seq - 1 && !chunk.opusRestart ? 0 : FLAG_DISCONTINUITY;
      this.send(this.channels.opus, encodeChunk({ ...header, codec: CODEC_OPUS, flags }, chunk.opus), 'opus');
      this.lastPublished.opus = seq;
    }
  }

  private send(channel: string, bytes: Uint8Array, format: 'pcm' | 'opus'): void {
    this.deps.metrics.chunks.inc({ station: this.spec.id, format });
    Promise.resolve(this.deps.hub.publishBinary(channel, bytes)).catch((err: Error) => this.deps.logger.error({ err, channel }, 'radio publish failed'));
  }

  private recordTierMetrics(): void {
    this.deps.metrics.leadTier.set({ station: this.spec.id }, this.tierIndex);
    this.deps.metrics.leadMs.set({ station: this.spec.id }, this.leadMs);
  }

  private raiseTier(now: number, reason: string): void {
    this.lastTroubleAt = now;
    if (this.tierIndex >= SERVER_LEAD_TIERS_MS.length - 1) return;
    this.tierIndex++;
    this.lastTierChangeAt = now;
    this.recordTierMetrics();
    this.deps.logger.info({ station: this.spec.id, tier: this.tierIndex, leadMs: this.leadMs, reason }, 'radio lead tier raised');
  }

  /** Lead needed: one synthesis round trip plus four jitters of it, plus one chunk of timer slack. */
  private neededLeadMs(): number {
    return this.synthLatencyEma + 4 * this.synthJitterEma + CHUNK_MS;
  }

  private adaptTier(now: number): void {
    if (this.neededLeadMs() > this.leadMs) return this.raiseTier(now, 'synthesis latency');
    const cutoff = now - 60_000;
    for (const [session, at] of this.recentClientUnderruns) if (at <= cutoff) this.recentClientUnderruns.delete(session);
    // Distinct listeners, not reports: one player (or one client faking many reports) cannot
    // move the lead, and so the latency, of everyone on the station.
    if (this.recentClientUnderruns.size >= CLIENT_UNDERRUN_SESSIONS && now - this.lastTierChangeAt > 5000) {
      this.recentClientUnderruns.clear();
      return this.raiseTier(now, 'client underruns');
    }
    if (
      this.tierIndex > 0 &&
      now - this.lastTroubleAt > CALM_MS &&
      now - this.lastTierChangeAt > CALM_MS &&
      this.neededLeadMs() < SERVER_LEAD_TIERS_MS[this.tierIndex - 1] * 0.7
    ) {
      this.tierIndex--;
      this.lastTierChangeAt = now;
      this.recordTierMetrics();
    }
  }

  /**
   * A listener session reports underruns; when several distinct listeners do within a minute,
   * the server keeps a larger lead.
   */
  reportClientUnderruns(count: number, session: string): void {
    if (count <= 0) return;
    this.clientUnderruns += count;
    this.deps.metrics.underruns.inc({ station: this.spec.id, side: 'client' }, count);
    // Bounded: at most one entry per session, and sessions are bounded by who holds a token.
    if (this.recentClientUnderruns.size < 10_000 || this.recentClientUnderruns.has(session)) this.recentClientUnderruns.set(session, nowMs());
  }

  private notePhrases(total: number): void {
    const now = nowMs();
    this.phraseWindow.push({ at: now, phrases: total });
    while (this.phraseWindow.length > 2 && now - this.phraseWindow[0].at > 60_000) this.phraseWindow.shift();
    const first = this.phraseWindow[0];
    const seconds = (now - first.at) / 1000;
    if (seconds > 1) this.deps.metrics.phraseRate.set({ station: this.spec.id }, (total - first.phrases) / seconds);
  }

  listeners(): { pcm: number; opus: number } {
    return { pcm: this.deps.hub.subscriberCount(this.channels.pcm), opus: this.deps.hub.subscriberCount(this.channels.opus) };
  }

  status(): StationStatus {
    return {
      station: this.spec.id,
      seq: this.nextPublishSeq,
      tier: this.tierIndex,
      leadMs: this.leadMs,
      depthMs: this.ready.length * CHUNK_MS,
      jitterMs: Math.round(this.jitterEma * 100) / 100,
      synthLatencyMs: Math.round(this.synthLatencyEma * 100) / 100,
      underruns: this.underruns,
      clientUnderruns: this.clientUnderruns,
      listeners: this.listeners(),
      realTimeFactor: Math.round(this.deps.engine.realTimeFactor * 10) / 10,
      ts: Date.now(),
    };
  }

  private publishStatus(): void {
    if (this.deps.hub.subscriberCount(this.channels.status) === 0) return;
    this.deps.hub.publish(this.channels.status, this.status()).catch((err: Error) => this.deps.logger.error({ err }, 'radio status publish failed'));
  }
}
