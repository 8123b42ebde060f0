/**
 * @module apps/live/abr/transcoder
 * The ABR ladder of one broadcast: one ffmpeg process fed the source's FLV tags on stdin (copied
 * as they arrive, before the remuxer releases them) and answering with one FLV stream per
 * rendition on its own pipe. Each answer goes through the same parser, segmenter and manifests
 * as ingest (a rendition is a `Broadcast` of its own), so renditions get LL-HLS parts, plain HLS
 * and DASH like the source, in `<rendition>/` beside it.
 *
 * Started by the source's first video config (the ladder depends on its height); never in the
 * way of the source: if ffmpeg falls behind by more than `maxQueuedBytes`, input is dropped
 * (until the next keyframe, so the decoder never sees a broken reference) and counted; if it
 * fails or exits, the renditions end and the source plays on.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import type { Logger } from '../../../core/logger.js';
import { Broadcast, type MediaTap, type RunningRendition } from '../broadcast.js';
import { FLV_AUDIO, FLV_VIDEO, FlvReader, flvHeader, flvTag } from '../media/flv-file.js';
import type { Segmenter } from '../media/segmenter.js';
import { ffmpegArgs, renditionsFor, type Rendition, type RenditionSpec } from './ladder.js';

export interface TranscoderOptions {
  specs: RenditionSpec[];
  preset: string;
  partTargetMs: number;
  segmentTargetMs: number;
  windowSegments: number;
  /** The source's segmenter: renditions follow its media-time origin and its cuts (aligned segments). */
  source: Segmenter;
  log: Logger;
  /** Input not given to ffmpeg because it fell behind (frames). */
  onDropped(frames: number): void;
  /** ffmpeg could not start, broke its output or exited early. */
  onFailed(reason: 'spawn' | 'exit' | 'format'): void;
  /** The number of renditions this ladder runs changed by `delta` (started, ended). */
  onRunningChange(delta: number): void;
  /** Default 8 MB: about 16 s of a 4 Mb/s source. */
  maxQueuedBytes?: number;
  /** Default `ffmpeg` on PATH. */
  ffmpegPath?: string;
}

export class Transcoder implements MediaTap {
  readonly renditions = new Map<string, RunningRendition>();
  private child: ChildProcess | null = null;
  private audioConfig: { timestamp: number; payload: Buffer } | null = null;
  private waitKeyframe = false;
  private done = false;
  private stderrTail = '';
  private running = 0;

  constructor(private readonly options: TranscoderOptions) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  videoConfig(timestamp: number, payload: Buffer, width: number, height: number): void {
    if (this.done) return;
    if (!this.child) {
      const renditions = renditionsFor(this.options.specs, width, height);
      if (renditions.length === 0) return; // the source is below every rung: nothing to make
      this.start(renditions);
      if (!this.child) return;
      this.write(flvHeader(true, true));
      this.write(flvTag(FLV_VIDEO, timestamp, payload));
      if (this.audioConfig) this.write(flvTag(FLV_AUDIO, this.audioConfig.timestamp, this.audioConfig.payload));
      return;
    }
    this.write(flvTag(FLV_VIDEO, timestamp, payload));
  }

  video(timestamp: number, payload: Buffer, keyframe: boolean): void {
    if (!this.child || this.done) return;
    if (this.waitKeyframe && !keyframe) return this.options.onDropped(1);
    if (this.behind()) {
      this.waitKeyframe = true;
      return this.options.onDropped(1);
    }
    this.waitKeyframe = false;
    this.write(flvTag(FLV_VIDEO, timestamp, payload));
  }

  audio(timestamp: number, payload: Buffer, config: boolean): void {
    if (config) this.audioConfig = { timestamp, payload: Buffer.from(payload) };
    if (!this.child || this.done) return;
    if (!config && this.behind()) return this.options.onDropped(1);
    this.write(flvTag(FLV_AUDIO, timestamp, payload));
  }

  /** The source ended: ffmpeg gets end of input, flushes, and the renditions end with it. */
  end(): void {
    if (this.done) return;
    this.done = true;
    if (!this.child) return;
    this.child.stdin?.end();
    // ffmpeg flushes within a moment; one that does not is not waited for.
    const child = this.child;
    setTimeout(() => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL'), 5000).unref();
  }

  private behind(): boolean {
    return (this.child?.stdin?.writableLength ?? 0) > (this.options.maxQueuedBytes ?? 8 * 1024 * 1024);
  }

  private write(tag: Buffer): void {
    this.child?.stdin?.write(tag);
  }

  private start(renditions: Rendition[]): void {
    const o = this.options;
    const child = spawn(o.ffmpegPath ?? 'ffmpeg', ffmpegArgs(renditions, o.preset), { stdio: ['pipe', 'ignore', 'pipe', ...renditions.map(() => 'pipe' as const)] });
    this.child = child;
    child.stdin!.on('error', () => {}); // EPIPE once ffmpeg is gone: its exit is what reports it
    child.stderr!.on('data', (d: Buffer) => (this.stderrTail = (this.stderrTail + d.toString()).slice(-2000)));
    child.once('error', (err) => {
      o.log.error({ err }, 'ABR ladder: ffmpeg did not start; the source plays alone');
      o.onFailed('spawn');
      this.stop();
    });
    // 'close', not 'exit': the renditions' pipes are drained by then, so nothing ffmpeg flushed is lost.
    child.once('close', (code, signal) => {
      if (!this.done) {
        o.log.error({ code, signal, stderr: this.stderrTail }, 'ABR ladder: ffmpeg exited during the broadcast; the source plays alone');
        o.onFailed('exit');
      }
      this.stop();
    });
    renditions.forEach((rendition, i) => {
      const media = new Broadcast({
        partTargetMs: o.partTargetMs,
        segmentTargetMs: o.segmentTargetMs,
        windowSegments: o.windowSegments,
        leader: o.source,
        onEnd: () => {},
      });
      this.renditions.set(rendition.name, { rendition, media });
      const reader = new FlvReader((tag) => {
        if (tag.type === FLV_VIDEO) media.onVideo(tag.timestamp, tag.payload);
        else if (tag.type === FLV_AUDIO) media.onAudio(tag.timestamp, tag.payload);
      });
      (child.stdio[3 + i] as Readable).on('data', (chunk: Buffer) => {
        try {
          reader.push(chunk);
        } catch (err) {
          o.log.error({ err, rendition: rendition.name }, 'ABR ladder: ffmpeg output is not FLV');
          o.onFailed('format');
          child.kill('SIGKILL');
        }
      });
    });
    o.log.info({ renditions: renditions.map((r) => `${r.width}x${r.height}@${r.kbps}k`), pid: child.pid }, 'ABR ladder started');
    this.setRunning(this.renditions.size);
  }

  private setRunning(n: number): void {
    if (n === this.running) return;
    this.options.onRunningChange(n - this.running);
    this.running = n;
  }

  /** ffmpeg is gone (or never came): the renditions' playlists end. */
  private stop(): void {
    this.done = true;
    for (const { media } of this.renditions.values()) if (!media.segmenter.ended) media.onEnd('unpublish');
    this.setRunning(0);
  }
}
