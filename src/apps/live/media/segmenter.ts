/**
 * @module apps/live/media/segmenter
 * Cuts one publisher's remuxed samples into CMAF parts and segments. A part is one fragment
 * (moof + mdat) of about `partTargetMs`; a segment is the parts from one keyframe up to the first
 * keyframe after `segmentTargetMs`, so every segment starts independently decodable. Each part
 * and segment is encoded once and kept in memory for a sliding window; LL-HLS lists the parts,
 * plain HLS and DASH list the segments (the same bytes: a segment is its parts concatenated).
 *
 * A video frame is held until the next one arrives, because its duration is the gap between
 * their decode times; that costs one frame interval (33 ms at 30 fps) of latency.
 */
import { SlabPool } from './slab-pool.js';
import { AUDIO_TRACK, VIDEO_TRACK, fragment, initSegment, type AudioTrackInfo, type Sample, type VideoTrackInfo } from './mp4.js';

export interface Part {
  msn: number;
  index: number;
  /** Seconds. */
  duration: number;
  independent: boolean;
  data: Buffer;
  /**
   * Keeps `data` from being reused (apps/live/media/slab-pool) while a response sends it;
   * call the returned function when the response is done.
   */
  hold(): () => void;
  /**
   * The same samples split by track (DASH lists video and audio apart; players do not demux
   * muxed DASH), encoded on first request and kept: without DASH viewers they cost nothing.
   */
  track(kind: 'video' | 'audio'): Buffer | null;
  /** Audio decode time of the part's first frame and its frame count (DASH audio timeline). */
  audioStart: number;
  audioFrames: number;
  /** Wall clock (ms) when the part became available, and when its first frame arrived over RTMP. */
  availableAt: number;
  firstArrivalAt: number;
  /**
   * The held requests this part released (`Segmenter.wait`) and how long answering them took (ms
   * from the start of the release): `early` ones (blocking playlists) first, then all. The server's
   * own share of a blocking reload's latency, whatever the viewers' side does; unset until it
   * releases any.
   */
  released?: { early: number; earlyMs: number; all: number; allMs: number };
}

export interface Segment {
  msn: number;
  parts: Part[];
  /** Media time of the first video sample (90 kHz). */
  startTime: number;
  /** Seconds; final once the segment is complete (listed in `segments`). */
  duration: number;
  /** Wall clock (ms) of the segment's first sample as the publisher sent it (program date time). */
  wallClockStart: number;
  /** The whole segment as one file (its parts concatenated), built on first request and kept. */
  file(kind: 'muxed' | 'video' | 'audio'): Buffer | null;
  availableAt: number;
}

function memo<K extends string, V>(make: (k: K) => V): (k: K) => V {
  const cache = new Map<K, V>();
  return (k) => {
    if (!cache.has(k)) cache.set(k, make(k));
    return cache.get(k)!;
  };
}

export interface SegmenterOptions {
  partTargetMs: number;
  segmentTargetMs: number;
  /** Complete segments kept for playlists and late fetches. */
  windowSegments: number;
  onPart?(part: Part, encodeMs: number): void;
  onSegment?(segment: Segment): void;
  /**
   * The segmenter of the stream this one is made from (an ABR rendition's source): this one adopts
   * its media-time origin (`alignedOrigin`) and cuts segments at the keyframes where it cut
   * (`cutAt`), so both timelines, program date times, DASH times and segment boundaries, line
   * up. Unset: origin at the first keyframe, cuts by `segmentTargetMs`.
   */
  leader?: Segmenter;
}

/** How often held requests are checked for their timeout (`Segmenter.wait`). */
const SWEEP_MS = 100;

/** What held requests wait for: a number where the caller can make one (no string per request), else a string. */
export type WaitKey = number | string;

interface WaitGroup {
  ready: () => boolean;
  waiters: { done: (ok: boolean) => void; deadline: number }[];
}

interface PendingVideo {
  dtsMs: number;
  ctsMs: number;
  keyframe: boolean;
  data: Buffer;
  release: (() => void) | undefined;
  arrivedAt: number;
}

export class Segmenter {
  video: VideoTrackInfo | null = null;
  audio: AudioTrackInfo | null = null;
  init: Buffer | null = null;
  initVideo: Buffer | null = null;
  initAudio: Buffer | null = null;
  readonly segments: Segment[] = [];
  ended = false;
  /** Bumped whenever a part is written or the stream ends: playlists rendered for it stay valid until then. */
  version = 0;
  maxSegmentSeconds = 0;
  /** Wall clock (ms) at media time 0 (DASH availabilityStartTime). */
  originWallClock = 0;

  private originMs: number | null = null;
  private pending: PendingVideo | null = null;
  private current: Segment | null = null;
  private partVideo: Sample[] = [];
  private partVideoStart = 0;
  private segmentStartMs: number | null = null;
  private partFirstArrival = 0;
  private lastDurationMs = 33;
  private partDurationMs = 0;
  private partIndependent = false;
  private audioQueue: { dtsMs: number; data: Buffer; release: (() => void) | undefined }[] = [];
  private audioNextTime: number | null = null;
  private sequence = 1;
  private nextMsn = 0;
  /** Held requests by what they wait for (`wait`): early ones first, then the rest. */
  private readonly waiting: [Map<WaitKey, WaitGroup>, Map<WaitKey, WaitGroup>] = [new Map(), new Map()];
  private sweeper: NodeJS.Timeout | null = null;
  /** The last keyframes' times (publisher ms), for `alignedOrigin`. */
  private readonly recentKeyframes: number[] = [];
  /** Media times (ms) of the last segment starts, and of the last keyframe seen, for `cutAt`. */
  private readonly recentCuts: number[] = [];
  private lastKeyframeMedia = -Infinity;
  /** Part memory, reused once parts leave the window; and each part's window hold. */
  readonly pool = new SlabPool();
  /** Window holds of the parts of `segments` (same order) and of the open segment. */
  private readonly windowHolds: (() => void)[][] = [];
  private openHolds: (() => void)[] = [];

  constructor(private readonly options: SegmenterOptions) {}

  /** Media time 0 in the publisher's milliseconds and on the wall clock; null before the first keyframe. */
  /**
   * The origin another segmenter should adopt for a stream made from this one's (an ABR
   * rendition) whose first keyframe is at `keyframeMs`: this origin, shifted by the keyframe's
   * distance to the nearest of this stream's recent keyframes when that is under `toleranceMs`.
   * A transcoder's output timestamps can differ from its input's by a few milliseconds (frame-rate
   * rounding); the shift makes the matching keyframes the same media time, so segments align exactly.
   */
  alignedOrigin(keyframeMs: number, toleranceMs = 50): { ms: number; wallClock: number } | null {
    if (this.originMs === null) return null;
    let best = Infinity;
    for (const k of this.recentKeyframes) if (Math.abs(keyframeMs - k) < Math.abs(best)) best = keyframeMs - k;
    const shift = Math.abs(best) <= toleranceMs ? Math.round(best) : 0;
    return { ms: this.originMs + shift, wallClock: this.originWallClock };
  }

  /**
   * Whether this stream started a segment at media time `mediaMs` (within `toleranceMs`): true,
   * false (it passed that time without a cut there), or null (it has not got that far yet).
   */
  cutAt(mediaMs: number, toleranceMs = 50): boolean | null {
    if (this.recentCuts.some((c) => Math.abs(c - mediaMs) <= toleranceMs)) return true;
    // Its keyframe at that time (if any) is behind it: had it cut there, the cut would be listed.
    return this.lastKeyframeMedia >= mediaMs - toleranceMs ? false : null;
  }

  private cut(dtsMs: number): void {
    this.recentCuts.push(dtsMs - this.originMs!);
    if (this.recentCuts.length > 32) this.recentCuts.shift();
  }

  /** `release` frees `data`'s staging memory; called once the frame is in a fragment (or skipped). */
  pushVideo(dtsMs: number, ctsMs: number, keyframe: boolean, data: Buffer, release?: () => void): void {
    if (!this.video) return release?.();
    if (this.originMs === null) {
      if (!keyframe) return release?.(); // a stream must start on a keyframe
      const shared = this.options.leader?.alignedOrigin(dtsMs);
      const adopt = shared && shared.ms <= dtsMs;
      this.originMs = adopt ? shared.ms : dtsMs;
      this.originWallClock = adopt ? shared.wallClock : Date.now();
      this.cut(dtsMs);
      this.init = initSegment(this.video, this.audio);
      this.initVideo = initSegment(this.video, null);
      this.initAudio = this.audio ? initSegment(null, this.audio) : null;
    }
    if (keyframe) {
      this.recentKeyframes.push(dtsMs);
      if (this.recentKeyframes.length > 32) this.recentKeyframes.shift();
      this.lastKeyframeMedia = dtsMs - this.originMs!;
    }
    const p = this.pending;
    if (p) {
      const durationMs = Math.max(1, dtsMs - p.dtsMs);
      if (p.keyframe && this.partVideo.length === 0) this.partIndependent = true;
      if (this.partVideo.length === 0) {
        this.partVideoStart = p.dtsMs;
        this.partFirstArrival = p.arrivedAt;
      }
      this.partVideo.push({ data: p.data, release: p.release, duration: Math.round(durationMs * 90), cts: Math.round(p.ctsMs * 90), keyframe: p.keyframe });
      this.partDurationMs += durationMs;
      if (this.segmentStartMs === null) this.segmentStartMs = this.partVideoStart;
      this.lastDurationMs = durationMs;
      // A follower cuts where its leader did; its own rule only where the leader has not decided yet.
      const follow = keyframe && this.options.leader ? this.options.leader.cutAt(dtsMs - this.originMs!) : null;
      if (keyframe && (follow ?? dtsMs - this.segmentStartMs >= this.options.segmentTargetMs)) {
        this.closePart(dtsMs, true);
        this.cut(dtsMs);
      }
      else if (this.partDurationMs + durationMs > this.options.partTargetMs) this.closePart(dtsMs, false);
    }
    this.pending = { dtsMs, ctsMs, keyframe, data, release, arrivedAt: Date.now() };
  }

  pushAudio(dtsMs: number, data: Buffer, release?: () => void): void {
    if (!this.audio || this.originMs === null || dtsMs < this.originMs || !this.init) return release?.();
    this.audioQueue.push({ dtsMs, data, release });
  }

  /** The publisher stopped: flush what is held and mark the playlist ended. */
  finish(): void {
    const p = this.pending;
    if (p && this.originMs !== null) {
      if (this.partVideo.length === 0) {
        this.partVideoStart = p.dtsMs;
        this.partIndependent = p.keyframe;
        this.partFirstArrival = p.arrivedAt;
      }
      this.partVideo.push({ data: p.data, release: p.release, duration: Math.round(this.lastDurationMs * 90), cts: Math.round(p.ctsMs * 90), keyframe: p.keyframe });
      this.partDurationMs += this.lastDurationMs;
      this.pending = null;
      this.closePart(p.dtsMs + this.lastDurationMs, true);
    }
    this.ended = true;
    this.version++;
    this.wake();
  }

  /**
   * Calls `done(ready())` once `ready()` holds (asked after every part), the stream ends, or
   * `timeoutMs` has passed (give or take `SWEEP_MS`). Requests that wait for the same thing share a
   * `key` (every viewer at the live edge asks for the same next part): `ready` is asked once per
   * key and part, and the waiters of a key are answered together, synchronously, in the order
   * they came — no promise, closure or timer per waiter, which at thousands of held requests
   * were a large share of each answer's cost and of what every young-generation GC copied.
   * `early` waiters (playlists: small, and they tell each player what to fetch next) are answered
   * before the others (parts) when the same part releases both.
   */
  wait(key: WaitKey, ready: () => boolean, timeoutMs: number, done: (ok: boolean) => void, early = false): void {
    if (this.ended || ready()) return done(ready());
    const groups = early ? this.waiting[0] : this.waiting[1];
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { ready, waiters: [] }));
    group.waiters.push({ done, deadline: Date.now() + timeoutMs });
    if (!this.sweeper) {
      this.sweeper = setInterval(() => this.expire(), SWEEP_MS);
      this.sweeper.unref();
    }
  }

  /** Requests waiting (apps/live/media/playback), for tests and health. */
  get waiterCount(): number {
    let n = 0;
    for (const groups of this.waiting) for (const g of groups.values()) n += g.waiters.length;
    return n;
  }

  /**
   * Media milliseconds from the newest video frame to the earliest time a frame can close the open
   * part: one frame before the part's start + the part target (a frame closes it when the part
   * would pass its target with that frame's duration), or the keyframe that ends the segment: the
   * first at or after the segment's start + the segment target, foretold by the last GOP (none
   * known yet: that time itself; overdue: 0). A live publisher sends media in real time, so this is how
   * long its next frames can wait unread without delaying a part (apps/live/rtmp/server reads a
   * publisher's socket then, not 25 times a second). 0 when unknown (no video yet). For a stream
   * cut by its own rule, as a publisher's is (a follower's cuts are its leader's).
   */
  get msUntilNextCut(): number {
    const p = this.pending;
    if (!p || this.originMs === null) return 0;
    const start = this.partVideo.length ? this.partVideoStart : p.dtsMs;
    const due = start + this.options.partTargetMs - this.lastDurationMs;
    const cutFrom = (this.segmentStartMs ?? p.dtsMs) + this.options.segmentTargetMs;
    const before = this.recentKeyframes.at(-2);
    const last = this.recentKeyframes.at(-1);
    const gop = before !== undefined && last !== undefined ? last - before : 0;
    const keyframeDue = last !== undefined && gop > 0 ? last + Math.max(1, Math.ceil((cutFrom - last) / gop)) * gop : cutFrom;
    return Math.max(0, Math.min(due, keyframeDue) - p.dtsMs);
  }

  /** The next part the playlist will announce (msn, index). */
  get nextPart(): { msn: number; index: number } {
    const c = this.current;
    return c ? { msn: c.msn, index: c.parts.length } : { msn: this.nextMsn, index: 0 };
  }

  findPart(msn: number, index: number): Part | undefined {
    return this.segments.find((s) => s.msn === msn)?.parts[index] ?? (this.current?.msn === msn ? this.current.parts[index] : undefined);
  }

  findSegment(msn: number): Segment | undefined {
    return this.segments.find((s) => s.msn === msn);
  }

  /** The segment being filled (its parts are listed by LL-HLS). */
  get open(): Segment | null {
    return this.current;
  }

  private closePart(endDtsMs: number, endSegment: boolean): void {
    if (this.partVideo.length === 0 || this.originMs === null) return;
    const started = performance.now();
    const videoBase = Math.round((this.partVideoStart - this.originMs) * 90);
    if (!this.current) {
      const parts: Part[] = [];
      const hasAudio = this.audio !== null;
      const file = memo((kind: 'muxed' | 'video' | 'audio') => (kind === 'audio' && !hasAudio ? null : Buffer.concat(parts.map((p) => (kind === 'muxed' ? p.data : (p.track(kind) ?? Buffer.alloc(0)))))));
      this.current = { msn: this.nextMsn++, parts, startTime: videoBase, duration: 0, wallClockStart: this.originWallClock + (this.partVideoStart - this.originMs), file, availableAt: 0 };
    }
    const videoRun = { trackId: VIDEO_TRACK, baseDecodeTime: videoBase, samples: this.partVideo };
    const audioRun = this.audio ? this.takeAudio(endDtsMs) : null;
    const sequence = this.sequence++;
    const slab: { taken?: ReturnType<SlabPool['allocate']> } = {};
    const data = fragment(sequence, audioRun ? [videoRun, audioRun] : [videoRun], (size) => (slab.taken = this.pool.allocate(size)).lease.data);
    const { lease, releaseWindow } = slab.taken!;
    const part: Part = {
      msn: this.current.msn,
      index: this.current.parts.length,
      duration: this.partDurationMs / 1000,
      independent: this.partIndependent,
      data,
      hold: lease.hold,
      track: memo((kind: 'video' | 'audio') => (kind === 'video' ? fragment(sequence, [videoRun]) : audioRun ? fragment(sequence, [audioRun]) : null)),
      audioStart: audioRun?.baseDecodeTime ?? 0,
      audioFrames: audioRun?.samples.length ?? 0,
      availableAt: Date.now(),
      firstArrivalAt: this.partFirstArrival,
    };
    this.openHolds.push(releaseWindow);
    this.current.parts.push(part);
    this.current.duration += part.duration;
    this.partVideo = [];
    this.partDurationMs = 0;
    this.partIndependent = false;
    this.version++;
    this.options.onPart?.(part, performance.now() - started);
    if (endSegment) this.closeSegment();
    this.wake();
  }

  private takeAudio(endDtsMs: number): { trackId: number; baseDecodeTime: number; samples: Sample[] } {
    const rate = this.audio!.sampleRate;
    const take = this.audioQueue.filter((a) => a.dtsMs < endDtsMs);
    this.audioQueue = this.audioQueue.filter((a) => a.dtsMs >= endDtsMs);
    if (this.audioNextTime === null && take.length > 0) this.audioNextTime = Math.round(((take[0]!.dtsMs - this.originMs!) * rate) / 1000);
    const base = this.audioNextTime ?? 0;
    // AAC frames are 1024 samples each; counting them keeps the audio clock exact where the
    // millisecond FLV timestamps would drift.
    const samples = take.map((a) => ({ data: a.data, release: a.release, duration: 1024, cts: 0, keyframe: true }));
    if (this.audioNextTime !== null) this.audioNextTime += 1024 * samples.length;
    return { trackId: AUDIO_TRACK, baseDecodeTime: base, samples };
  }

  private closeSegment(): void {
    const s = this.current;
    if (!s) return;
    this.current = null;
    s.availableAt = Date.now();
    this.segmentStartMs = null;
    this.maxSegmentSeconds = Math.max(this.maxSegmentSeconds, s.duration);
    this.segments.push(s);
    this.windowHolds.push(this.openHolds);
    this.openHolds = [];
    while (this.segments.length > this.options.windowSegments) {
      this.segments.shift();
      for (const release of this.windowHolds.shift()!) release();
    }
    this.options.onSegment?.(s);
  }

  private wake(): void {
    const started = performance.now();
    const counts = [0, 0];
    let earlyMs = 0;
    for (let i = 0; i < this.waiting.length; i++) {
      const groups = this.waiting[i]!;
      for (const [key, group] of groups) {
        if (!this.ended && !group.ready()) continue;
        groups.delete(key);
        const ok = group.ready();
        counts[i]! += group.waiters.length;
        for (const w of group.waiters) w.done(ok);
      }
      if (i === 0) earlyMs = performance.now() - started;
    }
    const all = counts[0]! + counts[1]!;
    const part = all ? (this.current ?? this.segments.at(-1))?.parts.at(-1) : undefined;
    if (part) part.released = { early: counts[0]!, earlyMs, all, allMs: performance.now() - started };
  }

  /** Answers the waiters whose time is up (not ready: `done(false)` unless it became so). */
  private expire(): void {
    const now = Date.now();
    let left = 0;
    for (const groups of this.waiting)
      for (const [key, group] of groups) {
        const due = group.waiters.filter((w) => w.deadline <= now);
        if (due.length) {
          group.waiters = group.waiters.filter((w) => w.deadline > now);
          if (group.waiters.length === 0) groups.delete(key);
          const ok = group.ready();
          for (const w of due) w.done(ok);
        }
        left += group.waiters.length;
      }
    if (left === 0 && this.sweeper) {
      clearInterval(this.sweeper);
      this.sweeper = null;
    }
  }
}
