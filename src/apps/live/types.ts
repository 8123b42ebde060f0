/**
 * @module apps/live/types
 * Row types of the live schema (Kysely) and the shapes the API returns.
 */
import type { ColumnType, Generated } from 'kysely';
import type { StreamStatus } from './migrations.js';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

export interface LiveDB {
  live_stream_keys: {
    id: Generated<string>;
    owner: string;
    label: string;
    key_hash: string;
    key_prefix: string;
    created_at: Timestamp;
    rotated_at: NullableTimestamp;
    revoked_at: NullableTimestamp;
  };
  live_streams: {
    id: Generated<string>;
    key_id: string;
    owner: string;
    title: string;
    status: ColumnType<StreamStatus, StreamStatus | undefined, StreamStatus>;
    ingest: ColumnType<string, string | undefined, string>;
    created_at: Timestamp;
    started_at: NullableTimestamp;
    ended_at: NullableTimestamp;
    failure_reason: string | null;
    peak_viewers: ColumnType<number, number | undefined, number>;
    codecs: ColumnType<string, string | undefined, string>;
    width: ColumnType<number, number | undefined, number>;
    height: ColumnType<number, number | undefined, number>;
  };
  live_viewer_sessions: {
    id: Generated<string>;
    stream_id: string;
    viewer: string;
    transport: 'ws' | 'hls';
    started_at: Timestamp;
    ended_at: NullableTimestamp;
  };
  live_stream_samples: {
    stream_id: string;
    at: Timestamp;
    viewers: number;
    bitrate_kbps: number;
    fps: number;
    dropped_frames: number;
    segment_ms: number | null;
  };
}

export interface StreamKeyView {
  id: string;
  owner: string;
  label: string;
  /** First characters of the key, to tell keys apart; the key itself is shown only once. */
  prefix: string;
  createdAt: string;
  rotatedAt: string | null;
  revokedAt: string | null;
}

export interface StreamView {
  id: string;
  keyId: string;
  owner: string;
  title: string;
  status: StreamStatus;
  ingest: string;
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
  durationMs: number | null;
  failureReason: string | null;
  viewers: number;
  peakViewers: number;
  codecs: string;
  width: number;
  height: number;
  /** `master` lists the source and the ABR renditions (just the source without a ladder). */
  playback: { hls: string; llhls: string; dash: string; master: string };
}

export interface SampleView {
  at: string;
  viewers: number;
  bitrateKbps: number;
  fps: number;
  droppedFrames: number;
  segmentMs: number | null;
}
