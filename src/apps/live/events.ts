/**
 * @module apps/live/events
 * The stream events pushed on the hub (docs/live.md has an example of each). Viewers subscribe
 * to `live:<streamId>`; the streamer's dashboard to `livestats:<streamId>`, which carries the
 * same events plus a `stream_health` sample every few seconds; `live:lobby` carries every
 * stream's start and end for listing pages.
 */
import type { IngestHealth } from './broadcast.js';
import type { StreamView } from './types.js';

export const LOBBY_CHANNEL = 'live:lobby';
export const viewerChannel = (streamId: string) => `live:${streamId}`;
export const statsChannel = (streamId: string) => `livestats:${streamId}`;

export type LiveEvent =
  | { type: 'viewer_count_changed'; streamId: string; viewers: number; peak: number; at: string }
  | { type: 'stream_started'; streamId: string; stream: StreamView; at: string }
  | { type: 'stream_ended'; streamId: string; status: 'COMPLETED' | 'FAILED'; durationMs: number | null; peakViewers: number; reason: string | null; at: string }
  | { type: 'quality_changed'; streamId: string; width: number; height: number; codecs: string; bitrateKbps: number; at: string }
  | { type: 'stream_health'; streamId: string; viewers: number; health: IngestHealth; at: string };

export type LiveEventType = LiveEvent['type'];
