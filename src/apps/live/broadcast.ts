/**
 * @module apps/live/broadcast
 * One live broadcast in memory: takes an accepted publisher's FLV payloads, remuxes H.264 and
 * AAC into the segmenter (no re-encoding), and keeps the ingest health the dashboard and the
 * metrics read (bitrate, frame rate, dropped frames, last segment time). Bad payloads are
 * counted and skipped: one corrupt frame does not end a stream.
 */
import type { Amf0Value } from './rtmp/amf0.js';
import type { MediaSink } from './rtmp/session.js';
import { MediaError, parseAudioSpecificConfig, parseAudioTag, parseAvcConfig, parseVideoTag } from './media/flv.js';
import { RateWindow } from './rate-window.js';
import { Segmenter, type Part, type Segment } from './media/segmenter.js';
import type { ManifestInfo } from './media/manifests.js';
import type { Rendition } from './abr/ladder.js';

/** One rendition of the ABR ladder and the media it produces (a Broadcast of its own). */
export interface RunningRendition {
  rendition: Rendition;
  media: Broadcast;
}

/**
 * Sees the source's payloads before the remuxer releases them (the ABR ladder, apps/live/abr):
 * it must copy what it keeps.
 */
export interface MediaTap {
  readonly renditions: ReadonlyMap<string, RunningRendition>;
  videoConfig(timestamp: number, payload: Buffer, width: number, height: number): void;
  video(timestamp: number, payload: Buffer, keyframe: boolean): void;
  audio(timestamp: number, payload: Buffer, config: boolean): void;
  end(): void;
}

export interface BroadcastOptions {
  partTargetMs: number;
  segmentTargetMs: number;
  windowSegments: number;
  onPart?(part: Part, encodeMs: number): void;
  onSegment?(segment: Segment): void;
  /** A payload was skipped (kind: empty | codec | corrupt). */
  onBadPayload?(kind: MediaError['kind'], err: MediaError): void;
  onEnd(reason: 'unpublish' | 'disconnect' | 'error', detail?: string): void;
  /** See SegmenterOptions.leader (an ABR rendition follows its source's timeline and cuts). */
  leader?: Segmenter;
}

export interface IngestHealth {
  bitrateKbps: number;
  fps: number;
  droppedFrames: number;
  badPayloads: number;
  lastSegmentMs: number | null;
  width: number;
  height: number;
  codecs: string;
}

const NO_RENDITIONS: ReadonlyMap<string, RunningRendition> = new Map();

/** The rates are averaged over the last two seconds. */
const RATE_WINDOW_MS = 2000;

export class Broadcast implements MediaSink {
  readonly segmenter: Segmenter;
  metadata: Record<string, Amf0Value> = {};
  private videoCodec = '';
  private audioCodec = '';
  private width = 0;
  private height = 0;
  private readonly bytes = new RateWindow(RATE_WINDOW_MS);
  private readonly frames = new RateWindow(RATE_WINDOW_MS);
  droppedFrames = 0;
  badPayloads = 0;
  private lastVideoTs = -1;
  private lastSegmentMs: number | null = null;
  /** Wall clock of the last media message (ingest stall detection). */
  lastMediaAt = Date.now();
  /** `manifestInfo` of the segmenter's current version. */
  private info: { version: number; value: ManifestInfo } | null = null;
  /** The ABR ladder fed from this broadcast, when one is configured. */
  tap: MediaTap | null = null;

  constructor(private readonly options: BroadcastOptions) {
    this.segmenter = new Segmenter({
      partTargetMs: options.partTargetMs,
      segmentTargetMs: options.segmentTargetMs,
      windowSegments: options.windowSegments,
      onPart: options.onPart,
      ...(options.leader ? { leader: options.leader } : {}),
      onSegment: (s) => {
        this.lastSegmentMs = s.availableAt - s.wallClockStart;
        options.onSegment?.(s);
      },
    });
  }

  onMetadata(meta: Record<string, Amf0Value>): void {
    this.metadata = meta;
  }

  onVideo(timestamp: number, payload: Buffer, release?: () => void): void {
    this.count(payload.length);
    try {
      const tag = parseVideoTag(payload);
      if (tag.kind === 'config') {
        const c = parseAvcConfig(tag.avcC);
        this.segmenter.video = { avcC: tag.avcC, width: c.width, height: c.height };
        [this.videoCodec, this.width, this.height] = [c.codec, c.width, c.height];
        this.tap?.videoConfig(timestamp, payload, c.width, c.height);
      } else if (tag.kind === 'frame') {
        if (!this.segmenter.video) return this.drop();
        // A timestamp going backwards would make a negative sample duration: drop the frame.
        if (timestamp < this.lastVideoTs) return this.drop();
        this.lastVideoTs = timestamp;
        this.frames.add(1, this.lastMediaAt);
        this.tap?.video(timestamp, payload, tag.keyframe);
        // The segmenter releases the staging memory once the frame is in a fragment.
        this.segmenter.pushVideo(timestamp, tag.compositionMs, tag.keyframe, tag.data, release);
        release = undefined;
      }
    } catch (err) {
      this.bad(err);
    } finally {
      release?.(); // config records are copied, dropped and bad frames are done with
    }
  }

  onAudio(timestamp: number, payload: Buffer, release?: () => void): void {
    this.count(payload.length);
    try {
      const tag = parseAudioTag(payload);
      if (tag.kind === 'config') {
        const c = parseAudioSpecificConfig(tag.asc);
        this.audioCodec = c.codec;
        if (!this.segmenter.init) this.segmenter.audio = { asc: tag.asc, sampleRate: c.sampleRate, channels: c.channels };
        this.tap?.audio(timestamp, payload, true);
      } else {
        this.tap?.audio(timestamp, payload, false);
        this.segmenter.pushAudio(timestamp, tag.data, release);
        release = undefined;
      }
    } catch (err) {
      this.bad(err);
    } finally {
      release?.();
    }
  }

  /**
   * How long the publisher's next bytes can wait unread (ms; apps/live/rtmp/server): until the
   * open part can close. 0 with an ABR ladder, whose encoders want the frames as they come.
   */
  msUntilNeeded(): number {
    return this.tap ? 0 : this.segmenter.msUntilNextCut;
  }

  private disconnectPublisher: (() => void) | null = null;

  attach(disconnect: () => void): void {
    this.disconnectPublisher = disconnect;
  }

  /** Closes the publisher's connection (the stream was ended from the API or its key revoked). */
  disconnect(): void {
    this.disconnectPublisher?.();
  }

  /** The ABR renditions made from this broadcast, by name (`720p`); none without a ladder. */
  get renditions(): ReadonlyMap<string, RunningRendition> {
    return this.tap?.renditions ?? NO_RENDITIONS;
  }

  onEnd(reason: 'unpublish' | 'disconnect' | 'error', detail?: string): void {
    this.tap?.end();
    this.segmenter.finish();
    this.options.onEnd(reason, detail);
  }

  private count(n: number): void {
    const now = Date.now();
    this.lastMediaAt = now;
    this.bytes.add(n, now);
  }

  private drop(): void {
    this.droppedFrames++;
  }

  private bad(err: unknown): void {
    if (!(err instanceof MediaError)) throw err;
    this.badPayloads++;
    if (err.kind !== 'codec') this.droppedFrames++;
    this.options.onBadPayload?.(err.kind, err);
  }

  /**
   * Asked by every playback request (its target duration): built once per segmenter version (a
   * part, or the end), so thousands of held viewers do not each recompute the rates and codecs.
   */
  get manifestInfo(): ManifestInfo {
    const version = this.segmenter.version;
    if (this.info?.version !== version) this.info = { version, value: this.buildManifestInfo() };
    return this.info.value;
  }

  private buildManifestInfo(): ManifestInfo {
    return {
      partTargetMs: this.options.partTargetMs,
      segmentTargetMs: this.options.segmentTargetMs,
      codecs: this.codecs(),
      width: this.width,
      height: this.height,
      bandwidth: this.health().bitrateKbps * 1000,
    };
  }

  health(now = Date.now()): IngestHealth {
    const bits = this.bytes.total(now) * 8;
    return {
      bitrateKbps: Math.round(bits / RATE_WINDOW_MS),
      fps: Math.round((this.frames.total(now) * 1000) / RATE_WINDOW_MS * 10) / 10,
      droppedFrames: this.droppedFrames,
      badPayloads: this.badPayloads,
      lastSegmentMs: this.lastSegmentMs,
      width: this.width,
      height: this.height,
      codecs: this.codecs(),
    };
  }

  private codecs(): string {
    return [this.videoCodec, this.segmenter.audio ? this.audioCodec : ''].filter(Boolean).join(',');
  }
}
