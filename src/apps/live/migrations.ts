/**
 * @module apps/live/migrations
 * The live schema: stream keys (only a SHA-256 of each key is stored), streams with their
 * lifecycle timestamps, viewer sessions and the per-stream time series the dashboard graphs.
 */
import { sql, type Kysely, type Migration } from 'kysely';

export const STREAM_STATUSES = ['PENDING', 'ACTIVE', 'COMPLETED', 'FAILED'] as const;
export type StreamStatus = (typeof STREAM_STATUSES)[number];

export const migrations: Record<string, Migration> = {
  '0001_live_schema': {
    async up(db: Kysely<unknown>) {
      await sql`
        create table live_stream_keys (
          id uuid primary key default gen_random_uuid(),
          owner text not null,
          label text not null default '',
          key_hash text not null unique,
          key_prefix text not null,
          created_at timestamptz(3) not null default now(),
          rotated_at timestamptz(3),
          revoked_at timestamptz(3)
        )`.execute(db);
      await sql`create index live_stream_keys_owner on live_stream_keys (owner, created_at desc)`.execute(db);
      await sql`
        create table live_streams (
          id uuid primary key default gen_random_uuid(),
          key_id uuid not null references live_stream_keys (id),
          owner text not null,
          title text not null,
          status text not null default 'PENDING' check (status in ('PENDING', 'ACTIVE', 'COMPLETED', 'FAILED')),
          ingest text not null default 'embedded',
          created_at timestamptz(3) not null default now(),
          started_at timestamptz(3),
          ended_at timestamptz(3),
          failure_reason text,
          peak_viewers integer not null default 0,
          codecs text not null default '',
          width integer not null default 0,
          height integer not null default 0
        )`.execute(db);
      await sql`create index live_streams_status on live_streams (status, created_at desc)`.execute(db);
      await sql`create index live_streams_key on live_streams (key_id, status)`.execute(db);
      await sql`
        create table live_viewer_sessions (
          id bigserial primary key,
          stream_id uuid not null references live_streams (id) on delete cascade,
          viewer text not null,
          transport text not null check (transport in ('ws', 'hls')),
          started_at timestamptz(3) not null default now(),
          ended_at timestamptz(3)
        )`.execute(db);
      await sql`create index live_viewer_sessions_stream on live_viewer_sessions (stream_id, started_at)`.execute(db);
      await sql`
        create table live_stream_samples (
          stream_id uuid not null references live_streams (id) on delete cascade,
          at timestamptz(3) not null,
          viewers integer not null,
          bitrate_kbps integer not null,
          fps real not null,
          dropped_frames integer not null,
          segment_ms integer,
          primary key (stream_id, at)
        )`.execute(db);
    },
  },
};
